// Small pure pieces: date patterns, card masking, record splitting, unsafe names.
import { describe, expect, it } from 'vitest';
import { compilePattern, parseDate, parseTimestamp } from '../../src/settlement/datetime.js';
import { luhnValid, maskCardNumbers } from '../../src/shared/card-mask.js';
import { MAX_LINE_CHARS, RecordSplitter, type RawRecord } from '../../src/settlement/records.js';
import { printableName, unsafeNameReason } from '../../src/sources/names.js';
import { sshFingerprint } from '../../src/sources/sftp.js';

describe('date patterns', () => {
  it('parses Unicode-token dates exactly and refuses impossible ones', () => {
    const p = compilePattern('dd.MM.yyyy');
    expect(parseDate(p, '21.11.2026')).toBe('2026-11-21');
    expect(parseDate(p, '29.02.2028')).toBe('2028-02-29');
    expect(parseDate(p, '29.02.2026')).toBeNull();
    expect(parseDate(p, '31.04.2026')).toBeNull();
    expect(parseDate(p, '1.11.2026')).toBeNull();
    expect(parseDate(p, '21.11.2026 ')).toBeNull();
    expect(parseDate(compilePattern('d/M/yy'), '1/2/26')).toBe('2026-02-01');
    expect(parseDate(compilePattern("yyyy'年'MM'月'dd'日'"), '2026年11月21日')).toBe('2026-11-21');
  });

  it('reads offsets, optional fractions, and naive times in a zone across DST', () => {
    const iso = compilePattern("yyyy-MM-dd'T'HH:mm:ss[.S]X");
    expect(parseTimestamp(iso, '2026-11-20T09:15:02Z', 'UTC')).toBe(Date.parse('2026-11-20T09:15:02Z'));
    expect(parseTimestamp(iso, '2026-11-20T09:15:02.123456Z', 'UTC')).toBe(
      Date.parse('2026-11-20T09:15:02.123Z'),
    );
    expect(parseTimestamp(iso, '2026-11-20T09:15:02+01:00', 'UTC')).toBe(Date.parse('2026-11-20T08:15:02Z'));
    expect(parseTimestamp(iso, '2026-11-20T25:15:02Z', 'UTC')).toBeNull();
    expect(parseTimestamp(iso, '2026-11-20T09:15:02-18:00', 'UTC')).toBe(Date.parse('2026-11-21T03:15:02Z'));
    expect(parseTimestamp(iso, '2026-11-20T09:15:02+99:00', 'UTC')).toBeNull();
    expect(parseTimestamp(iso, '2026-11-20T09:15:02+01:60', 'UTC')).toBeNull();
    const naive = compilePattern('yyyy-MM-dd HH:mm:ss');
    // Years before 1000 are refused as for dates (Date.UTC would read 0001 as 1901).
    expect(parseTimestamp(naive, '0001-01-01 10:00:00', 'UTC')).toBeNull();
    expect(parseTimestamp(naive, '0000-01-01 10:00:00', 'Europe/Berlin')).toBeNull();
    expect(parseTimestamp(naive, '1000-01-01 10:00:00', 'UTC')).toBe(Date.parse('1000-01-01T10:00:00Z'));
    expect(parseTimestamp(naive, '2026-03-29 01:30:00', 'Europe/Berlin')).toBe(
      Date.parse('2026-03-29T00:30:00Z'),
    );
    expect(parseTimestamp(naive, '2026-03-29 03:30:00', 'Europe/Berlin')).toBe(
      Date.parse('2026-03-29T01:30:00Z'),
    );
    expect(parseTimestamp(naive, '2026-10-25 12:00:00', 'America/New_York')).toBe(
      Date.parse('2026-10-25T16:00:00Z'),
    );
  });

  it('refuses unsupported tokens at configuration time', () => {
    expect(() => compilePattern('yyyy-MM-dd EEE')).toThrow(/unsupported token "EEE"/);
    expect(() => compilePattern('HH:mm')).toThrow(/needs a year, month and day/);
  });
});

describe('card masking', () => {
  it('masks Luhn-valid 13–19 digit numbers, grouped or not, and leaves other numbers alone', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(maskCardNumbers('a;4111111111111111;b')).toBe('a;411111******1111;b');
    expect(maskCardNumbers('pan 4111-1111-1111-1111 end')).toBe('pan 411111******1111 end');
    expect(maskCardNumbers('x 378282246310005,y')).toBe('x 378282******0005,y'); // 15-digit Amex
    expect(maskCardNumbers('ref 4111 1111 1111 1111 2026')).toBe('ref 411111******1111 2026');
    expect(maskCardNumbers('id 4111111111111112;')).toBe('id 4111111111111112;');
    expect(maskCardNumbers('19-digit id 1012411211459019142')).toBe('19-digit id 1012411211459019142');
    expect(maskCardNumbers('22 digits 4111111111111111000000')).toBe('22 digits 4111111111111111000000');
    expect(maskCardNumbers('amex 3782-822463-10005.')).toBe('amex 378282******0005.'); // 4-6-5
    expect(maskCardNumbers('unionpay 622202 1234567890128')).toBe('unionpay 622202******0128'); // 6-13
    // Date + sequence references pass the Luhn check one time in ten; grouped 8 + 7, they are no card.
    expect(luhnValid('202611180000309')).toBe(true);
    expect(maskCardNumbers('PU-20261118-0000309')).toBe('PU-20261118-0000309');
    expect(maskCardNumbers('ref 2026-11-18 4111111111111111')).toBe('ref 2026-11-18 411111******1111');
    expect(maskCardNumbers('2026-11-21;8a82944a4cc25ebf014cc2c782423202;92.00')).toBe(
      '2026-11-21;8a82944a4cc25ebf014cc2c782423202;92.00',
    );
  });
});

