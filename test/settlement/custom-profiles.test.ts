// Custom profiles from configuration: encodings, delimiters, decimal commas, byKind signs, positions without a
// header, skipped lines, naive timestamps in a zone, and a trailer on a custom layout.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSettlement } from '../../src/settlement/fetch.js';
import { testDbPerSuite } from '../helpers/db.js';
import { stageContext, testConfig, writeFile } from './builders.js';

const db = testDbPerSuite();
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-custom-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function setup(name: string, profile: object) {
  const inbox = path.join(tmp, name, 'inbox');
  const config = testConfig(path.join(tmp, name), {
    payunity: { source: 'local', localDir: inbox, archiveDir: path.join(tmp, name, 'archive'), profile },
  });
  return { inbox, ctx: stageContext(db, config) };
}

async function lines(fileId: number) {
  return db.db
    .selectFrom('settlement_lines')
    .selectAll()
    .where('file_id', '=', fileId)
    .orderBy('line_no')
    .execute();
}
async function rejected(fileId: number) {
  return db.db
    .selectFrom('rejected_lines')
    .select(['line_no', 'reason', 'raw'])
    .where('file_id', '=', fileId)
    .orderBy('line_no')
    .execute();
}

const GERMAN = {
  filePattern: '^settle_(?<date>\\d{8})\\.txt(\\.gz)?$',
  fileDateFormat: 'yyyyMMdd',
  encoding: 'latin1',
  delimiter: '|',
  header: true,
  skipLines: 1,
  decimalSeparator: ',',
  signs: 'byKind',
  dateFormat: 'dd.MM.yyyy',
  timestampFormat: 'dd.MM.yyyy HH:mm:ss',
  timezone: 'Europe/Berlin',
  columns: {
    settlementDate: 'Valuta',
    batchId: 'Batch',
    kind: 'Art',
    transactionId: 'TxnRef',
    paymentId: 'OrigRef',
    merchantReference: 'Bestellung',
    transactionTime: 'Zeit',
    currency: 'Whg',
    gross: 'Betrag',
    fee: 'Gebuehr',
    net: 'Netto',
  },
  kinds: { VERKAUF: 'payment', GUTSCHRIFT: 'refund', RUECKBUCHUNG: 'chargeback', GEBÜHR: 'fee' },
};

