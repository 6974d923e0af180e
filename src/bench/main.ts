// `npm run bench -- --payments N [--json]`: times every stage of a real run on the real code path against the
// sandbox, and measures the floor of this machine in the same process: a raw COPY of the same settlement files
// into an unlogged table, and one plain full outer join over the same row counts.
import { fork } from 'node:child_process';
import { chmodSync, createReadStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { parseConfig } from '../config/load.js';
import type { SandboxCredentials } from '../sandbox/data.js';
import { openDatabase } from '../db/open.js';
import { executeRun } from '../jobs/run.js';
import { defaultStages } from '../jobs/stages.js';
import { addDays } from '../shared/dates.js';
import { serverPort } from '../shared/free-port.js';
import { limitHeapGrowth } from '../shared/heap.js';
import { createLogger } from '../shared/log.js';
import { CpuMeter, cpuBetween, StageCpu } from './cpu.js';
import { claimBenchDatabase } from './database.js';
import { measureRss, type BenchReport, formatReport } from './report.js';
import { formatSummaries, repeatRuns, rssRatio, summarise } from './repeat.js';

interface Ready {
  payunityUrl: string;
  useepayUrl: string;
  credentials: SandboxCredentials;
  worldConfig: {
    fees: { payunity: unknown[]; useepay: unknown[] };
    settlementLagDays: { payunity: number; useepay: number };
  };
  dirs: { payunity: string; useepay: string };
  generateMs: number;
  counts: Record<string, number>;
}

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '100000' },
    days: { type: 'string', default: '30' },
    repeat: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const sizes = values.payments.split(',').map((s) => Number(s.trim()));
const days = Number(values.days);
const repeat = Number(values.repeat);
if (sizes.some((n) => !Number.isInteger(n) || n < 10))
  throw new Error('--payments must be a whole number ≥ 10, or several separated by commas');
if (!Number.isInteger(days) || days < 1) throw new Error('--days must be a whole number ≥ 1');
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a whole number ≥ 1');

if (sizes.length > 1 || repeat > 1) {
  // Several runs: each in a process of its own (see repeat.ts), then each figure's spread.
  const reports = await repeatRuns({
    sizes,
    repeat,
    days,
    script: fileURLToPath(import.meta.url),
    execArgv: process.execArgv,
    extraArgs: values.keep ? ['--keep'] : [],
    onRun: (done, total, r) =>
      process.stderr.write(
        `run ${done} of ${total}: N = ${r.payments}, end to end ${(r.endToEndMs / 1000).toFixed(2)} s, peak RSS ${r.peakRssMb} MB\n`,
      ),
  });
  process.stdout.write(
    values.json
      ? JSON.stringify({ runs: reports, summary: summarise(reports), rssRatio: rssRatio(reports) }) + '\n'
      : formatSummaries(reports) + '\n',
  );
} else {
  // As the payrecon command does: one run here is the real job's memory.
  limitHeapGrowth();
  const report = await runBenchmark(sizes[0]!);
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
}

