// The small pure pieces of the workbook: cell conversion, formats, masking, ages.
import { describe, expect, it } from 'vitest';
import { agingBucket, businessCalendar } from '../../src/report/business-days.js';
import { date, datetime, int, MAX_CELL_TEXT, money, moneyFormat, toExcel } from '../../src/report/cells.js';
import { maskCardNumbers } from '../../src/shared/card-mask.js';
import { columnLetter, fitWidths } from '../../src/report/sheet-writer.js';

describe('cells', () => {
  it('keeps text as text, whatever it looks like, and cuts it at Excel’s cell limit', () => {
    expect(toExcel('=1+2')).toEqual({ value: '=1+2' });
    expect(toExcel('1012411211459019141')).toEqual({ value: '1012411211459019141' });
    const long = toExcel('x'.repeat(MAX_CELL_TEXT + 10)).value as string;
    expect(long).toHaveLength(MAX_CELL_TEXT);
    expect(long.endsWith('…')).toBe(true);
  });

  it('writes money in major units with the currency’s decimals, exactly', () => {
    expect(toExcel(money(9200, 'EUR'))).toEqual({ value: 92, numFmt: '#,##0.00' });
    expect(toExcel(money(-1, 'EUR'))).toEqual({ value: -0.01, numFmt: '#,##0.00' });
    expect(toExcel(money(5000, 'JPY'))).toEqual({ value: 5000, numFmt: '#,##0' });
    expect(toExcel(money(1234, 'KWD'))).toEqual({ value: 1.234, numFmt: '#,##0.000' });
    expect(toExcel(money(123456789012345, 'EUR')).value).toBe(1234567890123.45);
    expect(toExcel(money(null, 'EUR'))).toEqual({ value: null });
    expect(moneyFormat(null)).toBe('#,##0.00');
    expect(moneyFormat('BHD')).toBe('#,##0.000');
  });

  it('writes dates and wall-clock times as real dates', () => {
    expect(toExcel(date('2026-11-16'))).toEqual({
      value: new Date('2026-11-16T00:00:00Z'),
      numFmt: 'yyyy-mm-dd',
    });
    expect(toExcel(datetime('2026-11-20T16:00:00'))).toEqual({
      value: new Date('2026-11-20T16:00:00Z'),
      numFmt: 'yyyy-mm-dd hh:mm:ss',
    });
    expect(toExcel(int(3))).toEqual({ value: 3, numFmt: '#,##0' });
    expect(toExcel(date(null))).toEqual({ value: null });
  });
});

describe('sheet helpers', () => {
  it('names columns like Excel', () => {
    expect([1, 17, 26, 27, 52, 703].map(columnLetter)).toEqual(['A', 'Q', 'Z', 'AA', 'AZ', 'AAA']);
  });

  it('fits small sheets’ columns to their longest text, within a cap', () => {
    const spec = {
      name: 'S',
      columns: [
        { header: 'A', width: 5 },
        { header: 'B', width: 5 },
      ],
    };
    const fitted = fitWidths(
      spec,
      [
        ['PAYUNITY_SETTLEMENT_8ac7a4c78e9b2f1d_20261119.csv', { int: 1 }],
        ['x'.repeat(200), null],
      ],
      80,
    );
    expect(fitted.columns.map((c) => c.width)).toEqual([80, 5]);
  });
});

describe('masking (the loader’s, reused on the Rejected lines sheet)', () => {
  it('masks Luhn-valid card numbers only', () => {
    expect(maskCardNumbers('card 4111111111111111 ok')).toBe('card 411111******1111 ok');
    expect(maskCardNumbers('id 1012411211459019141')).toBe('id 1012411211459019141'); // fails Luhn: an id, kept
    expect(maskCardNumbers('5555555555554444;4012888888881881')).toBe('555555******4444;401288******1881');
  });
});

describe('ages', () => {
  it('counts business days to the as-of date, skipping weekends and holidays', () => {
    const cal = businessCalendar(['2026-11-18']);
    expect(cal.between('2026-11-16', '2026-11-23')).toBe(4); // Tue, (Wed holiday), Thu, Fri, Mon
    expect(cal.between('2026-11-20', '2026-11-23')).toBe(1); // Friday to Monday
    expect(cal.between('2026-11-21', '2026-11-23')).toBe(1); // Saturday to Monday
    expect(cal.between('2026-11-23', '2026-11-23')).toBe(0);
    expect(cal.between('2026-11-24', '2026-11-23')).toBe(0); // a date after as-of is not negative
    expect([0, 1, 2, 3, 4, 7, 8, 40].map(agingBucket)).toEqual([
      '0-1',
      '0-1',
      '2-3',
      '2-3',
      '4-7',
      '4-7',
      '8+',
      '8+',
    ]);
  });
});