describe('custom profiles', () => {
  it('a file refused for a profile mistake loads, under its row, once the profile is mended', async () => {
    const content = [
      'Abrechnung Händler 4711',
      'Valuta|Batch|Art|TxnRef|OrigRef|Bestellung|Zeit|Whg|Betrag|Gebuehr|Netto',
      '21.11.2026|B7|VERKAUF|T1||Bestellung Müller|20.11.2026 10:04:11|EUR|92,00|2,67|89,33',
    ].join('\r\n');
    const wrong = setup('mended', { ...GERMAN, encoding: 'utf8' });
    writeFile(wrong.inbox, 'settle_20261125.txt', content, { encoding: 'latin1' });
    const day = { from: '2026-11-25', to: '2026-11-25' };
    const refused = await fetchSettlement(wrong.ctx, 'payunity', day);
    expect(refused.files).toMatchObject([{ status: 'rejected', reason: expect.stringMatching(/UTF-8/) }]);
    const mended = await fetchSettlement(setup('mended', GERMAN).ctx, 'payunity', day);
    expect(mended.files).toMatchObject([{ status: 'loaded', loaded: 1, fileId: refused.files[0]!.fileId }]);
    expect(await lines(refused.files[0]!.fileId!)).toHaveLength(1);
    const row = await db.db
      .selectFrom('settlement_files')
      .select(['status', 'reject_reason', 'line_count'])
      .where('id', '=', refused.files[0]!.fileId!)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'loaded', reject_reason: null, line_count: 1 });
  });

  it('reads a latin1, pipe-delimited, decimal-comma file with byKind signs and Berlin-time timestamps', async () => {
    const s = setup('latin1', GERMAN);
    const content = [
      'Abrechnung Händler 4711',
      'Valuta|Batch|Art|TxnRef|OrigRef|Bestellung|Zeit|Whg|Betrag|Gebuehr|Netto',
      '21.11.2026|B7|VERKAUF|T1||Bestellung Müller|20.11.2026 10:04:11|EUR|92,00|2,67|89,33',
      '21.11.2026|B7|GUTSCHRIFT|T2|T1|Bestellung Müller|01.07.2026 18:30:00|EUR|10,00|0,00|10,00',
      '21.11.2026|B7|GEBÜHR|||Monatsgebühr|21.11.2026 00:00:00|EUR|0,00|15,00|15,00',
      '21.11.2026|B7|STORNO|T4||x|20.11.2026 10:00:00|EUR|1,00|0,00|1,00',
      '21.11.2026|B7|VERKAUF|T5||x|20.11.2026 10:00:00|EUR|1.00|0,00|1,00',
    ].join('\r\n');
    writeFile(s.inbox, 'settle_20261121.txt', content, { encoding: 'latin1' });
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(out.files).toMatchObject([
      { status: 'loaded', loaded: 3, rejected: 2, settlementDate: '2026-11-21' },
    ]);
    const got = await lines(out.files[0]!.fileId!);
    expect(
      got.map((l) => [
        l.line_no,
        l.kind,
        l.transaction_id,
        l.payment_id,
        l.merchant_reference,
        l.gross_minor,
        l.fee_minor,
        l.net_minor,
      ]),
    ).toEqual([
      [3, 'payment', 'T1', 'T1', 'Bestellung Müller', 9200, 267, 8933],
      [4, 'refund', 'T2', 'T1', 'Bestellung Müller', -1000, 0, -1000],
      [5, 'fee', null, null, 'Monatsgebühr', 0, 1500, -1500],
    ]);
    // Naive times are Berlin wall time: CET (+01:00) in November, CEST (+02:00) in July.
    expect(got[0]!.transaction_time!.toISOString()).toBe('2026-11-20T09:04:11.000Z');
    expect(got[1]!.transaction_time!.toISOString()).toBe('2026-07-01T16:30:00.000Z');
    expect(got[0]!.raw).toBe(
      '21.11.2026|B7|VERKAUF|T1||Bestellung Müller|20.11.2026 10:04:11|EUR|92,00|2,67|89,33',
    );
    expect((await rejected(out.files[0]!.fileId!)).map((r) => [r.line_no, r.reason])).toEqual([
      [6, 'unknown type "STORNO"'],
      [7, expect.stringMatching(/gross: amount "1.00" has "." but the decimal separator is ","/)],
    ]);
  });

  it('reads a GBK file without a header, columns by position, amounts in minor units, date from the file name', async () => {
    const s = setup('gbk', {
      filePattern: '^jiesuan_(?<date>\\d{4}\\d{2}\\d{2})\\.csv$',
      encoding: 'gbk',
      header: false,
      amountUnit: 'minor',
      timestampFormat: 'yyyy/MM/dd HH:mm:ss',
      timezone: 'Asia/Shanghai',
      columns: {
        kind: 1,
        transactionId: 2,
        merchantReference: 3,
        transactionTime: 4,
        currency: 5,
        gross: 6,
        fee: 7,
      },
      kinds: { 支付: 'payment', 退款: 'refund' },
    });
    const content =
      [
        '支付,P1,订单一号,2026/11/20 08:00:00,CNY,10023,321',
        '退款,R1,订单一号,2026/11/20 20:00:00,CNY,-2000,0',
        '支付,P2,订单二号',
      ].join('\n') + '\n';
    writeFile(s.inbox, 'jiesuan_20261121.csv', content, { encoding: 'gbk' });
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 2, rejected: 1 }]);
    const got = await lines(out.files[0]!.fileId!);
    expect(
      got.map((l) => [
        l.settlement_date,
        l.kind,
        l.merchant_reference,
        l.currency,
        l.gross_minor,
        l.fee_minor,
        l.net_minor,
        l.transaction_time!.toISOString(),
      ]),
    ).toEqual([
      ['2026-11-21', 'payment', '订单一号', 'CNY', 10023, 321, 9702, '2026-11-20T00:00:00.000Z'],
      ['2026-11-21', 'refund', '订单一号', 'CNY', -2000, 0, -2000, '2026-11-20T12:00:00.000Z'],
    ]);
    expect(got[0]!.raw).toBe('支付,P1,订单一号,2026/11/20 08:00:00,CNY,10023,321');
    expect(await rejected(out.files[0]!.fileId!)).toEqual([
      { line_no: 3, reason: 'expected 7 columns, found 3', raw: '支付,P2,订单二号' },
    ]);
  });

  it('refuses whole a file whose name holds a date that is not one in fileDateFormat, naming name, text and format', async () => {
    const s = setup('bad-name-date', {
      filePattern: '^daily_(?<date>\\d{8})\\.csv$',
      fileDateFormat: 'ddMMyyyy',
      delimiter: ';',
      columns: { settlementDate: 'd', kind: 'k', transactionId: 'id', currency: 'c', gross: 'g', fee: 'f' },
    });
    const body = 'd;k;id;c;g;f\n2026-11-21;payment;A;EUR;10.00;0.30\n';
    writeFile(s.inbox, 'daily_21112026.csv', body);
    // The sender wrote the name as yyyyMMdd: "20261121" read as ddMMyyyy is day 20 of month 26.
    writeFile(s.inbox, 'daily_20261121.csv', body.replace(';A;', ';B;'));
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(out.files.map((f) => [f.name, f.status, f.loaded, f.settlementDate, f.fileId])).toEqual([
      ['daily_20261121.csv', 'refused', 0, null, undefined],
      ['daily_21112026.csv', 'loaded', 1, '2026-11-21', expect.any(Number)],
    ]);
    const reason =
      'the date "20261121" in the file name daily_20261121.csv is not a date in the profile\'s fileDateFormat ddMMyyyy';
    expect(out.files[0]!.reason).toBe(reason);
    expect(out.files[0]!.retryNextFetch).toBeUndefined();
    // Not recorded: no date would ever fetch it again. Every fetch, of any date, refuses it and says so.
    const names = await db.db
      .selectFrom('settlement_files')
      .select('file_name')
      .where('file_name', 'like', 'daily_%')
      .execute();
    expect(names.map((r) => r.file_name)).toEqual(['daily_21112026.csv']);
    const later = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-25', to: '2026-11-25' });
    expect(later.files.map((f) => [f.name, f.status, f.reason])).toEqual([
      ['daily_20261121.csv', 'refused', reason],
    ]);
  });

  it('skipLines counts physical lines: a blank or quoted preamble line loses no data line', async () => {
    const s = setup('preamble', {
      filePattern: '^pre_(?<date>\\d{8})\\.csv$',
      delimiter: ';',
      header: false,
      skipLines: 3,
      columns: { kind: 1, transactionId: 2, currency: 3, gross: 4, fee: 5 },
    });
    const content = [
      'Settlement report for "ACME Ltd',
      '',
      'generated 2026-11-22',
      'payment;P1;EUR;10.00;0.30',
      'payment;P2;EUR;20.00;0.60',
    ].join('\n');
    writeFile(s.inbox, 'pre_20261121.csv', content + '\n');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 2, rejected: 0 }]);
    const got = await lines(out.files[0]!.fileId!);
    expect(got.map((l) => [l.line_no, l.transaction_id, l.gross_minor])).toEqual([
      [4, 'P1', 1000],
      [5, 'P2', 2000],
    ]);
  });

  it('a quote inside an unquoted field rejects that line alone, not the lines after it', async () => {
    const s = setup('stray-quote', {
      filePattern: '^q_(?<date>\\d{8})\\.csv$',
      delimiter: ';',
      columns: {
        kind: 'k',
        transactionId: 'id',
        merchantReference: 'ref',
        currency: 'c',
        gross: 'g',
        fee: 'f',
      },
    });
    const content = [
      'k;id;ref;c;g;f',
      'payment;P1;Monitor 27";EUR;10.00;0.30',
      'payment;P2;"two',
      'lines";EUR;20.00;0.60',
      'payment;P3;"say ""hi""";EUR;30.00;0.90',
      'payment;P4;R4;EUR;40.00;1.20',
    ].join('\n');
    writeFile(s.inbox, 'q_20261121.csv', content + '\n');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 3, rejected: 1 }]);
    const got = await lines(out.files[0]!.fileId!);
    expect(got.map((l) => [l.line_no, l.transaction_id, l.merchant_reference])).toEqual([
      [3, 'P2', 'two\nlines'],
      [5, 'P3', 'say "hi"'],
      [6, 'P4', 'R4'],
    ]);
    expect(await rejected(out.files[0]!.fileId!)).toEqual([
      {
        line_no: 2,
        reason: expect.stringMatching(/^invalid CSV: Invalid Opening Quote/),
        raw: 'payment;P1;Monitor 27";EUR;10.00;0.30',
      },
    ]);
  });

  it('checks the trailer of a file in minor units against the sum of Net as written', async () => {
    const s = setup('minor-trailer', {
      filePattern: '^m_(?<date>\\d{8})\\.csv$',
      delimiter: ';',
      trailer: 'payunity',
      amountUnit: 'minor',
      columns: { kind: 'k', transactionId: 'id', currency: 'c', gross: 'g', fee: 'f', net: 'n' },
    });
    const body = 'k;id;c;g;f;n\npayment;A;EUR;1000;30;970\nrefund;B;JPY;-500;0;-500\npayment;C;EUR;x;0;0\n';
    writeFile(s.inbox, 'm_20261121.csv', body + 'TRAILER;3;470\n');
    writeFile(s.inbox, 'm_20261122.csv', body + 'TRAILER;3;471\n');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-22' });
    expect(out.files.map((f) => [f.name, f.status, f.loaded, f.rejected])).toEqual([
      ['m_20261121.csv', 'loaded', 2, 1],
      ['m_20261122.csv', 'rejected', 0, 0],
    ]);
    expect(out.files[1]!.reason).toMatch(/trailer sum of net 471 does not agree/);
  });

  it('checks a PayUnity-style trailer on a custom layout, and rejects a file whose header lacks a named column', async () => {
    const s = setup('trailer', {
      filePattern: '^t_(?<date>\\d{8})\\.csv$',
      delimiter: ';',
      trailer: 'payunity',
      dateFormat: 'yyyyMMdd',
      timestampFormat: "yyyy-MM-dd'T'HH:mm:ssXXX",
      columns: {
        settlementDate: 'd',
        kind: 'k',
        transactionId: 'id',
        transactionTime: 't',
        currency: 'c',
        gross: 'g',
        fee: 'f',
        net: 'n',
      },
    });
    const body =
      'd;k;id;t;c;g;f;n\n20261121;payment;A;2026-11-20T10:00:00+05:30;KWD;1.234;0.034;1.200\n20261121;refund;B;;KWD;-0.500;0.000;-0.500\n';
    writeFile(s.inbox, 't_20261121.csv', body + 'TRAILER;2;0.700\n');
    writeFile(s.inbox, 't_20261122.csv', body + 'TRAILER;2;0.701\n');
    writeFile(s.inbox, 't_20261123.csv', body.replace('d;k;id', 'date;k;id') + 'TRAILER;2;0.700\n');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-23' });
    expect(out.files.map((f) => [f.name, f.status, f.loaded])).toEqual([
      ['t_20261121.csv', 'loaded', 2],
      ['t_20261122.csv', 'rejected', 0],
      ['t_20261123.csv', 'rejected', 0],
    ]);
    expect(out.files[2]!.reason).toMatch(/names a column the file does not have \(settlementDate: "d"\)/);
    const got = await lines(out.files[0]!.fileId!);
    expect(
      got.map((l) => [l.gross_minor, l.fee_minor, l.net_minor, l.transaction_time?.toISOString() ?? null]),
    ).toEqual([
      [1234, 34, 1200, '2026-11-20T04:30:00.000Z'],
      [-500, 0, -500, null],
    ]);
  });
});
