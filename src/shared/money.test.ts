import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  formatMinor,
  isCurrency,
  jsonNumberToMinor,
  MoneyFormatError,
  parseMajorToMinor,
  parseMinor,
} from './money.js';

describe('money', () => {
  it('knows zero-, two- and three-decimal currencies', () => {
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('EUR')).toBe(2);
    expect(currencyExponent('KWD')).toBe(3);
    expect(() => currencyExponent('eur')).toThrow(MoneyFormatError);
  });

  it('accepts ISO 4217 payment currencies only, with their exact minor units', () => {
    for (const [code, exp] of [
      ['BIF', 0],
      ['CLP', 0],
      ['ISK', 0],
      ['KRW', 0],
      ['VND', 0],
      ['XAF', 0],
      ['XOF', 0],
      ['XPF', 0],
      ['BHD', 3],
      ['IQD', 3],
      ['JOD', 3],
      ['LYD', 3],
      ['OMR', 3],
      ['TND', 3],
      ['HUF', 2],
      ['IDR', 2],
      ['COP', 2],
      ['MGA', 2],
      ['CHF', 2],
      ['GBP', 2],
      ['BRL', 2],
      ['SAR', 2],
      ['VED', 2],
      ['XCG', 2],
      ['ZWG', 2],
      ['SLE', 2],
    ] as const) {
      expect(isCurrency(code), code).toBe(true);
      expect(currencyExponent(code), code).toBe(exp);
    }
    // "No currency", test codes, metals, units of account, fund codes, withdrawn codes, and no code at all.
    for (const code of [
      'XXX',
      'XTS',
      'XAU',
      'XDR',
      'XSU',
      'CLF',
      'UYW',
      'UYI',
      'USN',
      'HRK',
      'ZWL',
      'BTC',
      'ABC',
    ]) {
      expect(isCurrency(code), code).toBe(false);
      expect(() => currencyExponent(code), code).toThrow(
        `currency "${code}" is not an ISO 4217 payment currency`,
      );
    }
    expect(() => parseMajorToMinor('1.00', 'XXX')).toThrow(/"XXX" is not an ISO 4217 payment currency/);
    expect(() => jsonNumberToMinor(1, 'BTC')).toThrow(/"BTC" is not an ISO 4217 payment currency/);
    expect(() => currencyExponent('toString')).toThrow('invalid currency code "toString"');
    expect(isCurrency('constructor')).toBe(false);
  });

  it('parses decimal text exactly', () => {
    expect(parseMajorToMinor('92.00', 'EUR')).toBe(9200);
    expect(parseMajorToMinor('-10.5', 'EUR')).toBe(-1050);
    expect(parseMajorToMinor('0.07', 'EUR')).toBe(7);
    expect(parseMajorToMinor('56', 'JPY')).toBe(56);
    expect(parseMajorToMinor('1.234', 'KWD')).toBe(1234);
    expect(parseMajorToMinor('1.234,56', 'EUR', { decimalSeparator: ',', groupSeparator: '.' })).toBe(123456);
    expect(parseMajorToMinor('-0.00', 'EUR')).toBe(0);
    expect(Object.is(parseMajorToMinor('-0.00', 'EUR'), -0)).toBe(false);
  });

  it('refuses more decimals than the currency has, instead of rounding', () => {
    expect(() => parseMajorToMinor('1.005', 'EUR')).toThrow(/more decimals/);
    expect(() => parseMajorToMinor('56.5', 'JPY')).toThrow(/more decimals/);
    expect(parseMajorToMinor('56.00', 'JPY', { allowTrailingZeroDecimals: true })).toBe(56);
    expect(() => parseMajorToMinor('56.01', 'JPY', { allowTrailingZeroDecimals: true })).toThrow(
      /more decimals/,
    );
  });

  it('refuses a decimal separator without digits on both sides, whichever side is missing', () => {
    for (const [text, opts] of [
      ['5.', {}],
      ['.50', {}],
      ['-5.', {}],
      ['+.5', {}],
      ['5,', { decimalSeparator: ',' }],
      [',50', { decimalSeparator: ',' }],
    ] as const)
      expect(() => parseMajorToMinor(text, 'EUR', opts), text).toThrow(
        `amount "${text}" needs digits on both sides of its decimal separator`,
      );
    expect(() => parseMajorToMinor('.', 'EUR')).toThrow('amount "." is not a decimal number');
    expect(parseMajorToMinor('5.0', 'EUR')).toBe(500);
    expect(parseMajorToMinor('0.50', 'EUR')).toBe(50);
  });

  it('refuses what is not a number', () => {
    for (const bad of ['', 'abc', '1e3', '1.2.3', '--1', '1,00'])
      expect(() => parseMajorToMinor(bad, 'EUR')).toThrow(MoneyFormatError);
    expect(() => parseMajorToMinor('99999999999999999', 'EUR')).toThrow(/too large/);
  });

  it('converts JSON numbers through their shortest decimal text, never by float multiplication', () => {
    expect(jsonNumberToMinor(100.23, 'USD')).toBe(10023);
    expect(jsonNumberToMinor(1.1, 'USD')).toBe(110); // 1.1 * 100 = 110.00000000000001 as floats
    expect(jsonNumberToMinor(0.29, 'USD')).toBe(29); // 0.29 * 100 = 28.999999999999996
    expect(jsonNumberToMinor(5e2, 'JPY')).toBe(500);
    expect(() => jsonNumberToMinor(1e21, 'JPY')).toThrow(/too large/);
    expect(() => jsonNumberToMinor(1e-7, 'USD')).toThrow(/more decimals/);
    expect(() => jsonNumberToMinor(Number.NaN, 'USD')).toThrow(MoneyFormatError);
  });

  it('parses minor-unit text and formats back', () => {
    expect(parseMinor('-1000')).toBe(-1000);
    expect(() => parseMinor('10.5')).toThrow(MoneyFormatError);
    expect(formatMinor(9200, 'EUR')).toBe('92.00');
    expect(formatMinor(-5, 'EUR')).toBe('-0.05');
    expect(formatMinor(56, 'JPY')).toBe('56');
    expect(formatMinor(1234, 'KWD')).toBe('1.234');
  });
});
