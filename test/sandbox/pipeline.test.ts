// The answer key against the real pipeline: settlement files fetched from a local folder, both gateways pulled
// from the simulators over HTTP, matched in Postgres. The open discrepancies must be exactly the key, amounts
// included; then the late file arrives and a rerun with a later clock closes exactly the late payment's entry.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { OpenDatabase } from '../../src/db/open.js';
import { executeRun } from '../../src/jobs/run.js';
import { defaultStages } from '../../src/jobs/stages.js';
import {
  answerKeyAt,
  awaitingAt,
  generateWorld,
  writeSettlementFile,
  writeSettlementFiles,
  type AnswerKeyEntry,
  type World,
  type WorldOptions,
} from '../../src/sandbox/generate/index.js';
import { startSandboxServers, type SandboxServers } from '../../src/sandbox/server/index.js';
import { silentLogger } from '../../src/shared/log.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

const show = (e: {
  provider: string;
  type: string;
  transactionId: string;
  gateway: unknown;
  settled: unknown;
}): string =>
  `${e.provider} ${e.type} ${e.transactionId} gw=${String(e.gateway)} settled=${String(e.settled)}`;
const keyLines = (key: AnswerKeyEntry[]): string[] =>
  key.map((e) => show({ ...e, gateway: e.gatewayAmountMinor, settled: e.settledAmountMinor })).sort();

/** One world with its own database, simulators and settlement folders. */
function scenario(opts: WorldOptions) {
  const world: World = generateWorld(opts);
  const env = {} as { tdb: TestDb; db: OpenDatabase; servers: SandboxServers; tmp: string };
  beforeAll(async () => {
    env.tdb = await createTestDb();
    env.db = { ...env.tdb, embedded: undefined, shutdown: () => env.tdb.close() };
    env.servers = await startSandboxServers(world.data);
    env.tmp = await mkdtemp(path.join(os.tmpdir(), 'payrecon-sbx-e2e-'));
    await writeSettlementFiles(world, { payunity: inbox('payunity'), useepay: inbox('useepay') });
  });
  afterAll(async () => {
    await env.servers.close();
    await env.tdb.drop();
    await rm(env.tmp, { recursive: true, force: true });
  });
  const inbox = (p: string): string => path.join(env.tmp, 'inbox', p);

  function config() {
    const c = world.data.credentials;
    const settlement = (p: string) => ({
      source: 'local',
      profile: p,
      localDir: inbox(p),
      archiveDir: path.join(env.tmp, 'archive', p),
    });
    return parseConfig(
      {
        timezone: 'UTC',
        providers: {
          payunity: {
            baseUrl: env.servers.payunityUrl,
            entityId: c.payunity.entityId,
            accessToken: c.payunity.accessToken,
            settlementLagDays: world.config.settlementLagDays.payunity,
            fees: world.config.fees.payunity,
            settlement: settlement('payunity'),
          },
          useepay: {
            baseUrl: env.servers.useepayUrl,
            merchantNo: c.useepay.merchantNo,
            appId: c.useepay.appId,
            apiKey: c.useepay.apiKey,
            settlementLagDays: world.config.settlementLagDays.useepay,
            fees: world.config.fees.useepay,
            settlement: settlement('useepay'),
          },
        },
      },
      {},
    ).config;
  }

  async function run(to: string, asOf: string) {
    const cfg = config();
    const log = silentLogger();
    const stages = defaultStages({ config: cfg, log });
    return executeRun(
      {
        db: env.db,
        config: cfg,
        log,
        signal: new AbortController().signal,
        now: () => new Date(`${asOf}T12:00:00Z`),
        stages,
      },
      {
        command: 'run',
        range: { from: world.options.from, to },
        providers: ['payunity', 'useepay'],
        stages: { fetch: true, pull: true, report: false },
      },
    );
  }

  async function open(status: 'open' | 'closed' = 'open'): Promise<string[]> {
    const rows = await env.db.db
      .selectFrom('discrepancies')
      .where('status', '=', status)
      .select(['provider', 'type', 'transaction_id', 'gateway_amount_minor', 'settled_amount_minor'])
      .execute();
    return rows
      .map((r) =>
        show({
          provider: r.provider,
          type: r.type,
          transactionId: r.transaction_id,
          gateway: r.gateway_amount_minor === null ? null : Number(r.gateway_amount_minor),
          settled: r.settled_amount_minor === null ? null : Number(r.settled_amount_minor),
        }),
      )
      .sort();
  }

  return { world, run, open, inbox };
}

describe('a two-week world, run the day after (gzip, BOM and repeated records included)', () => {
  const s = scenario({
    seed: 5150,
    from: '2026-11-02',
    to: '2026-11-13',
    asOf: '2026-11-14',
    paymentsPerDay: 40,
    gzip: 'some',
    useepayBom: 'some',
    repeatedRecords: 6,
  });

  it('a run over [from, to] as of asOf opens exactly the answer key', async () => {
    const result = await s.run(s.world.options.to, s.world.options.asOf);
    expect(result.status).toBe('succeeded');
    expect(await s.open()).toEqual(keyLines(s.world.answerKey));
    expect(result.counts.awaitingSettlement).toBe(s.world.awaiting.length);
    expect(result.counts.rejectedLines).toBe(0);
  });

  it('the late file and a later clock: the late payment closes, awaiting movements past their deadline open', async () => {
    const late = s.world.lateSettled!;
    await writeSettlementFile(late.file, s.inbox(late.provider));
    const later = late.file.settlementDate;
    const result = await s.run(later, later);
    expect(await s.open()).toEqual(keyLines(answerKeyAt(s.world, later, { lateFileLoaded: true })));
    expect(result.counts.awaitingSettlement).toBe(awaitingAt(s.world, later).length);
    const closed = await s.open('closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]).toContain(late.transactionId);
  });
});

describe('a world run long after `to`, other lags, more plants', () => {
  const s = scenario({
    seed: 77,
    from: '2026-10-05',
    to: '2026-10-16',
    asOf: '2026-10-28',
    paymentsPerDay: 30,
    settlementLagDays: { payunity: 2, useepay: 4 },
    plant: { amount_mismatch: 4, status_mismatch: 3, fee_mismatch: 3 },
    refOnlyLines: 4,
    currencies: ['EUR', 'JPY', 'USD', 'GBP'],
  });

  it('opens exactly the key, unplanned missing_in_settlement near `to` included', async () => {
    expect(s.world.answerKey.some((e) => !e.planted)).toBe(true);
    const result = await s.run(s.world.options.to, s.world.options.asOf);
    expect(result.status).toBe('succeeded');
    expect(await s.open()).toEqual(keyLines(s.world.answerKey));
    expect(result.counts.awaitingSettlement).toBe(0);
  });
});
