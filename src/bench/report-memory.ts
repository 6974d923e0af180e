// Report benchmark: a run with N open discrepancies (and N/10 awaiting movements) written to a workbook; prints
// the time and the peak RSS of this process. Run it at two sizes to see that memory stays flat in N.
//
//   npx tsc -p tsconfig.build.json
//   node --expose-gc dist/src/bench/report-memory.js --rows 200000
//
// Uses $BENCH_DATABASE_URL when set (migrated; the benchmark's rows are deleted after); otherwise starts an
// embedded PostgreSQL in a temporary folder.
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { parseConfig } from '../config/load.js';
import { connect } from '../db/connect.js';
import { benchDatabase, readyBenchDatabase } from './database.js';
import { writeReportDetailed } from '../report/index.js';
import { silentLogger } from '../shared/log.js';
import { limitHeapGrowth } from '../shared/heap.js';

/** One run with `rows` open discrepancies over three currencies and every type, set-based in one statement each. */
async function seed(pool: pg.Pool, rows: number): Promise<number> {
  const run = await pool.query<{ id: number }>(
    `insert into runs (command, from_date, to_date, providers, status, started_at, finished_at, tool_version)
     values ('bench', '2026-11-01', '2026-11-20', '{payunity,useepay}', 'succeeded', '2026-11-23T06:00:00Z', now(), 'bench')
     returning id`,
  );
  const runId = run.rows[0]!.id;
  await pool.query(
    `insert into discrepancies (id, provider, type, transaction_id, payment_id, merchant_reference, transaction_time,
       settlement_date, currency, gateway_amount_minor, settled_amount_minor, difference_minor, refundable_minor, detail, opened_run_id)
     select 'DBENCH' || lpad(i::text, 10, '0'),
       case when i % 2 = 0 then 'payunity' else 'useepay' end,
       (array['amount_mismatch','missing_in_settlement','missing_in_gateway','status_mismatch','fee_mismatch',
              'duplicate_settlement','duplicate_charge','currency_mismatch','refund_exceeds_payment'])[1 + i % 9],
       (1012411211459019141 + i)::text, (1012411211459019141 + i)::text, 'ORD-' || i,
       timestamptz '2026-11-01T00:00:00Z' + (i % 1700) * interval '17 minutes', date '2026-11-03' + (i % 18),
       (array['EUR','JPY','KWD'])[1 + i % 3], 1000 + i % 90000, 1100 + i % 90000, 100, 100,
       'benchmark discrepancy number ' || i, $1
     from generate_series(1, $2::int) i`,
    [runId, rows],
  );
  await pool.query(
    `insert into run_discrepancies (run_id, discrepancy_id, change)
     select $1, id, 'opened' from discrepancies where id like 'DBENCH%'`,
    [runId],
  );
  await pool.query(
    `insert into run_awaiting (run_id, provider, transaction_id, gateway_type, kind, merchant_reference, currency, amount_minor, transaction_time, deadline)
     select $1, 'payunity', 'aw' || i, 'DB', 'payment', 'ORD-aw' || i, 'EUR', 1000 + i, timestamptz '2026-11-20T10:00:00Z', date '2026-11-25'
     from generate_series(1, $2::int / 10) i`,
    [runId, rows],
  );
  await pool.query('analyze');
  return runId;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' } } });
  const rows = Number(values.rows);
  const bench = await benchDatabase('payrecon-bench-report-', { fsync: 'off' });
  const { tmp } = bench;
  try {
    const handle = connect(bench.url, { max: 2 });
    try {
      await readyBenchDatabase(bench, handle);
      let t = Date.now();
      const runId = await seed(handle.pool, rows);
      process.stdout.write(`seeded ${rows} discrepancies in ${Date.now() - t} ms\n`);
      const { config } = parseConfig(
        {
          reports: { dir: path.join(tmp, 'reports') },
          providers: {
            useepay: {
              baseUrl: 'http://127.0.0.1:9',
              merchantNo: '1',
              appId: 'a',
              apiKey: 'k',
              settlement: { source: 'local', localDir: tmp },
            },
          },
        },
        {},
      );
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      let peakHeap = 0;
      let peakBuffers = 0;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peak = Math.max(peak, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      }, 20);
      t = performance.now();
      const cpu = process.cpuUsage();
      const result = await writeReportDetailed(
        {
          db: handle.db,
          pool: handle.pool,
          config,
          log: silentLogger(),
          signal: new AbortController().signal,
          runId,
          now: () => new Date(),
        },
        runId,
      );
      const ms = performance.now() - t;
      const cpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu));
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const mb = (b: number) => (b / 1048576).toFixed(0);
      process.stdout.write(
        `wrote ${result.rows.Discrepancies} discrepancy rows (+${result.rows['Awaiting settlement']} awaiting) in ${(ms / 1000).toFixed(2)} s ${JSON.stringify(result.ms)} ` +
          `(${Math.round(result.rows.Discrepancies / (ms / 1000)).toLocaleString('en-US')} rows/s), ` +
          `${(statSync(result.path).size / 1e6).toFixed(1)} MB; this process used ${(cpuMs / 1000).toFixed(2)} s of CPU; ` +
          `RSS before ${mb(before)} MB, peak ${mb(peak)} MB (peak JS heap ${mb(peakHeap)} MB, Buffers ${mb(peakBuffers)} MB)\n`,
      );
      if (process.env.BENCH_DATABASE_URL) {
        await handle.pool.query('delete from runs where id = $1', [runId]);
        await handle.pool.query(`delete from discrepancies where id like 'DBENCH%'`);
      }
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