describe('record splitting', () => {
  function split(text: string[], delimiter = ',') {
    const out: RawRecord[] = [];
    const s = new RecordSplitter(delimiter, '"', (r) => out.push(r));
    for (const t of text) s.push(t);
    s.end();
    return out;
  }

  it('numbers records by the line they start on, across chunk borders, CRLF and quoted newlines', () => {
    const recs = split(['a,b\r\n1,"x', '\ny",3\r\n\r\n4,', '5\n"un,closed']);
    expect(recs.map((r) => [r.lineNo, r.raw, r.fields])).toEqual([
      [1, 'a,b', ['a', 'b']],
      [2, '1,"x\ny",3', ['1', 'x\ny', '3']],
      [5, '4,5', ['4', '5']],
      [6, '"un,closed', null],
    ]);
    expect(recs[3]!.error).toMatch(/quoted field not closed/);
  });

  it('rejects a line longer than MAX_LINE_CHARS without keeping it, and numbers the lines after it', () => {
    const chunk = 'x'.repeat(1 << 18);
    const long = Array.from({ length: (MAX_LINE_CHARS >> 18) * 3 }, () => chunk);
    const recs = split(['a,b\n', ...long, '\n1,2\n', 'y'.repeat(MAX_LINE_CHARS + 1), '\n3,4']);
    expect(recs.map((r) => [r.lineNo, r.raw.length, r.fields])).toEqual([
      [1, 3, ['a', 'b']],
      [2, 1001, null],
      [3, 3, ['1', '2']],
      [4, 1001, null],
      [5, 3, ['3', '4']],
    ]);
    expect(recs[1]!.error).toBe(`line longer than ${MAX_LINE_CHARS} characters: not read`);
  });

  it('keeps no number that the cut of an overlong line splits, so that no card number is kept cut short', () => {
    const card = '4111 1111 1111 1111';
    const pad = 'x'.repeat(MAX_LINE_CHARS);
    for (const at of [984, 988, 990, 995]) {
      const [rec] = split([`${'y'.repeat(at)}${card}${pad}\n`]);
      expect(rec!.raw).toBe(`${'y'.repeat(at)}…`);
    }
    // A number the cut does not split is kept whole (and masked with the rest of the raw text later).
    const [whole] = split([`${'y'.repeat(900)}${card}${pad}\n`]);
    expect(whole!.raw).toBe(`${'y'.repeat(900)}${card}${'x'.repeat(100 - card.length)}…`);
  });

  it('reports a malformed quoted record and carries on', () => {
    const recs = split(['a;"b"c;d\ne;f\n'], ';');
    expect(recs[0]).toMatchObject({ lineNo: 1, fields: null, error: expect.stringMatching(/invalid CSV/) });
    expect(recs[1]).toMatchObject({ lineNo: 2, fields: ['e', 'f'] });
  });
});

describe('remote names and fingerprints', () => {
  it('refuses separators, "..", and control characters', () => {
    expect(unsafeNameReason('PAYUNITY_SETTLEMENT_E1_20261121.csv')).toBeNull();
    expect(unsafeNameReason('../etc/passwd')).toMatch(/path separator/);
    expect(unsafeNameReason('a\\b')).toMatch(/path separator/);
    expect(unsafeNameReason('a..csv')).toMatch(/"\.\."/);
    expect(unsafeNameReason('a\u0007.csv')).toMatch(/control character/);
    expect(unsafeNameReason('a\u009b.csv')).toMatch(/control character/);
    expect(unsafeNameReason('')).toMatch(/empty/);
  });

  it('refuses invisible formatting characters by code point, and shows them escaped', () => {
    for (const [ch, cp] of [
      ['\u202e', 'U+202E'], // right-to-left override
      ['\u202a', 'U+202A'], // left-to-right embedding
      ['\u2066', 'U+2066'], // left-to-right isolate
      ['\u200f', 'U+200F'], // right-to-left mark
      ['\u061c', 'U+061C'], // Arabic letter mark
      ['\u200b', 'U+200B'], // zero-width space
      ['\u200d', 'U+200D'], // zero-width joiner
      ['\u2060', 'U+2060'], // word joiner
      ['\ufeff', 'U+FEFF'], // byte order mark
      ['\u00ad', 'U+00AD'], // soft hyphen
      ['\u2028', 'U+2028'], // line separator
    ] as const)
      expect(unsafeNameReason(`PAYUNITY_${ch}E1.csv`), cp).toBe(
        `file name contains an invisible formatting character (${cp})`,
      );
    // Letters of any script are no formatting characters.
    expect(unsafeNameReason('useepay_settlement_商户_2026-11-21.csv')).toBeNull();
    expect(unsafeNameReason('Abrechnung_Gebühren_20261121.csv')).toBeNull();
    expect(printableName('a\u202evsc.csv\n')).toBe('a\\u202evsc.csv\\n');
  });

  it('prints fingerprints as ssh-keygen -l does: base64 without padding', () => {
    expect(sshFingerprint(Buffer.from('abc'))).toBe('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });
});
