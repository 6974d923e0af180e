// The benchmarks empty payrecon's tables, so a database of the user's is theirs only when it holds no records or
// was given to them before (marked on first use).
import { expect, it } from 'vitest';
import { claimBenchDatabase } from '../../src/bench/database.js';
import { testDbPerTest } from '../helpers/db.js';

const db = testDbPerTest();

const marked = async () =>
  (await db.pool.query<{ m: boolean }>(`select to_regclass('payrecon_bench') is not null as m`)).rows[0]!.m;
const addRun = () => db.pool.query(`insert into runs (command, tool_version) values ('run', 'test')`);

it('marks an empty database on first use, and takes it again once the benchmark has written to it', async () => {
  await claimBenchDatabase(db.pool);
  expect(await marked()).toBe(true);
  await addRun();
  await expect(claimBenchDatabase(db.pool)).resolves.toBeUndefined();
});

it('refuses a database with payrecon records that was never given to the benchmarks, and leaves it as it was', async () => {
  await addRun();
  await expect(claimBenchDatabase(db.pool)).rejects.toThrow(
    new RegExp(
      `BENCH_DATABASE_URL names database "${db.name}", which holds payrecon's records \\(runs: 1, settlement files: 0\\)`,
    ),
  );
  expect(await marked()).toBe(false);
  expect((await db.pool.query('select count(*)::int as n from runs')).rows[0]).toEqual({ n: 1 });
});
