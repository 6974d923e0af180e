// Settlement files exactly as the built-in profiles describe them (settlement-files.md): names, header, trailer,
// net = gross - fee, BOM and gzip, ids as text, the fee schedule; and writing them (and the key) to disk.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { addDays } from '../../src/shared/dates.js';
import {
  compileRule,
  configSnippet,
  expectedFeeMinor,
  generateWorld,
  isBusinessDay,
  sumOfNet,
  writeAnswerKey,
  writeSettlementFiles,
} from '../../src/sandbox/generate/index.js';
import { parseFile, referenceDiscrepancies } from './reference.js';

const world = generateWorld({
  seed: 99,
  from: '2026-11-02',
  to: '2026-11-13',
  asOf: '2026-11-14',
  paymentsPerDay: 40,
  gzip: 'some',
  useepayBom: 'some',
});
const tmp = await mkdtemp(path.join(os.tmpdir(), 'payrecon-sbx-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const PU_NAME = /^PAYUNITY_SETTLEMENT_(?<entity>[0-9a-f]+)_(?<date>\d{8})\.csv(\.gz)?$/;
const UE_NAME = /^useepay_settlement_(?<merchant>\d+)_(?<date>\d{4}-\d{2}-\d{2})\.csv(\.gz)?$/;

describe('settlement files', () => {
  it('are named per profile, one per provider per business day, dated within the world', () => {
    const seen = new Set<string>();
    for (const f of world.settlementFiles) {
      const m = (f.provider === 'payunity' ? PU_NAME : UE_NAME).exec(f.name);
      expect(m, f.name).not.toBeNull();
      const date = m!.groups!.date!.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');
      expect(date).toBe(f.settlementDate);
      expect(isBusinessDay(date)).toBe(true);
      expect(date > world.options.from && date <= world.options.to).toBe(true);
      expect(seen.has(`${f.provider}|${date}`)).toBe(false);
      seen.add(`${f.provider}|${date}`);
      if (f.provider === 'payunity') expect(m!.groups!.entity).toBe(world.data.credentials.payunity.entityId);
      else expect(m!.groups!.merchant).toBe(world.data.credentials.useepay.merchantNo);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it('gzip some and BOM some: detectable by name and magic bytes', () => {
    const gz = world.settlementFiles.filter((f) => f.name.endsWith('.gz'));
    expect(gz.length).toBeGreaterThan(0);
    expect(gz.length).toBeLessThan(world.settlementFiles.length);
    for (const f of world.settlementFiles)
      expect(f.content[0] === 0x1f && f.content[1] === 0x8b).toBe(f.name.endsWith('.gz'));
    const plainUe = world.settlementFiles.filter((f) => f.provider === 'useepay' && !f.name.endsWith('.gz'));
    const bom = plainUe.filter(
      (f) => f.content[0] === 0xef && f.content[1] === 0xbb && f.content[2] === 0xbf,
    );
    expect(bom.length).toBeGreaterThan(0);
    expect(bom.length).toBeLessThan(plainUe.length);
    for (const f of world.settlementFiles.filter((x) => x.provider === 'payunity' && !x.name.endsWith('.gz')))
      expect(f.content[0]).toBe(0x53); // 'S'
  });

  it('parse: header, trailer count and exact sum, net = gross - fee, dates and batches consistent', () => {
    for (const f of world.settlementFiles) {
      const lines = parseFile(f.provider, f.name, f.content); // throws on a bad header, trailer or net
      expect(lines.every((l) => l.settlementDate === f.settlementDate)).toBe(true);
      expect(
        lines.some((l) => l.kind === 'fee' && l.transactionId === null && l.gross === 0 && l.fee > 0),
      ).toBe(true);
    }
    expect(
      sumOfNet([
        ['EUR', 8933],
        ['JPY', 56],
      ]),
    ).toBe('145.33');
    expect(
      sumOfNet([
        ['EUR', -1500],
        ['KWD', 1234],
      ]),
    ).toBe('-13.766');
  });

  it('write amounts in major units with the currency decimals (JPY whole) and ids as text', () => {
    const lines = world.settlementFiles.flatMap((f) => parseFile(f.provider, f.name, f.content));
    const text = world.settlementFiles
      .map((f) => f.content.toString('utf8'))
      .filter((t) => t.startsWith('settlement') || t.startsWith('\ufeff'));
    expect(text.join('\n')).not.toMatch(/e\+\d/);
    for (const row of text
      .join('\n')
      .split('\n')
      .filter((r) => r.includes(',JPY,')))
      expect(row.split(',').slice(8).join(',')).not.toMatch(/\./);
    const ueIds = lines.filter((l) => l.provider === 'useepay' && l.kind === 'payment' && l.transactionId);
    expect(ueIds.every((l) => /^\d{19}$/.test(l.transactionId!))).toBe(true);
    const kinds = new Set(lines.map((l) => l.kind));
    for (const k of ['payment', 'refund', 'chargeback', 'fee']) expect(kinds.has(k), k).toBe(true);
  });

  it('charge fees by the schedule on every payment line except the planted fee mismatches; refunds carry none', () => {
    const planted = new Set(
      world.answerKey.filter((e) => e.type === 'fee_mismatch').map((e) => e.transactionId),
    );
    const lines = world.settlementFiles.flatMap((f) => parseFile(f.provider, f.name, f.content));
    let checked = 0;
    for (const l of lines) {
      if (l.kind === 'refund' || l.kind === 'chargeback_reversal') expect(l.fee).toBe(0);
      if (l.kind !== 'payment' || planted.has(l.transactionId ?? '')) continue;
      const rule = world.config.fees[l.provider].find((r) => r.currency === l.currency)!;
      expect(l.fee).toBe(expectedFeeMinor(compileRule(rule), l.gross));
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
    // Round half up: 2.9% of 50 cents is 1.45 -> 1, of 1750 is 50.75 -> 51, of 1724.1379 … exact halves go up.
    const eur = compileRule({ currency: 'EUR', percent: '2.9', fixed: '0.25', tolerance: '0.01' });
    expect(expectedFeeMinor(eur, 50)).toBe(1 + 25);
    expect(expectedFeeMinor(eur, 1750)).toBe(51 + 25);
    expect(
      expectedFeeMinor(
        compileRule({ currency: 'EUR', percent: '2.5', fixed: '0', tolerance: '0' }),
        100 + 2 * 10,
      ),
    ).toBe(3);
  });

  it('carries lines without a transaction id that match by merchant reference', () => {
    const lines = world.settlementFiles.flatMap((f) => parseFile(f.provider, f.name, f.content));
    const refOnly = lines.filter((l) => l.kind === 'payment' && l.transactionId === null);
    expect(refOnly.filter((l) => l.provider === 'payunity')).toHaveLength(2);
    expect(refOnly.filter((l) => l.provider === 'useepay')).toHaveLength(2);
    expect(world.answerKey.some((e) => e.transactionId.startsWith('ref:'))).toBe(false);
  });
});

describe('writing a world', () => {
  it('writes every file into its provider folder, byte for byte, and the answer key as JSON', async () => {
    const dirs = { payunity: path.join(tmp, 'pu'), useepay: path.join(tmp, 'ue') };
    const written = await writeSettlementFiles(world, dirs);
    expect(written).toHaveLength(world.settlementFiles.length);
    expect((await readdir(dirs.payunity)).sort()).toEqual(
      world.settlementFiles
        .filter((f) => f.provider === 'payunity')
        .map((f) => f.name)
        .sort(),
    );
    for (const f of world.settlementFiles)
      expect((await readFile(path.join(dirs[f.provider], f.name))).equals(f.content)).toBe(true);
    const keyFile = path.join(tmp, 'key.json');
    await writeAnswerKey(world, keyFile);
    const doc = JSON.parse(await readFile(keyFile, 'utf8')) as {
      answerKey: unknown[];
      lateSettled: { file: { name: string } };
    };
    expect(doc.answerKey).toEqual(JSON.parse(JSON.stringify(world.answerKey)));
    expect(doc.lateSettled.file.name).toBe(world.lateSettled!.file.name);
  });

  it("emits a config snippet the real configuration schema accepts, with the world's fees and lags", () => {
    const snippet = parseYaml(configSnippet(world.config)) as {
      providers: Record<string, Record<string, unknown>>;
    };
    const c = world.data.credentials;
    const cfg = configSchema.parse({
      ...snippet,
      providers: {
        payunity: {
          ...snippet.providers.payunity,
          baseUrl: 'http://127.0.0.1:1',
          entityId: c.payunity.entityId,
          accessToken: 'x',
          settlement: { source: 'local', localDir: tmp },
        },
        useepay: {
          ...snippet.providers.useepay,
          baseUrl: 'http://127.0.0.1:2',
          merchantNo: c.useepay.merchantNo,
          appId: c.useepay.appId,
          apiKey: 'y',
          settlement: { source: 'local', localDir: tmp },
        },
      },
    });
    expect(cfg.providers.payunity?.settlementLagDays).toBe(3);
    expect(cfg.providers.useepay?.fees).toEqual(world.config.fees.useepay);
  });
});

describe('other shapes of world', () => {
  it('one provider, lag 1 and 5, a 3-decimal currency: the key still equals the reference', () => {
    for (const [provider, lag] of [
      ['useepay', 1],
      ['payunity', 5],
    ] as const) {
      const w = generateWorld({
        seed: lag,
        from: '2026-10-05',
        to: '2026-10-23',
        asOf: '2026-10-24',
        paymentsPerDay: 50,
        providers: [provider],
        currencies: ['USD', 'KWD', 'JPY'],
        settlementLagDays: { [provider]: lag },
      });
      expect(w.settlementFiles.every((f) => f.provider === provider)).toBe(true);
      const ref = referenceDiscrepancies(w);
      const s = (e: {
        type: string;
        transactionId: string;
        gatewayAmountMinor: number | null;
        settledAmountMinor: number | null;
      }): string => `${e.type}|${e.transactionId}|${e.gatewayAmountMinor}|${e.settledAmountMinor}`;
      expect(w.answerKey.map(s).sort()).toEqual(ref.entries.map(s).sort());
      expect(new Set(w.answerKey.map((e) => e.type)).size).toBe(9);
    }
  });

  it('random shapes (range, weekday of to, asOf gap, lags, providers): the key always equals the reference', () => {
    let seed = 1;
    const next = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    for (let i = 0; i < 12; i++) {
      const from = addDays('2026-09-01', next(40));
      const to = addDays(from, next(20));
      const asOf = addDays(to, next(12));
      const providers = (['payunity', 'useepay'] as const).filter((_, k) => next(4) !== k);
      const w = generateWorld({
        seed: i,
        from,
        to,
        asOf,
        paymentsPerDay: 15,
        providers: providers.length ? providers : ['useepay'],
        settlementLagDays: { payunity: 1 + next(5), useepay: 1 + next(5) },
        refOnlyLines: next(3),
        gzip: 'some',
      });
      const s = (e: {
        provider: string;
        type: string;
        transactionId: string;
        gatewayAmountMinor: number | null;
        settledAmountMinor: number | null;
      }): string =>
        `${e.provider}|${e.type}|${e.transactionId}|${e.gatewayAmountMinor}|${e.settledAmountMinor}`;
      const ref = referenceDiscrepancies(w);
      expect(w.answerKey.map(s).sort(), `${from}..${to} asOf ${asOf}`).toEqual(ref.entries.map(s).sort());
      expect(w.awaiting.map((a) => a.transactionId).sort()).toEqual([...ref.awaiting].sort());
    }
  });

  it('refuses an asOf before `to` and a lag of 0', () => {
    expect(() =>
      generateWorld({ seed: 1, from: '2026-11-02', to: '2026-11-10', asOf: '2026-11-09', paymentsPerDay: 1 }),
    ).toThrow(/asOf/);
    expect(() =>
      generateWorld({
        seed: 1,
        from: '2026-11-02',
        to: '2026-11-10',
        asOf: '2026-11-10',
        paymentsPerDay: 1,
        settlementLagDays: { payunity: 0 },
      }),
    ).toThrow(/settlementLagDays/);
  });
});
