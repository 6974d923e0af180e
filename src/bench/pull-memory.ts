// Pull benchmark: serves N gateway records from the simulators (in a child process, so their data does not count
// against us), then (1) streams them through both clients alone and (2) pulls them into a fresh database through
// the real stage. Prints records/s of each phase and the peak RSS of this process.
//
//   npx tsc -p tsconfig.build.json
//   node dist/src/bench/pull-memory.js --records 200000 [--days 10]
//
// Uses $BENCH_DATABASE_URL when set (migrated; the benchmark's rows are deleted after); otherwise starts an
// embedded PostgreSQL in a temporary folder. Memory must stay flat: it may not grow with the number of records.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configSchema, type Config } from '../config/schema.js';
import { connect } from '../db/connect.js';
import { benchDatabase, readyBenchDatabase, type BenchDatabase } from './database.js';
import { createGatewayClient } from '../gateways/index.js';
import { pullGateway } from '../gateways/stage.js';
import type { SandboxData } from '../sandbox/data.js';
import { startSandboxServers } from '../sandbox/server/index.js';
import { buildSampleData } from '../sandbox/server/sample-data.js';
import { addDays } from '../shared/dates.js';
import { silentLogger } from '../shared/log.js';
import { limitHeapGrowth } from '../shared/heap.js';

const FROM = '2026-10-01';

function world(records: number, days: number): SandboxData {
  // The sample world yields ~1.42 money records per PayUnity root and ~1.12 per UseePay intent: half each.
  const perDay = (share: number, ratio: number) =>
    Math.max(1, Math.round((records / 2 / days / ratio) * share));
  return buildSampleData({
    from: FROM,
    days,
    payunityPerDay: perDay(1, 1.42),
    useepayPerDay: perDay(1, 1.12),
    seed: 9,
  });
}

async function serve(records: number, days: number): Promise<void> {
  const data = world(records, days);
  const servers = await startSandboxServers(data);
  process.stdout.write(
    JSON.stringify({
      payunityUrl: servers.payunityUrl,
      useepayUrl: servers.useepayUrl,
      credentials: data.credentials,
    }) + '\n',
  );
  // The parent asks for the simulators' CPU time around each phase: on a shared machine it is part of the cost.
  process.on('SIGUSR2', () => process.stdout.write(JSON.stringify(process.cpuUsage()) + '\n'));
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await servers.close();
}

function diff(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): NodeJS.CpuUsage {
  return { user: a.user - b.user, system: a.system - b.system };
}

function config(
  urls: { payunityUrl: string; useepayUrl: string; credentials: SandboxData['credentials'] },
  dbUrl: string,
): Config {
  const settlement = { source: 'local', localDir: os.tmpdir() };
  const pull = { trailingDays: 0, concurrency: 4 };
  const c = urls.credentials;
  return configSchema.parse({
    database: { url: dbUrl },
    providers: {
      payunity: {
        baseUrl: urls.payunityUrl,
        entityId: c.payunity.entityId,
        accessToken: c.payunity.accessToken,
        settlement,
        pull,
      },
      useepay: {
        baseUrl: urls.useepayUrl,
        merchantNo: c.useepay.merchantNo,
        appId: c.useepay.appId,
        apiKey: c.useepay.apiKey,
        settlement,
        pull,
      },
    },
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      days: { type: 'string', default: '10' },
      serve: { type: 'boolean', default: false },
    },
  });
  const records = Number(values.records);
  const days = Number(values.days);
  if (values.serve) return serve(records, days);

  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--serve', '--records', String(records), '--days', String(days)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const simulatorCpu = async (): Promise<NodeJS.CpuUsage> => {
    const line = new Promise<string>((resolve) => lines.once('line', resolve));
    child.kill('SIGUSR2');
    return JSON.parse(await line) as NodeJS.CpuUsage;
  };
  const urls = JSON.parse(first) as Parameters<typeof config>[0];

  // memoryUsage.rss() alone: the full memoryUsage() also walks the heap's spaces, 1.7% of the pull's CPU at 50 Hz.
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  let bench: BenchDatabase | undefined;
  try {
    bench = await benchDatabase('payrecon-bench-pull-', { fsync: 'off', synchronous_commit: 'off' });
    const cfg = config(urls, bench.url);
    const log = silentLogger();
    const window = { from: new Date(`${FROM}T00:00:00Z`), to: new Date(`${addDays(FROM, days)}T00:00:00Z`) };

    // Phase 1: the clients alone (HTTP + JSON + mapping).
    const startRss = process.memoryUsage().rss;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    let sim0 = await simulatorCpu();
    let n = 0;
    for (const p of ['payunity', 'useepay'] as const)
      for await (const page of createGatewayClient(p, cfg, { log }).pull(window)) n += page.records.length;
    const clientSeconds = (performance.now() - t0) / 1000;
    const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
    // On a shared machine wall time says more about the neighbours than about us: CPU time of this process is the
    // figure that carries over (the simulators run in a child process).
    const clientCpu = cpuSeconds(process.cpuUsage(cpu0));
    const clientSimCpu = cpuSeconds(diff(await simulatorCpu(), sim0));
    const clientPeak = peak;

    // Phase 2: the pull stage into Postgres.
    const handle = connect(bench.url);
    await readyBenchDatabase(bench, handle);
    await handle.db.deleteFrom('gateway_transactions').execute();
    const ctx = {
      db: handle.db,
      pool: handle.pool,
      config: cfg,
      log,
      signal: new AbortController().signal,
      runId: null,
      now: () => new Date(),
    };
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    sim0 = await simulatorCpu();
    let stored = 0;
    for (const p of ['payunity', 'useepay'] as const)
      stored += (
        await pullGateway(
          ctx,
          p,
          { from: FROM, to: addDays(FROM, days - 1) },
          createGatewayClient(p, cfg, { log }),
        )
      ).records;
    const stageSeconds = (performance.now() - t0) / 1000;
    const stageCpu = cpuSeconds(process.cpuUsage(cpu0));
    const stageSimCpu = cpuSeconds(diff(await simulatorCpu(), sim0));
    if (process.env.BENCH_DATABASE_URL) {
      await handle.db.deleteFrom('gateway_transactions').execute();
      await handle.db.deleteFrom('pull_windows').where('run_id', 'is', null).execute();
    }
    await handle.close();
    const mb = (b: number) => Math.round(b / 1024 / 1024);
    process.stdout.write(
      JSON.stringify(
        {
          records: n,
          clientOnly: {
            seconds: +clientSeconds.toFixed(2),
            recordsPerSecond: Math.round(n / clientSeconds),
            cpuSeconds: +clientCpu.toFixed(2),
            recordsPerCpuSecond: Math.round(n / clientCpu),
            simulatorCpuSeconds: +clientSimCpu.toFixed(2),
            peakRssMb: mb(clientPeak),
          },
          pullIntoPostgres: {
            records: stored,
            seconds: +stageSeconds.toFixed(2),
            recordsPerSecond: Math.round(stored / stageSeconds),
            cpuSeconds: +stageCpu.toFixed(2),
            simulatorCpuSeconds: +stageSimCpu.toFixed(2),
          },
          loadAverage: os.loadavg().map((l) => +l.toFixed(1)),
          rssAtStartMb: mb(startRss),
          peakRssMb: mb(peak),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await bench?.close();
  }
}

// As the payrecon command does.
limitHeapGrowth();
await main();