/** One run of the real job at N = `payments`, with the floors measured after it in the same process. */
async function runBenchmark(payments: number): Promise<BenchReport> {
  const log = createLogger({ level: 'warn' });
  const rss = measureRss();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-bench-'));
  chmodSync(dir, 0o755);
  const to = '2026-10-31';
  const from = addDays(to, -(days - 1));
  const asOf = '2026-11-10';

  const child = fork(
    new URL('./sandbox-child.js', import.meta.url),
    [JSON.stringify({ payments, dir, from, to, asOf, days })],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Ready));
      child.once('exit', (code) => reject(new Error(`sandbox process exited with ${code}`)));
    });

    // Never $DATABASE_URL: the run below starts from empty tables (see ./database.ts).
    const dbUrl = process.env.BENCH_DATABASE_URL;
    const { config } = parseConfig(
      {
        database: dbUrl
          ? { url: dbUrl }
          : { embedded: { dataDir: path.join(dir, 'pg'), port: await serverPort() } },
        reports: { dir: path.join(dir, 'reports') },
        providers: {
          payunity: {
            baseUrl: ready.payunityUrl,
            entityId: ready.credentials.payunity.entityId,
            accessToken: ready.credentials.payunity.accessToken,
            settlementLagDays: ready.worldConfig.settlementLagDays.payunity,
            fees: ready.worldConfig.fees.payunity,
            pull: { trailingDays: 0 },
            settlement: {
              source: 'local',
              localDir: ready.dirs.payunity,
              archiveDir: path.join(dir, 'archive', 'payunity'),
            },
          },
          useepay: {
            baseUrl: ready.useepayUrl,
            merchantNo: ready.credentials.useepay.merchantNo,
            appId: ready.credentials.useepay.appId,
            apiKey: ready.credentials.useepay.apiKey,
            settlementLagDays: ready.worldConfig.settlementLagDays.useepay,
            fees: ready.worldConfig.fees.useepay,
            pull: { trailingDays: 0 },
            settlement: {
              source: 'local',
              localDir: ready.dirs.useepay,
              archiveDir: path.join(dir, 'archive', 'useepay'),
            },
          },
        },
      },
      // No environment: DATABASE_URL in it would stand in for the embedded server (parseConfig), and the benchmark
      // would write a month of made-up payments into the database payrecon keeps its records in.
      {},
    );

    const db = await openDatabase(config, log);
    let report: BenchReport;
    try {
      if (dbUrl) {
        await claimBenchDatabase(db.pool);
        await db.pool.query('truncate runs, settlement_files, gateway_transactions, discrepancies cascade');
      }
      const backend = await db.pool.query<{ pid: number }>('select pg_backend_pid() as pid');
      const meter = new CpuMeter(child.pid, CpuMeter.postmasterOf(backend.rows[0]!.pid));
      const stageCpu = new StageCpu(meter);
      const started = Date.now();
      const cpuStart = meter.snapshot();
      const peakAfter: Record<string, number> = {};
      const result = await executeRun(
        {
          db,
          config,
          log,
          signal: new AbortController().signal,
          now: () => new Date(`${asOf}T12:00:00Z`),
          stages: defaultStages({ config, log }),
          // The peak so far when each stage ends: which stage set the run's peak.
          onStage: (stage, _provider, state) => {
            stageCpu.event(stage, state);
            if (state === 'end') peakAfter[stage] = rss.peakMb();
          },
        },
        {
          command: 'run',
          range: { from, to },
          providers: ['payunity', 'useepay'],
          stages: { fetch: true, pull: true, report: true },
        },
      );
      const endToEndMs = Date.now() - started;
      const cpuEnd = meter.snapshot();
      const runRss = rss.peakMb();
      const row = await db.db
        .selectFrom('runs')
        .select(['manifest'])
        .where('id', '=', result.runId)
        .executeTakeFirstOrThrow();
      // A stage's wall time: from its first provider's start to its last one's end (providers run at once).
      const stageMs = (name: string) => {
        const spans = Object.entries(row.manifest.stages as Record<string, { startedAt: string; ms: number }>)
          .filter(([k]) => k === name || k.startsWith(`${name}:`))
          .map(([, v]) => ({ start: Date.parse(v.startedAt), end: Date.parse(v.startedAt) + v.ms }));
        if (spans.length === 0) return 0;
        return Math.max(...spans.map((x) => x.end)) - Math.min(...spans.map((x) => x.start));
      };
      const counts = await db.pool.query<{ lines: string; txns: string; discrepancies: string }>(
        `select (select count(*) from settlement_lines) as lines, (select count(*) from gateway_transactions) as txns,
                (select count(*) from discrepancies where status = 'open') as discrepancies`,
      );
      const lines = Number(counts.rows[0]?.lines);
      const txns = Number(counts.rows[0]?.txns);

      // Floor 1: the same files, COPY'd raw (one text column per line) into an unlogged table.
      await db.pool.query('drop table if exists bench_raw; create unlogged table bench_raw (line text)');
      const copyStarted = Date.now();
      for (const provider of ['payunity', 'useepay'] as const) {
        for (const name of readdirSync(ready.dirs[provider])) {
          const client = await db.pool.connect();
          try {
            const source = createReadStream(path.join(ready.dirs[provider], name));
            const sink = client.query(copyFrom(`copy bench_raw (line) from stdin with (format text)`));
            if (name.endsWith('.gz')) await pipeline(source, createGunzip(), sink);
            else await pipeline(source, sink);
          } finally {
            client.release();
          }
        }
      }
      const copyMs = Date.now() - copyStarted;
      await db.pool.query('drop table bench_raw');

      // Floor 2: one plain full outer join of the same rows on the match key.
      const joinStarted = Date.now();
      await db.pool.query(
        `select count(*) from (select provider, transaction_id from settlement_lines) s
           full outer join (select provider, transaction_id from gateway_transactions) g using (provider, transaction_id)`,
      );
      const joinMs = Date.now() - joinStarted;

      report = {
        payments,
        days,
        generateMs: ready.generateMs,
        sandbox: ready.counts,
        lines,
        gatewayRecords: txns,
        openDiscrepancies: Number(counts.rows[0]?.discrepancies),
        stages: {
          load: stageMs('fetch'),
          pull: stageMs('pull'),
          match: stageMs('match'),
          report: stageMs('report'),
        },
        floors: { copy: copyMs, join: joinMs },
        endToEndMs,
        cpuMs: {
          load: stageCpu.used('fetch'),
          pull: stageCpu.used('pull'),
          match: stageCpu.used('match'),
          report: stageCpu.used('report'),
          endToEnd: cpuBetween(cpuStart, cpuEnd),
        },
        peakRssMb: runRss,
        peakRssAfterMb: peakAfter,
        reportPath: result.reportPath,
      };
    } finally {
      await db.shutdown();
    }
    return report;
  } finally {
    // Also when the run failed: the sandbox stops, and its generated files (hundreds of MB at 1M) go.
    if (child.connected) child.send({ type: 'stop' });
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}
