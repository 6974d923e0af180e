// The answer key against the real pipeline: settlement files fetched from a local folder, both gateways pulled
// from the simulators over HTTP, matched in Postgres. The open discrepancies must be exactly the key, amounts
// included; then the late file arrives and a rerun with a later clock closes exactly the late payment's entry.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { OpenDatabase } from '../../src/db/open.js';
import { createGatewayClient } from '../../src/gateways/index.js';
import { executeRun } from '../../src/jobs/run.js';
import { defaultStages, lookupAndStore } from '../../src/jobs/stages.js';
import { matchRange } from '../../src/reconcile/index.js';
import { answerKeyAt, awaitingAt, generateWorld, writeSettlementFile, writeSettlementFiles, type AnswerKeyEntry } from '../../src/sandbox/generate/index.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { silentLogger } from '../../src/shared/log.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

// Gzipped and BOM-prefixed files and repeated PayUnity records too: quirks the real pipeline must take in its stride.
const world = generateWorld({
  seed: 5150, from: '2026-11-02', to: '2026-11-13', asOf: '2026-11-14', paymentsPerDay: 40, gzip: 'some', useepayBom: 'some', repeatedRecords: 6,
});
let tdb: TestDb;
let db: OpenDatabase;
let servers: SandboxServers;
let tmp: string;

beforeAll(async () => {
  tdb = await createTestDb();
  db = { ...tdb, embedded: undefined, shutdown: () => tdb.close() };
  servers = await startSandboxServers(world.data);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'payrecon-sbx-e2e-'));
});
afterAll(async () => {
  await servers.close();
  await tdb.drop();
  await rm(tmp, { recursive: true, force: true });
});

function config() {
  const c = world.data.credentials;
  const settlement = (p: string) => ({ source: 'local', profile: p, localDir: path.join(tmp, 'inbox', p), archiveDir: path.join(tmp, 'archive', p) });
  return parseConfig({
    timezone: 'UTC',
    providers: {
      payunity: { baseUrl: servers.payunityUrl, entityId: c.payunity.entityId, accessToken: c.payunity.accessToken,
        settlementLagDays: world.config.settlementLagDays.payunity, fees: world.config.fees.payunity, settlement: settlement('payunity') },
      useepay: { baseUrl: servers.useepayUrl, merchantNo: c.useepay.merchantNo, appId: c.useepay.appId, apiKey: c.useepay.apiKey,
        settlementLagDays: world.config.settlementLagDays.useepay, fees: world.config.fees.useepay, settlement: settlement('useepay') },
    },
  }, {}).config;
}

async function run(to: string, asOf: string) {
  const cfg = config();
  const log = silentLogger();
  const stages = defaultStages({ config: cfg, log });
  stages.match = (ctx, sel) =>
    matchRange(ctx, sel, { lookup: async (provider, ids) => void (await lookupAndStore(ctx, createGatewayClient(provider, cfg, { log }), ids)) })
      .then((summary) => ({ ...summary }));
  return executeRun(
    { db, config: cfg, log, signal: new AbortController().signal, now: () => new Date(`${asOf}T12:00:00Z`), stages },
    { command: 'run', range: { from: world.options.from, to }, providers: ['payunity', 'useepay'], stages: { fetch: true, pull: true, report: false } },
  );
}

const show = (e: { provider: string; type: string; transactionId: string; gateway: unknown; settled: unknown }): string =>
  `${e.provider} ${e.type} ${e.transactionId} gw=${String(e.gateway)} settled=${String(e.settled)}`;

async function openDiscrepancies(): Promise<string[]> {
  const rows = await db.db.selectFrom('discrepancies').where('status', '=', 'open')
    .select(['provider', 'type', 'transaction_id', 'gateway_amount_minor', 'settled_amount_minor']).execute();
  return rows.map((r) => show({ provider: r.provider, type: r.type, transactionId: r.transaction_id,
    gateway: r.gateway_amount_minor === null ? null : Number(r.gateway_amount_minor), settled: r.settled_amount_minor === null ? null : Number(r.settled_amount_minor) })).sort();
}

const keyLines = (key: AnswerKeyEntry[]): string[] =>
  key.map((e) => show({ ...e, gateway: e.gatewayAmountMinor, settled: e.settledAmountMinor })).sort();

describe('the answer key against the real pipeline', () => {
  it('a run over [from, to] as of asOf opens exactly the answer key', async () => {
    await writeSettlementFiles(world, { payunity: path.join(tmp, 'inbox', 'payunity'), useepay: path.join(tmp, 'inbox', 'useepay') });
    const result = await run(world.options.to, world.options.asOf);
    expect(result.status).toBe('succeeded');
    expect(await openDiscrepancies()).toEqual(keyLines(world.answerKey));
    expect(result.counts.awaitingSettlement).toBe(world.awaiting.length);
    expect(result.counts.rejectedLines).toBe(0);
  });

  it('the late file and a later clock: the late payment closes, awaiting movements past their deadline open', async () => {
    const late = world.lateSettled!;
    await writeSettlementFile(late.file, path.join(tmp, 'inbox', late.provider));
    const later = late.file.settlementDate;
    const result = await run(later, later);
    expect(await openDiscrepancies()).toEqual(keyLines(answerKeyAt(world, later, { lateFileLoaded: true })));
    expect(result.counts.awaitingSettlement).toBe(awaitingAt(world, later).length);
    const closed = await db.db.selectFrom('discrepancies').where('status', '=', 'closed').select(['transaction_id', 'close_reason']).execute();
    expect(closed.map((c) => c.transaction_id)).toEqual([late.transactionId]);
  });
});
