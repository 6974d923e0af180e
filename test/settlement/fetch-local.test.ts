import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSettlement } from '../../src/settlement/fetch.js';
import { RunFailedError } from '../../src/shared/errors.js';
import { LocalFolderSource } from '../../src/sources/local.js';
import type { SettlementSource } from '../../src/sources/types.js';
import { testDbPerSuite } from '../helpers/db.js';
import {
  PAYUNITY_EXAMPLE,
  USEEPAY_EXAMPLE,
  payunityFile,
  payunityLine,
  stageContext,
  testConfig,
  writeFile,
} from './builders.js';

const db = testDbPerSuite();

/** The local folder source of `inbox`, with some of its methods replaced: a sender acting around our fetch. */
function localSource(
  inbox: string,
  over: (local: LocalFolderSource) => Partial<SettlementSource>,
): SettlementSource {
  const local = new LocalFolderSource(inbox);
  return {
    description: 'test',
    parallelism: 1,
    list: () => local.list(),
    close: () => local.close(),
    download: local.download.bind(local),
    ...over(local),
  };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-fetch-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const DAY = { from: '2026-11-21', to: '2026-11-21' };

function setup(name: string) {
  const inbox = path.join(tmp, name, 'inbox');
  const archive = path.join(tmp, name, 'archive');
  const config = testConfig(path.join(tmp, name), {
    payunity: { source: 'local', localDir: inbox, archiveDir: archive },
    useepay: { source: 'local', localDir: path.join(inbox, 'useepay'), archiveDir: archive + '-u' },
  });
  return { inbox, archive, config, ctx: stageContext(db, config) };
}

async function linesOf(fileId: number) {
  return db.db
    .selectFrom('settlement_lines')
    .selectAll()
    .where('file_id', '=', fileId)
    .orderBy('line_no')
    .execute();
}

describe('fetch from a local folder', () => {
  it('loads the documented PayUnity example with kinds, signed amounts and the root payment id', async () => {
    const s = setup('pu-example');
    writeFile(s.inbox, 'PAYUNITY_SETTLEMENT_E1_20261121.csv', PAYUNITY_EXAMPLE);
    const out = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(out.files).toMatchObject([
      {
        name: 'PAYUNITY_SETTLEMENT_E1_20261121.csv',
        status: 'loaded',
        loaded: 3,
        rejected: 0,
        settlementDate: '2026-11-21',
      },
    ]);
    const lines = await linesOf(out.files[0]!.fileId!);
    expect(
      lines.map((l) => [
        l.line_no,
        l.kind,
        l.transaction_id,
        l.payment_id,
        l.gross_minor,
        l.fee_minor,
        l.net_minor,
      ]),
    ).toEqual([
      [2, 'payment', '8ac7a4a089f61d980189f68341986a62', '8ac7a4a089f61d980189f68341986a62', 9200, 267, 8933],
      [3, 'refund', '8ac7a4a089f61d980189f6835bdc6b1a', '8ac7a4a089f61d980189f68341986a62', -1000, 0, -1000],
      [4, 'fee', null, null, 0, 1500, -1500],
    ]);
    expect(lines[0]!.transaction_time!.toISOString()).toBe('2026-11-20T10:04:11.000Z');
    expect(lines[1]!.raw).toBe(PAYUNITY_EXAMPLE.split('\n')[2]);
    const file = await db.db
      .selectFrom('settlement_files')
      .selectAll()
      .where('id', '=', out.files[0]!.fileId!)
      .executeTakeFirstOrThrow();
    expect(file).toMatchObject({
      status: 'loaded',
      line_count: 3,
      loaded_count: 3,
      rejected_count: 0,
      profile: 'payunity',
    });
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Downloaded under a temporary name, renamed when complete: no .part file is left behind.
    expect(readdirSync(s.archive)).toEqual([
      `${file.sha256.slice(0, 16)}_PAYUNITY_SETTLEMENT_E1_20261121.csv`,
    ]);
  });

  it('reads a gzipped UseePay file with a BOM, keeping 19-digit ids as text', async () => {
    const s = setup('ue-gz');
    writeFile(
      path.join(s.inbox, 'useepay'),
      'useepay_settlement_500000000007245_2026-11-21.csv.gz',
      USEEPAY_EXAMPLE,
      { gzip: true, bom: true },
    );
    const out = await fetchSettlement(s.ctx, 'useepay', DAY);
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 2, rejected: 0 }]);
    const lines = await linesOf(out.files[0]!.fileId!);
    expect(
      lines.map((l) => [
        l.kind,
        l.transaction_id,
        l.payment_id,
        l.gross_minor,
        l.net_minor,
        l.transaction_time!.toISOString(),
      ]),
    ).toEqual([
      ['payment', '1012411211459019141', '1012411211459019141', 10023, 9702, '2026-11-20T09:15:02.000Z'],
      [
        'refund',
        '6b4e963913f84d26a9c0e88dd5043667',
        '1012411211459019141',
        -2000,
        -2000,
        '2026-11-20T21:00:00.000Z',
      ],
    ]);
  });

  it('rejects a truncated PayUnity file whole by its trailer and loads nothing from it', async () => {
    const s = setup('pu-trunc');
    const full = payunityFile([
      payunityLine({ id: 'a1', amount: '10.00', fee: '0.50', net: '9.50' }),
      payunityLine({ id: 'a2', amount: '20.00', fee: '0.50', net: '19.50' }),
    ]);
    const truncated = full.split('\n').slice(0, 3).join('\n') + '\n'; // header + 2 lines, trailer cut off
    writeFile(s.inbox, 'PAYUNITY_SETTLEMENT_E1_20261121.csv', truncated);
    writeFile(s.inbox, 'PAYUNITY_SETTLEMENT_E1_20261122.csv', full.replace(/TRAILER;2;/, 'TRAILER;3;'));
    writeFile(
      s.inbox,
      'PAYUNITY_SETTLEMENT_E1_20261123.csv',
      full.replace(/TRAILER;2;29.00/, 'TRAILER;2;29.01'),
    );
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-23' });
    expect(out.files.map((f) => [f.status, f.loaded])).toEqual([
      ['rejected', 0],
      ['rejected', 0],
      ['rejected', 0],
    ]);
    expect(out.files[0]!.reason).toMatch(/trailer missing/);
    expect(out.files[1]!.reason).toMatch(/trailer says 3 lines but the file has 2/);
    expect(out.files[2]!.reason).toMatch(/sum of net 29.01/);
    const n = await db.db
      .selectFrom('settlement_lines')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where(
        'file_id',
        'in',
        out.files.map((f) => f.fileId!),
      )
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(0);
    const rows = await db.db
      .selectFrom('settlement_files')
      .select(['status', 'reject_reason'])
      .where(
        'id',
        'in',
        out.files.map((f) => f.fileId!),
      )
      .execute();
    expect(rows.every((r) => r.status === 'rejected' && r.reject_reason)).toBe(true);
    // Fetched again, a refused file is read again and refused again, under its one row: every run says so.
    const again = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(again.files).toMatchObject([
      { status: 'rejected', fileId: out.files[0]!.fileId, reason: expect.stringMatching(/trailer missing/) },
    ]);
  });

  it('rejects bad lines with their line numbers and reasons while the good lines load, masking card numbers', async () => {
    const s = setup('ue-bad');
    const content = [
      'settlement_date,settlement_batch_id,transaction_type,transaction_id,payment_intent_id,merchant_order_id,transaction_time,currency,amount,fee,net_amount',
      '2026-11-21,B1,payment,p1,p1,card 4111 1111 1111 1111,2026-11-20T09:15:02Z,USD,100.23,3.21,97.02',
      '2026-11-21,B1,payment,p2,p2,ORD-2,2026-11-20T09:15:02Z,USD,100.234,3.21,97.024',
      '2026-11-21,B1,teleport,p3,p3,ORD-3,2026-11-20T09:15:02Z,USD,1.00,0.00,1.00',
      '2026-11-31,B1,payment,p4,p4,ORD-4,2026-11-20T09:15:02Z,USD,1.00,0.00,1.00',
      '2026-11-21,B1,payment,p5,p5,ORD-5,2026-11-20T09:15:02Z,USD,1.00,0.10,1.00',
      '2026-11-21,B1,payment,p6,p6,ORD-6,2026-11-20T09:15:02Z,USD,1.00,-0.10,1.10',
      '2026-11-21,B1,payment,p7,p7,ORD-7,2026-11-20T09:15:02Z,USD,1.00',
      '2026-11-21,B1,payment,p8,p8,5500005555555559,2026-11-20T09:15:02Z,USD,1.00,x,1.00',
      '2026-11-21,B1,payment,p9,p9,"ORD,9",2026-11-20T09:15:02Z,JPY,500,0,500',
      '2026-11-21,B1,payment,p10,p10,ORD-10,2026-11-20 09:15:02,USD,1.00,0.00,1.00',
      // A reference too long for its index used to fail the whole file's COPY; an overlong id is refused alike.
      `2026-11-21,B1,payment,,,${randomBytes(8000).toString('base64')},2026-11-20T09:15:02Z,USD,1.00,0.00,1.00`,
      `2026-11-21,B1,payment,${'9'.repeat(501)},p13,ORD-13,2026-11-20T09:15:02Z,USD,1.00,0.00,1.00`,
      // Three upper-case letters are not yet a currency: "no currency", and one ISO 4217 does not list.
      '2026-11-21,B1,payment,p14,p14,ORD-14,2026-11-20T09:15:02Z,XXX,1.00,0.00,1.00',
      '2026-11-21,B1,payment,p15,p15,ORD-15,2026-11-20T09:15:02Z,BTC,1.00,0.00,1.00',
      // A decimal point needs digits on both sides: either half may be a field cut short.
      '2026-11-21,B1,payment,p16,p16,ORD-16,2026-11-20T09:15:02Z,USD,5.,0.00,5.00',
      '2026-11-21,B1,payment,p17,p17,ORD-17,2026-11-20T09:15:02Z,USD,0.50,.50,0.00',
    ].join('\r\n');
    writeFile(path.join(s.inbox, 'useepay'), 'useepay_settlement_500000000007245_2026-11-21.csv', content);
    const out = await fetchSettlement(s.ctx, 'useepay', DAY);
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 2, rejected: 14 }]);
    expect(out.loadedLines).toBe(2);
    expect(out.rejectedLines).toBe(14);
    const fileId = out.files[0]!.fileId!;
    const loaded = await linesOf(fileId);
    expect(
      loaded.map((l) => [l.line_no, l.transaction_id, l.merchant_reference, l.gross_minor, l.currency]),
    ).toEqual([
      // Masked in the parsed fields as in the raw text: a merchant reference is stored and shown in reports.
      [2, 'p1', 'card 411111******1111', 10023, 'USD'],
      [10, 'p9', 'ORD,9', 500, 'JPY'],
    ]);
    expect(loaded[0]!.raw).toContain('card 411111******1111,');
    expect(JSON.stringify(loaded)).not.toMatch(/4111 1111 1111 1111/);
    const rejected = await db.db
      .selectFrom('rejected_lines')
      .selectAll()
      .where('file_id', '=', fileId)
      .orderBy('line_no')
      .execute();
    expect(rejected.map((r) => [r.line_no, r.reason])).toEqual([
      [3, expect.stringMatching(/more decimals than USD allows/)],
      [4, 'unknown type "teleport"'],
      [5, expect.stringMatching(/invalid settlement date "2026-11-31"/)],
      [6, 'net 1.00 != gross 1.00 - fee 0.10 (USD)'],
      [7, 'fee is negative (-0.10 USD)'],
      [8, 'expected 11 columns, found 9'],
      [9, expect.stringMatching(/fee: amount "x" is not a decimal number/)],
      [11, expect.stringMatching(/invalid transaction time/)],
      [12, 'merchant reference longer than 500 characters'],
      [13, 'transaction id longer than 500 characters'],
      [14, 'currency "XXX" is not an ISO 4217 payment currency'],
      [15, 'currency "BTC" is not an ISO 4217 payment currency'],
      [16, 'gross: amount "5." needs digits on both sides of its decimal separator'],
      [17, 'fee: amount ".50" needs digits on both sides of its decimal separator'],
    ]);
    expect(rejected.find((r) => r.line_no === 9)!.raw).toContain('550000******5559');
    expect(rejected.some((r) => r.raw.includes('5500005555555559'))).toBe(false);
  });

  it('refuses names with invisible formatting characters, shown with them made visible, and loads nothing of them', async () => {
    const s = setup('pu-bidi');
    // Read as "…_20261121csv.csv" once the override reverses what follows it; and a name that looks like the good one.
    const rlo = 'PAYUNITY_SETTLEMENT_E1_20261121\u202Evsc.csv';
    const zwsp = 'PAYUNITY_SETTLEMENT_E1_2026\u200B1121.csv';
    for (const name of [rlo, zwsp]) writeFile(s.inbox, name, PAYUNITY_EXAMPLE);
    const out = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(
      out.files
        .filter((f) => f.status === 'refused')
        .map((f) => [f.name, f.reason])
        .sort(),
    ).toEqual([
      [
        'PAYUNITY_SETTLEMENT_E1_20261121\\u202evsc.csv',
        'file name contains an invisible formatting character (U+202E)',
      ],
      [
        'PAYUNITY_SETTLEMENT_E1_2026\\u200b1121.csv',
        'file name contains an invisible formatting character (U+200B)',
      ],
    ]);
    expect(out.files.map((f) => f.status)).toEqual(['refused', 'refused']);
    const recorded = await db.db.selectFrom('settlement_files').select('file_name').execute();
    expect(recorded.map((r) => r.file_name).filter((n) => /[\u200b\u202e]/.test(n))).toEqual([]);
    // Nothing of them was written to disk either.
    expect(existsSync(s.archive) ? readdirSync(s.archive) : []).toEqual([]);
  });

  it('keeps a gateway id that passes the Luhn check: only free text is masked in the stored fields', async () => {
    const s = setup('ue-luhn-id');
    const id = '1012411211459019147'; // 19 digits, Luhn-valid: a UseePay id that looks like a card number
    const content = [
      'settlement_date,settlement_batch_id,transaction_type,transaction_id,payment_intent_id,merchant_order_id,transaction_time,currency,amount,fee,net_amount',
      `2026-11-21,B1,payment,${id},${id},card 4111 1111 1111 1111,2026-11-20T09:15:02Z,USD,1.00,0.00,1.00`,
    ].join('\r\n');
    writeFile(path.join(s.inbox, 'useepay'), 'useepay_settlement_500000000007245_2026-11-21.csv', content);
    const out = await fetchSettlement(s.ctx, 'useepay', DAY);
    const [line] = await linesOf(out.files[0]!.fileId!);
    expect([line!.transaction_id, line!.payment_id, line!.merchant_reference]).toEqual([
      id,
      id,
      'card 411111******1111',
    ]);
  });

  it('loads a file fetched twice only once, and a corrected file replaces its predecessor', async () => {
    const s = setup('pu-correct');
    const name = 'PAYUNITY_SETTLEMENT_C1_20261121.csv';
    writeFile(
      s.inbox,
      name,
      payunityFile([payunityLine({ id: 'c1', amount: '10.00', fee: '0.50', net: '9.50' })]),
    );
    const first = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(first.files).toMatchObject([{ status: 'loaded', loaded: 1 }]);
    const second = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(second.files).toMatchObject([{ status: 'duplicate', loaded: 0, fileId: first.files[0]!.fileId }]);

    writeFile(
      s.inbox,
      name,
      payunityFile([
        payunityLine({ id: 'c1', amount: '10.00', fee: '0.50', net: '9.50' }),
        payunityLine({ id: 'c2', amount: '5.00', fee: '0.25', net: '4.75' }),
      ]),
    );
    const third = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(third.files).toMatchObject([
      { status: 'corrected', loaded: 2, supersededFileId: first.files[0]!.fileId },
    ]);
    const files = await db.db
      .selectFrom('settlement_files')
      .select(['id', 'status', 'supersedes_file_id'])
      .where('remote_path', '=', name)
      .where('provider', '=', 'payunity')
      .orderBy('id')
      .execute();
    expect(files).toEqual([
      { id: first.files[0]!.fileId, status: 'superseded', supersedes_file_id: null },
      { id: third.files[0]!.fileId, status: 'loaded', supersedes_file_id: first.files[0]!.fileId },
    ]);
    expect(await linesOf(first.files[0]!.fileId!)).toEqual([]);
    expect((await linesOf(third.files[0]!.fileId!)).map((l) => l.transaction_id)).toEqual(['c1', 'c2']);
    // Both versions stay in the archive.
    expect(readdirSync(s.archive)).toHaveLength(2);
  });

  it('does not load, nor record, a file that changed between listing and download, and loads it next time', async () => {
    const s = setup('pu-growing');
    const name = 'PAYUNITY_SETTLEMENT_G1_20261121.csv';
    const first = payunityLine({ id: 'g1', amount: '10.00', fee: '0.50', net: '9.50' });
    const second = payunityLine({ id: 'g2', amount: '5.00', fee: '0.25', net: '4.75' });
    // The file as the server listed it, half uploaded; the rest arrives before its download starts.
    const whole = payunityFile([first, second]);
    const half = whole.slice(0, whole.indexOf(second));
    writeFile(s.inbox, name, half);
    const source = localSource(s.inbox, (local) => ({
      list: async () => {
        const listed = await local.list();
        writeFile(s.inbox, name, whole);
        return listed;
      },
    }));
    const out = await fetchSettlement(s.ctx, 'payunity', DAY, { source });
    expect(out.files).toMatchObject([
      {
        name,
        status: 'refused',
        loaded: 0,
        reason: `changed while it was being fetched (listed at ${Buffer.byteLength(half)} bytes, ${Buffer.byteLength(whole)} read): still being written? Not loaded; the next fetch takes it again`,
      },
    ]);
    const recorded = await db.db
      .selectFrom('settlement_files')
      .select('id')
      .where('file_name', '=', name)
      .execute();
    expect(recorded).toEqual([]);

    const again = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(again.files).toMatchObject([{ name, status: 'loaded', loaded: 2 }]);
  });

  it('skips a file gone between listing and copy, loads the others, and takes it next time', async () => {
    const s = setup('pu-vanished');
    const gone = 'PAYUNITY_SETTLEMENT_V1_20261121.csv';
    const kept = 'PAYUNITY_SETTLEMENT_V2_20261121.csv';
    const goneBytes = payunityFile([payunityLine({ id: 'v1', amount: '3.00', fee: '0.00', net: '3.00' })]);
    writeFile(s.inbox, gone, goneBytes);
    writeFile(
      s.inbox,
      kept,
      payunityFile([payunityLine({ id: 'v2', amount: '4.00', fee: '0.00', net: '4.00' })]),
    );
    // The sender takes the file back (to rename or replace it) right after the listing.
    const source = localSource(s.inbox, (local) => ({
      list: async () => {
        const listed = await local.list();
        rmSync(path.join(s.inbox, gone));
        return listed;
      },
    }));
    const out = await fetchSettlement(s.ctx, 'payunity', DAY, { source });
    expect(out.files).toEqual([
      {
        name: gone,
        remotePath: gone,
        sha256: null,
        settlementDate: '2026-11-21',
        status: 'refused',
        loaded: 0,
        rejected: 0,
        fileId: undefined,
        reason:
          'listed, but gone when copied (removed or renamed since): not loaded; the next fetch takes it again',
        retryNextFetch: true,
      },
      expect.objectContaining({ name: kept, status: 'loaded', loaded: 1 }),
    ]);
    const recorded = await db.db
      .selectFrom('settlement_files')
      .select('file_name')
      .where('remote_path', 'in', [gone, kept])
      .execute();
    expect(recorded).toEqual([{ file_name: kept }]);

    writeFile(s.inbox, gone, goneBytes);
    const again = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(again.files).toMatchObject([
      { name: gone, status: 'loaded', loaded: 1 },
      { name: kept, status: 'duplicate' },
    ]);
  });

  it('reads a file dropped as a symbolic link, and reports one that leads nowhere without failing the fetch', async () => {
    const s = setup('pu-links');
    const linked = 'PAYUNITY_SETTLEMENT_L1_20261121.csv';
    const dangling = 'PAYUNITY_SETTLEMENT_L2_20261121.csv';
    const elsewhere = path.join(tmp, 'pu-links', 'elsewhere');
    writeFile(
      elsewhere,
      linked,
      payunityFile([payunityLine({ id: 'l1', amount: '2.00', fee: '0.00', net: '2.00' })]),
    );
    mkdirSync(s.inbox, { recursive: true });
    symlinkSync(path.join(elsewhere, linked), path.join(s.inbox, linked));
    symlinkSync(path.join(elsewhere, dangling), path.join(s.inbox, dangling));
    symlinkSync(elsewhere, path.join(s.inbox, 'PAYUNITY_SETTLEMENT_L3_20261121.csv')); // a folder
    const out = await fetchSettlement(s.ctx, 'payunity', DAY);
    // The link that leads nowhere is reported from the listing, before any download.
    expect(out.files).toEqual([
      {
        name: dangling,
        remotePath: dangling,
        sha256: null,
        settlementDate: '2026-11-21',
        status: 'refused',
        loaded: 0,
        rejected: 0,
        fileId: undefined,
        reason: 'a symbolic link that leads nowhere: not loaded; the next fetch takes it again',
        retryNextFetch: true,
      },
      expect.objectContaining({ name: linked, status: 'loaded', loaded: 1 }),
    ]);

    // Once the link leads to its file, the next fetch loads it.
    writeFile(
      elsewhere,
      dangling,
      payunityFile([payunityLine({ id: 'l2', amount: '3.00', fee: '0.00', net: '3.00' })]),
    );
    expect((await fetchSettlement(s.ctx, 'payunity', DAY)).files).toMatchObject([
      { name: linked, status: 'duplicate' },
      { name: dangling, status: 'loaded', loaded: 1 },
    ]);
  });

  it('knows a file outside the range by its time when the listed sizes are not trusted', async () => {
    const s = setup('pu-untrusted-size');
    const name = 'PAYUNITY_SETTLEMENT_U1_20261120.csv';
    const p = writeFile(
      s.inbox,
      name,
      payunityFile([payunityLine({ id: 'u1', amount: '5.00', fee: '0.00', net: '5.00' })]),
    );
    utimesSync(p, new Date('2026-11-21T06:00:00Z'), new Date('2026-11-21T06:00:00Z'));
    // A virtual server that lists every file with size 0 (sftp.checkListedSize: false).
    const source = localSource(s.inbox, (local) => ({
      checksListedSize: false,
      list: async () => (await local.list()).map((f) => ({ ...f, size: 0 })),
    }));
    const day = { from: '2026-11-20', to: '2026-11-20' };
    expect((await fetchSettlement(s.ctx, 'payunity', day, { source })).files).toMatchObject([
      { name, status: 'loaded', loaded: 1 },
    ]);
    // The nights after: recorded with the same time, it is not downloaded again.
    expect((await fetchSettlement(s.ctx, 'payunity', DAY, { source })).files).toEqual([]);
    // A correction comes with a new time: taken.
    writeFile(
      s.inbox,
      name,
      payunityFile([payunityLine({ id: 'u1', amount: '6.00', fee: '0.00', net: '6.00' })]),
    );
    utimesSync(p, new Date('2026-11-22T06:00:00Z'), new Date('2026-11-22T06:00:00Z'));
    expect((await fetchSettlement(s.ctx, 'payunity', DAY, { source })).files).toMatchObject([
      { name, status: 'corrected', loaded: 1 },
    ]);
  });

  it('leaves a file modified less than minFileAgeSeconds before the fetch for the next fetch', async () => {
    const s = setup('pu-young');
    const cfg = testConfig(path.join(tmp, 'pu-young'), {
      payunity: { source: 'local', localDir: s.inbox, archiveDir: s.archive, minFileAgeSeconds: 60 },
    });
    const young = 'PAYUNITY_SETTLEMENT_Y1_20261121.csv';
    const old = 'PAYUNITY_SETTLEMENT_Y2_20261121.csv';
    const file = (name: string, id: string, modified: string) => {
      const p = writeFile(
        s.inbox,
        name,
        payunityFile([payunityLine({ id, amount: '1.00', fee: '0.00', net: '1.00' })]),
      );
      utimesSync(p, new Date(modified), new Date(modified));
    };
    // The fetch starts at 08:00:00 (the test clock): 30 s after the one upload, 2 min after the other.
    file(young, 'y1', '2026-11-22T07:59:30Z');
    file(old, 'y2', '2026-11-22T07:58:00Z');
    const ctx = stageContext(db, cfg);
    const out = await fetchSettlement(ctx, 'payunity', DAY);
    expect(out.files).toMatchObject([
      {
        name: young,
        status: 'refused',
        loaded: 0,
        sha256: null,
        retryNextFetch: true,
        reason:
          'modified 30 s before the fetch started, under providers.payunity.settlement.minFileAgeSeconds (60): its upload may still be under way; not loaded; the next fetch takes it again',
      },
      { name: old, status: 'loaded', loaded: 1 },
    ]);
    // Not even downloaded.
    expect(readdirSync(s.archive).filter((n) => n.includes('_Y1_'))).toEqual([]);
    // Off by default: the same file is taken at once.
    expect((await fetchSettlement(s.ctx, 'payunity', DAY)).files).toMatchObject([
      { name: young, status: 'loaded', loaded: 1 },
      { name: old, status: 'duplicate' },
    ]);
  });

  it('waits for a file whose time is ahead of the fetch, and says the clocks may differ', async () => {
    const s = setup('pu-ahead');
    const cfg = testConfig(path.join(tmp, 'pu-ahead'), {
      payunity: { source: 'local', localDir: s.inbox, archiveDir: s.archive, minFileAgeSeconds: 60 },
    });
    const name = 'PAYUNITY_SETTLEMENT_F1_20261121.csv';
    const p = writeFile(
      s.inbox,
      name,
      payunityFile([payunityLine({ id: 'f1', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    utimesSync(p, new Date('2026-11-22T08:00:05Z'), new Date('2026-11-22T08:00:05Z'));
    const out = await fetchSettlement(stageContext(db, cfg), 'payunity', DAY);
    expect(out.files).toMatchObject([
      {
        name,
        status: 'refused',
        reason: expect.stringMatching(
          /^modified 5 s after the fetch started \(is the server's clock ahead\?\)/,
        ) as unknown,
      },
    ]);
  });

  it('removes a download a killed process left unfinished in the archive, and nothing else', async () => {
    const s = setup('pu-part');
    const name = 'PAYUNITY_SETTLEMENT_P1_20261121.csv';
    writeFile(
      s.inbox,
      name,
      payunityFile([payunityLine({ id: 'p1', amount: '10.00', fee: '0.50', net: '9.50' })]),
    );
    const abandoned = `.${name}.0a1b2c3d4e5f.part`;
    const kept = ['notes.part', `.${name}.0f0f0f0f0f0f.part`];
    for (const f of [abandoned, ...kept]) writeFile(s.archive, f, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const f of [abandoned, kept[0]!]) utimesSync(path.join(s.archive, f), twoHoursAgo, twoHoursAgo);
    const out = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(out.files).toMatchObject([{ status: 'loaded', loaded: 1 }]);
    const left = readdirSync(s.archive);
    expect(left).not.toContain(abandoned);
    expect(left).toEqual(expect.arrayContaining(kept));
    expect(left).toHaveLength(3);
  });

  it('picks files dated in the range plus files never seen before, and skips seen ones outside the range', async () => {
    const s = setup('pu-select');
    const mk = (d: string) =>
      writeFile(
        s.inbox,
        `PAYUNITY_SETTLEMENT_S1_${d}.csv`,
        payunityFile([
          payunityLine({
            id: `s${d}`,
            date: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`,
            amount: '1.00',
            fee: '0.00',
            net: '1.00',
          }),
        ]),
      );
    mk('20261120');
    const a = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-20', to: '2026-11-20' });
    expect(a.files.map((f) => [f.name, f.status])).toEqual([
      ['PAYUNITY_SETTLEMENT_S1_20261120.csv', 'loaded'],
    ]);
    mk('20261119'); // a late file for an earlier day
    mk('20261121');
    writeFile(s.inbox, 'README.txt', 'not a settlement file');
    const b = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(b.files.map((f) => [f.name, f.status])).toEqual([
      ['PAYUNITY_SETTLEMENT_S1_20261119.csv', 'loaded'],
      ['PAYUNITY_SETTLEMENT_S1_20261121.csv', 'loaded'],
    ]);
  });

  it('loads a withdrawn correction: the earlier version delivered again replaces the correction', async () => {
    const s = setup('pu-withdrawn');
    const name = 'PAYUNITY_SETTLEMENT_W1_20261121.csv';
    const v1 = payunityFile([payunityLine({ id: 'w1', amount: '10.00', fee: '0.50', net: '9.50' })]);
    const v2 = payunityFile([
      payunityLine({ id: 'w1', amount: '10.00', fee: '0.50', net: '9.50' }),
      payunityLine({ id: 'w2', amount: '5.00', fee: '0.25', net: '4.75' }),
    ]);
    const deliver = (content: string, at: string) =>
      utimesSync(writeFile(s.inbox, name, content), new Date(at), new Date(at));
    deliver(v1, '2026-11-21T06:00:00Z');
    const first = await fetchSettlement(s.ctx, 'payunity', DAY);
    deliver(v2, '2026-11-21T07:00:00Z');
    const second = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(second.files).toMatchObject([{ status: 'corrected', supersededFileId: first.files[0]!.fileId }]);

    // The gateway takes its correction back: the first version's bytes, delivered again.
    deliver(v1, '2026-11-21T08:00:00Z');
    const third = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(third.files).toMatchObject([
      {
        status: 'corrected',
        loaded: 1,
        fileId: first.files[0]!.fileId,
        supersededFileId: second.files[0]!.fileId,
      },
    ]);
    expect(await linesOf(second.files[0]!.fileId!)).toEqual([]);
    expect((await linesOf(first.files[0]!.fileId!)).map((l) => l.transaction_id)).toEqual(['w1']);
    const files = await db.db
      .selectFrom('settlement_files')
      .select(['id', 'status'])
      .where('remote_path', '=', name)
      .where('provider', '=', 'payunity')
      .orderBy('id')
      .execute();
    expect(files).toEqual([
      { id: first.files[0]!.fileId, status: 'loaded' },
      { id: second.files[0]!.fileId, status: 'superseded' },
    ]);
  });

  it('loads a same-size correction of a file dated outside the range, found by its new modification time', async () => {
    const s = setup('pu-same-size');
    const name = 'PAYUNITY_SETTLEMENT_M1_20261110.csv';
    const version = (amount: string) =>
      payunityFile([
        payunityLine({ id: 'm1', date: '2026-11-10', amount: '50.00', fee: '1.00', net: '49.00' }),
        payunityLine({
          id: 'm2',
          ref: 'm1',
          paymentType: 'RF',
          date: '2026-11-10',
          amount,
          fee: '0.00',
          net: amount,
        }),
      ]);
    const file = writeFile(s.inbox, name, version('-10.00'));
    utimesSync(file, new Date('2026-11-10T06:00:00Z'), new Date('2026-11-10T06:00:00Z'));
    const first = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-10', to: '2026-11-10' });
    expect(first.files).toMatchObject([{ name, status: 'loaded', loaded: 2 }]);

    // Listed again unchanged for another day: seen before, so not even downloaded.
    const unchanged = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(unchanged.files).toEqual([]);

    // The provider re-delivers it corrected: one amount changed, the byte size did not.
    const before = statSync(file).size;
    writeFile(s.inbox, name, version('-15.00'));
    expect(statSync(file).size).toBe(before);
    utimesSync(file, new Date('2026-11-21T06:00:00Z'), new Date('2026-11-21T06:00:00Z'));
    const second = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(second.files).toMatchObject([
      { name, status: 'corrected', loaded: 2, supersededFileId: first.files[0]!.fileId },
    ]);
    const lines = await linesOf(second.files[0]!.fileId!);
    expect(lines.map((l) => [l.transaction_id, l.gross_minor])).toEqual([
      ['m1', 5000],
      ['m2', -1500],
    ]);
    expect(await linesOf(first.files[0]!.fileId!)).toEqual([]);

    // Seen now under its new modification time: the next run skips it again.
    const third = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(third.files).toEqual([]);
  });

  it('downloads once a file recorded before modification times were, then knows it by its time', async () => {
    const s = setup('pu-no-mtime');
    const name = 'PAYUNITY_SETTLEMENT_O1_20261110.csv';
    writeFile(
      s.inbox,
      name,
      payunityFile([
        payunityLine({ id: 'o1', date: '2026-11-10', amount: '3.00', fee: '0.00', net: '3.00' }),
      ]),
    );
    const first = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-10', to: '2026-11-10' });
    expect(first.files).toMatchObject([{ name, status: 'loaded' }]);
    // As a row written before the column existed.
    await db.db
      .updateTable('settlement_files')
      .set({ remote_modified_at: null })
      .where('id', '=', first.files[0]!.fileId!)
      .execute();
    // Its size alone does not tell whether it changed: fetched and hashed, the same bytes load nothing...
    const second = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(second.files).toMatchObject([
      { name, status: 'duplicate', loaded: 0, fileId: first.files[0]!.fileId },
    ]);
    // ...and the time it was listed with is recorded, so it is not fetched again.
    const third = await fetchSettlement(s.ctx, 'payunity', DAY);
    expect(third.files).toEqual([]);
  });

  it('rejects whole files that cannot be read: bad gzip, not gzip despite the name, wrong encoding, missing column', async () => {
    const s = setup('ue-whole');
    const dir = path.join(s.inbox, 'useepay');
    const gz = writeFile(dir, 'useepay_settlement_1_2026-11-21.csv.gz', USEEPAY_EXAMPLE, { gzip: true });
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(gz);
    writeFile(dir, 'useepay_settlement_2_2026-11-21.csv.gz', bytes.subarray(0, bytes.length - 12));
    writeFile(dir, 'useepay_settlement_3_2026-11-21.csv.gz', USEEPAY_EXAMPLE);
    writeFile(dir, 'useepay_settlement_4_2026-11-21.csv', USEEPAY_EXAMPLE.replace('ORD-2001', 'ORD-\u00e9'), {
      encoding: 'latin1',
    });
    writeFile(dir, 'useepay_settlement_5_2026-11-21.csv', USEEPAY_EXAMPLE.replace(',fee,', ',fees,'));
    // UTF-16 without a BOM is valid UTF-8 full of NULs; CR line ends make the whole file one "header" line.
    writeFile(dir, 'useepay_settlement_6_2026-11-21.csv', USEEPAY_EXAMPLE, { encoding: 'utf16le' });
    writeFile(dir, 'useepay_settlement_7_2026-11-21.csv', USEEPAY_EXAMPLE.replaceAll('\n', '\r').repeat(50));
    // Such a "header" quotes the data lines, and a line may hold a card number: masked in the reason as in raw text.
    const card = '4111111111111111';
    writeFile(
      dir,
      'useepay_settlement_8_2026-11-21.csv',
      USEEPAY_EXAMPLE.replace('ORD-2001', card).replaceAll('\n', '\r'),
    );
    const out = await fetchSettlement(s.ctx, 'useepay', DAY);
    const by = Object.fromEntries(out.files.map((f) => [f.name.slice(19, 20), f]));
    expect(by['1']).toMatchObject({ status: 'loaded', loaded: 2 });
    expect(by['2']).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/bad gzip/) });
    expect(by['3']).toMatchObject({ status: 'rejected', reason: 'named .gz but is not gzip data' });
    expect(by['4']).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/not valid UTF-8/) });
    expect(by['5']).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/names a column the file does not have \(fee: "fee"\)/),
    });
    expect(by['6']).toMatchObject({ status: 'rejected', reason: expect.stringContaining('s\\0e\\0t\\0') });
    expect(by['7']).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/names a column/) });
    expect(by['7']!.reason!.length).toBeLessThanOrEqual(1000);
    expect(by['8']).toMatchObject({
      status: 'rejected',
      reason: expect.stringContaining('411111******1111'),
    });
    const stored = await db.db
      .selectFrom('settlement_files')
      .select('reject_reason')
      .where('file_name', '=', 'useepay_settlement_8_2026-11-21.csv')
      .executeTakeFirstOrThrow();
    expect(`${by['8']!.reason} ${stored.reject_reason}`).not.toContain(card);
  });

  it('stops between files when the run is interrupted, keeping what was committed', async () => {
    const s = setup('pu-abort');
    for (const d of ['20261121', '20261122', '20261123']) {
      writeFile(
        s.inbox,
        `PAYUNITY_SETTLEMENT_A1_${d}.csv`,
        payunityFile([payunityLine({ id: `ab${d}`, amount: '1.00', fee: '0.00', net: '1.00' })]),
      );
    }
    const interrupt = new AbortController();
    // A source interrupted (SIGTERM, say) while it hands over the second file, once the first one is committed.
    let downloads = 0;
    const committed = async () => {
      for (;;) {
        const n = await db.db
          .selectFrom('settlement_files')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('file_name', 'like', 'PAYUNITY_SETTLEMENT_A1_%')
          .executeTakeFirstOrThrow();
        if (Number(n.n) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const source = localSource(s.inbox, (local) => ({
      download: async (...args: Parameters<LocalFolderSource['download']>) => {
        const got = await local.download(...args);
        if (++downloads === 2) {
          await committed();
          interrupt.abort(new Error('interrupted by SIGTERM'));
        }
        return got;
      },
    }));
    const ctx = stageContext(db, s.ctx.config, interrupt.signal);
    const err = await fetchSettlement(
      ctx,
      'payunity',
      { from: '2026-11-21', to: '2026-11-23' },
      { source },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as Error).message).toMatch(
      /interrupted after 1 of 3 files of payunity: interrupted by SIGTERM$/,
    );
    const files = await db.db
      .selectFrom('settlement_files')
      .select(['file_name', 'status'])
      .where('file_name', 'like', 'PAYUNITY_SETTLEMENT_A1_%')
      .execute();
    expect(files).toEqual([{ file_name: 'PAYUNITY_SETTLEMENT_A1_20261121.csv', status: 'loaded' }]);
  });
});
