// The sandbox world's answer key, reproduced exactly: its gateway records normalised and stored as a pull would,
// its settlement files parsed and loaded as a fetch would, then one match over its dates with its clock.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mapPayunityRecords } from '../../src/gateways/payunity/map.js';
import { storeTransactions } from '../../src/gateways/store.js';
import { mapUseepayIntent, mapUseepayRefund } from '../../src/gateways/useepay/map.js';
import { matchRange } from '../../src/reconcile/index.js';
import {
  answerKeyAt,
  awaitingAt,
  generateWorld,
  writeSettlementFile,
  type World,
} from '../../src/sandbox/generate/index.js';
import { loadSettlementFile } from '../../src/settlement/load.js';
import { payunityProfile, useepayProfile } from '../../src/settlement/profiles/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { newRun, selection, stageContext, testConfig } from './fixtures.js';

const db = testDbPerSuite();
let dir: string;
let world: World;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'payrecon-reconcile-key-'));
  world = generateWorld({
    seed: 20261121,
    from: '2026-11-02',
    to: '2026-11-13',
    asOf: '2026-11-16',
    paymentsPerDay: 40,
  });
  const txns = [
    ...mapPayunityRecords(world.data.payunity),
    ...world.data.useepay.intents.map(mapUseepayIntent),
    ...world.data.useepay.refunds.map(mapUseepayRefund),
  ];
  await storeTransactions(db.db, null, txns);
  for (const f of world.settlementFiles) await load(f);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(f: World['settlementFiles'][number]): Promise<void> {
  const localPath = await writeSettlementFile(f, path.join(dir, f.provider));
  const out = await loadSettlementFile(db.pool, {
    provider: f.provider,
    remotePath: `/${f.name}`,
    fileName: f.name,
    size: f.content.length,
    sha256: createHash('sha256').update(f.content).digest('hex'),
    settlementDate: f.settlementDate,
    localPath,
    profile: f.provider === 'payunity' ? payunityProfile : useepayProfile,
    runId: null,
  });
  expect(out.status, `${f.name}: ${out.reason ?? ''}`).toBe('loaded');
}

function worldConfig() {
  return testConfig({
    payunity: {
      fees: world.config.fees.payunity,
      settlementLagDays: world.config.settlementLagDays.payunity,
    },
    useepay: { fees: world.config.fees.useepay, settlementLagDays: world.config.settlementLagDays.useepay },
  });
}

async function openRows() {
  const rows = await db.db.selectFrom('discrepancies').selectAll().where('status', '=', 'open').execute();
  return rows
    .map((d) => ({
      id: d.id,
      provider: d.provider,
      type: d.type,
      transactionId: d.transaction_id,
      gatewayAmountMinor: d.gateway_amount_minor,
      settledAmountMinor: d.settled_amount_minor,
      differenceMinor: d.difference_minor,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

function keyRows(key: World['answerKey']) {
  return key
    .map((e) => ({
      id: e.id,
      provider: e.provider,
      type: e.type,
      transactionId: e.transactionId,
      gatewayAmountMinor: e.gatewayAmountMinor,
      settledAmountMinor: e.settledAmountMinor,
      differenceMinor: e.differenceMinor,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

test('a run over the world finds exactly its answer key, and its awaiting movements', async () => {
  const run = await newRun(db.db);
  const s = await matchRange(
    stageContext(db, worldConfig(), `${world.options.asOf}T12:00:00Z`, run),
    selection(world.options.from, world.options.to),
    { lookup: () => Promise.resolve() },
  );
  // Every type is planted (two of each per provider by default), so this compares something real.
  expect(new Set(world.answerKey.map((e) => e.type)).size).toBe(9);
  expect(await openRows()).toEqual(keyRows(world.answerKey));
  const awaiting = await db.db
    .selectFrom('run_awaiting')
    .select(['provider', 'transaction_id', 'amount_minor', 'currency', 'deadline'])
    .where('run_id', '=', run)
    .execute();
  const norm = (
    rows: {
      provider: string;
      transactionId: string;
      amountMinor: number;
      currency: string;
      deadline: string;
    }[],
  ) =>
    rows.map((r) => `${r.provider}|${r.transactionId}|${r.amountMinor}|${r.currency}|${r.deadline}`).sort();
  expect(
    norm(
      awaiting.map((a) => ({
        provider: a.provider,
        transactionId: a.transaction_id,
        amountMinor: a.amount_minor,
        currency: a.currency,
        deadline: a.deadline,
      })),
    ),
  ).toEqual(norm(world.awaiting));
  expect(s.awaitingSettlement.count).toBe(world.awaiting.length);
});

test('a later run: awaiting movements past their deadline become missing; the late file closes its discrepancy', async () => {
  const later = '2026-11-30';
  const run = await newRun(db.db);
  await matchRange(
    stageContext(db, worldConfig(), `${later}T12:00:00Z`, run),
    selection(world.options.from, world.options.to),
    { lookup: () => Promise.resolve() },
  );
  expect(await openRows()).toEqual(keyRows(answerKeyAt(world, later)));
  expect(awaitingAt(world, later)).toEqual([]);

  const late = world.lateSettled;
  expect(late).toBeDefined();
  await load(late!.file);
  const run2 = await newRun(db.db);
  await matchRange(
    stageContext(db, worldConfig(), `${later}T12:00:00Z`, run2),
    selection(late!.file.settlementDate, late!.file.settlementDate),
    { lookup: () => Promise.resolve() },
  );
  expect(await openRows()).toEqual(keyRows(answerKeyAt(world, later, { lateFileLoaded: true })));
  const closed = await db.db
    .selectFrom('discrepancies')
    .select(['transaction_id', 'close_reason'])
    .where('closed_run_id', '=', run2)
    .execute();
  expect(closed).toEqual([
    { transaction_id: late!.transactionId, close_reason: `settled late on ${late!.file.settlementDate}` },
  ]);
});

test('a provider whose matching fails stops the other one: neither commits anything, the first error is reported', async () => {
  const before = await openRows();
  const run = await newRun(db.db);
  const asked: string[] = [];
  // payunity fails only once useepay's lookup is running, so that the abort has something to stop.
  let useepayAsked!: () => void;
  const useepayRunning = new Promise<void>((resolve) => (useepayAsked = resolve));
  const failing = matchRange(
    stageContext(db, worldConfig(), `${world.options.asOf}T12:00:00Z`, run),
    selection(world.options.from, world.options.to),
    {
      lookup: (provider, _ids, signal) => {
        asked.push(provider);
        if (provider === 'payunity')
          return useepayRunning.then(() => Promise.reject(new Error('payunity is down')));
        useepayAsked();
        // The other provider's lookup is still running when the first fails: it must be told to stop.
        return new Promise((_resolve, reject) => {
          if (signal.aborted) reject(signal.reason as Error);
          else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        });
      },
    },
  );
  await expect(failing).rejects.toThrow('payunity is down');
  expect(asked.sort()).toEqual(['payunity', 'useepay']);
  expect(await openRows()).toEqual(before);
  for (const table of ['run_discrepancies', 'run_awaiting', 'matches'] as const) {
    const n = await db.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', run)
      .executeTakeFirstOrThrow();
    expect([table, Number(n.n)]).toEqual([table, 0]);
  }
});
