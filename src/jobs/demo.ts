// `payrecon demo`: the whole job on embedded defaults. A generated week of activity with planted discrepancies,
// the gateway simulators in-process on ephemeral ports, a local settlement folder, an embedded PostgreSQL of its
// own (never the one holding real data), and the real run writing the real workbook.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../config/load.js';
import { PROVIDERS, type Config } from '../config/schema.js';
import { openDatabase } from '../db/open.js';
import { generateWorld, writeSettlementFiles } from '../sandbox/generate/index.js';
import { startSandboxServers } from '../sandbox/server/index.js';
import { addDays, todayIn } from '../shared/dates.js';
import type { Logger } from '../shared/log.js';
import type { RunResult } from './manifest.js';
import { executeRun } from './run.js';
import { defaultStages } from './stages.js';

export interface DemoOptions {
  /** Folder for the demo's database, settlement inbox and archive (default ./.payrecon/demo). */
  dir: string;
  reportsDir: string;
  seed: number;
  days: number;
  paymentsPerDay: number;
  port: number;
  log: Logger;
  signal: AbortSignal;
  now: () => Date;
}

export interface DemoOutcome {
  result: RunResult;
  planted: number;
  config: Config;
}

export async function runDemo(opts: DemoOptions): Promise<DemoOutcome> {
  const today = todayIn('UTC', opts.now());
  const to = addDays(today, -1);
  const from = addDays(to, -(opts.days - 1));
  opts.log.info({ from, to, seed: opts.seed }, 'generating sandbox activity');
  const world = generateWorld({
    seed: opts.seed,
    from,
    to,
    asOf: today,
    paymentsPerDay: opts.paymentsPerDay,
  });
  const inbox = {
    payunity: path.join(opts.dir, 'inbox', 'payunity'),
    useepay: path.join(opts.dir, 'inbox', 'useepay'),
  };
  // The inbox mirrors today's generated world; the archive and database keep what earlier demos loaded.
  for (const d of Object.values(inbox)) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  await writeSettlementFiles(world, inbox);
  const servers = await startSandboxServers(world.data, { log: opts.log });
  try {
    const c = world.data.credentials;
    const { config } = parseConfig(
      {
        timezone: 'UTC',
        database: { embedded: { dataDir: path.join(opts.dir, 'pg'), port: opts.port } },
        reports: { dir: opts.reportsDir },
        providers: {
          payunity: {
            baseUrl: servers.payunityUrl,
            entityId: c.payunity.entityId,
            accessToken: c.payunity.accessToken,
            settlementLagDays: world.config.settlementLagDays.payunity,
            fees: world.config.fees.payunity,
            settlement: {
              source: 'local',
              profile: 'payunity',
              localDir: inbox.payunity,
              archiveDir: path.join(opts.dir, 'archive', 'payunity'),
            },
          },
          useepay: {
            baseUrl: servers.useepayUrl,
            merchantNo: c.useepay.merchantNo,
            appId: c.useepay.appId,
            apiKey: c.useepay.apiKey,
            settlementLagDays: world.config.settlementLagDays.useepay,
            fees: world.config.fees.useepay,
            settlement: {
              source: 'local',
              profile: 'useepay',
              localDir: inbox.useepay,
              archiveDir: path.join(opts.dir, 'archive', 'useepay'),
            },
          },
        },
        refunds: {
          maxPerRefund: { EUR: 500, USD: 500, JPY: 50000 },
          maxPerExecution: { EUR: 5000, USD: 5000, JPY: 500000 },
        },
      },
      {},
    );
    // The demo reads no configuration file: a taken port is changed with its --port option.
    const db = await openDatabase(config, opts.log, { portSetting: '--port' });
    try {
      const result = await executeRun(
        {
          db,
          config,
          log: opts.log,
          signal: opts.signal,
          now: opts.now,
          stages: defaultStages({ config, log: opts.log }),
        },
        {
          command: 'run',
          range: { from, to },
          providers: [...PROVIDERS],
          stages: { fetch: true, pull: true, report: true },
        },
      );
      return { result, planted: world.answerKey.length, config };
    } finally {
      await db.shutdown();
    }
  } finally {
    await servers.close();
  }
}
