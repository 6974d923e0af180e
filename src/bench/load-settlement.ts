// Load benchmark: generates a PayUnity settlement file of N lines, loads it through the real parser and COPY
// loader into a fresh database, and prints lines/s and peak RSS.
//
//   npx tsc -p tsconfig.build.json
//   node --expose-gc dist/src/bench/load-settlement.js --lines 1000000 [--gzip] [--bad-every 1000]
//
// Uses $BENCH_DATABASE_URL when set (the database is migrated, and the benchmark's rows are deleted after);
// otherwise starts an embedded PostgreSQL in a temporary folder. Target on a 2-core machine: >= 100,000 lines/s,
// < 300 MB peak RSS of this process (the server is a separate process).
import { createWriteStream, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { parseArgs } from 'node:util';
import { connect } from '../db/connect.js';
import { benchDatabase, readyBenchDatabase } from './database.js';
import { CpuMeter, cpuBetween } from './cpu.js';
import { loadSettlementFile } from '../settlement/load.js';
import { payunityProfile } from '../settlement/profiles/index.js';
import { limitHeapGrowth } from '../shared/heap.js';

const HEADER =
  'SettlementDate;AggregationId;ReconciliationType;TransactionId;ReferencedId;MerchantTransactionId;PaymentType;TransactionDate;Currency;Amount;Fee;Net';

function hex(i: number, salt: string): string {
  return createHash('md5')
    .update(salt + i)
    .digest('hex');
}

/** Writes a realistic file: payments with fees, some refunds, distinct 32-hex ids, and a correct trailer. */
async function generate(file: string, lines: number, gzip: boolean, badEvery: number): Promise<void> {
  let net = 0n;
  function* rows(): Generator<string> {
    yield HEADER + '\n';
    let buf = '';
    for (let i = 0; i < lines; i++) {
      const refund = i % 10 === 9;
      const cents = 1000 + ((i * 7919) % 90000);
      const fee = refund ? 0 : Math.floor(cents * 0.029) + 25;
      const gross = refund ? -cents : cents;
      const n = gross - fee;
      net += BigInt(n);
      const amt = (v: number) =>
        `${v < 0 ? '-' : ''}${Math.floor(Math.abs(v) / 100)}.${String(Math.abs(v) % 100).padStart(2, '0')}`;
      const id = hex(i, 't').slice(0, 32);
      const bad = badEvery > 0 && i % badEvery === badEvery - 1;
      buf += `2026-11-21;8a82944a4cc25ebf014cc2c782423202;SETTLED;${id};${refund ? hex(i - 1, 't').slice(0, 32) : ''};ORD-${i};${refund ? 'RF' : 'DB'};2026-11-20 ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:11;EUR;${bad ? amt(gross) + '1' : amt(gross)};${amt(fee)};${amt(n)}\n`;
      if (buf.length > 1 << 16) {
        yield buf;
        buf = '';
      }
    }
    yield buf;
    const neg = net < 0n;
    const abs = (neg ? -net : net).toString().padStart(3, '0');
    yield `TRAILER;${lines};${neg ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}\n`;
  }
  const out = createWriteStream(file);
  if (gzip) await pipeline(Readable.from(rows()), createGzip({ level: 1 }), out);
  else {
    for (const chunk of rows()) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await finished(out);
  }
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file) as AsyncIterable<Buffer>) h.update(c);
  return h.digest('hex');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' },
      gzip: { type: 'boolean', default: false },
      'bad-every': { type: 'string', default: '0' },
      'generate-to': { type: 'string' },
    },
  });
  const lines = Number(values.lines);
  const badEvery = Number(values['bad-every']);
  if (values['generate-to']) return generate(values['generate-to'], lines, values.gzip, badEvery);
  // BENCH_PG_SETTINGS="max_wal_size=4GB,shared_buffers=512MB" tries server settings (defaults otherwise).
  const settings = Object.fromEntries(
    (process.env.BENCH_PG_SETTINGS ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const bench = await benchDatabase('payrecon-bench-', settings);
  const { tmp } = bench;
  try {
    const handle = connect(bench.url, { max: 2 });
    try {
      await readyBenchDatabase(bench, handle);
      const name = `PAYUNITY_SETTLEMENT_BENCH_20261121.csv${values.gzip ? '.gz' : ''}`;
      const file = path.join(tmp, name);
      let t = Date.now();
      // In a child process, so that the peak RSS below is the loader's alone.
      const child = spawn(
        process.execPath,
        [
          process.argv[1] ?? '',
          '--generate-to',
          file,
          '--lines',
          String(lines),
          '--bad-every',
          String(badEvery),
          ...(values.gzip ? ['--gzip'] : []),
        ],
        { stdio: 'inherit' },
      );
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`generator exited with ${code}`);
      const size = statSync(file).size;
      process.stdout.write(
        `generated ${lines} lines, ${(size / 1e6).toFixed(1)} MB in ${Date.now() - t} ms\n`,
      );
      const digest = await sha256(file);
      const wal0 = await handle.pool.query<{ bytes: string }>(
        `select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint::text as bytes`,
      );

      global.gc?.();
      let peak = process.memoryUsage().rss;
      let peakHeap = 0;
      let peakExternal = 0;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss);
        peakHeap = Math.max(peakHeap, m.heapTotal);
        peakExternal = Math.max(peakExternal, m.external);
      }, 20);
      // CPU time next to wall-clock lines/s: other engineers share these cores, so it is the steadier figure.
      const backend = await handle.pool.query<{ pid: number }>('select pg_backend_pid() as pid');
      const meter = new CpuMeter(undefined, CpuMeter.postmasterOf(backend.rows[0]!.pid));
      t = performance.now();
      const cpu0 = meter.snapshot();
      const out = await loadSettlementFile(handle.pool, {
        provider: 'payunity',
        remotePath: `/bench/${name}`,
        fileName: name,
        size,
        sha256: digest,
        settlementDate: '2026-11-21',
        localPath: file,
        profile: payunityProfile,
        runId: null,
      });
      const ms = performance.now() - t;
      const cpu = cpuBetween(cpu0, meter.snapshot());
      const wal = await handle.pool.query<{ bytes: string }>(
        `select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint::text as bytes`,
      );
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      if (out.status !== 'loaded') throw new Error(`benchmark file was ${out.status}: ${out.reason ?? ''}`);
      const total = out.loaded + out.rejected;
      process.stdout.write(
        `loaded ${out.loaded} lines (${out.rejected} rejected) in ${(ms / 1000).toFixed(2)} s: ` +
          `${Math.round(total / (ms / 1000)).toLocaleString('en-US')} lines/s, peak RSS ${(peak / 1048576).toFixed(0)} MB` +
          ` (JS heap ${(peakHeap / 1048576).toFixed(0)} MB, external ${(peakExternal / 1048576).toFixed(0)} MB)\n` +
          `CPU: payrecon ${(cpu.run / 1000).toFixed(2)} s` +
          (cpu.database !== null ? `, postgres ${(cpu.database / 1000).toFixed(2)} s` : '') +
          `; WAL ${((Number(wal.rows[0]?.bytes) - Number(wal0.rows[0]?.bytes)) / 1048576).toFixed(0)} MB` +
          `; load average ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')} on ${os.cpus().length} cores\n`,
      );
      await handle.pool.query('delete from settlement_files where id = $1', [out.fileId]);
    } finally {
      await handle.close();
    }
  } finally {
    await bench.close();
  }
}

// As the payrecon command does.
limitHeapGrowth();
// A failure rejects the module's top-level await: Node prints its stack and exits with 1.
await main();
