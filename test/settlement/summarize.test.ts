// The loader summarises the BRIN ranges its lines filled before it commits, and never waits for a lock to do it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSettlementFile } from '../../src/settlement/load.js';
import { useepayProfile } from '../../src/settlement/profiles/index.js';
import { testDbPerTest } from '../helpers/db.js';
import { USEEPAY_HEADER, loadInput, writeFile } from './builders.js';

const db = testDbPerTest();
let tmp: string;
let file: string;
const NAME = 'useepay_settlement_1_2026-11-21.csv';

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-summarize-'));
  // Enough lines for several block ranges of 128 pages.
  const rows = [USEEPAY_HEADER];
  for (let i = 1; i <= 40_000; i++)
    rows.push(`2026-11-21,B,payment,pi_${i},pi_${i},ORD-${i},2026-11-20T09:15:02Z,USD,1.00,0.00,1.00`);
  file = writeFile(tmp, NAME, rows.join('\n') + '\n');
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Block ranges of settlement_lines without a summary, counted by summarising them now (the partial last one too). */
async function unsummarized(): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select brin_summarize_new_values('settlement_lines_file_date_idx'::regclass)::int as n`.execute(db.db);
  return r.rows[0]!.n;
}

async function ranges(): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select ceil(pg_relation_size('settlement_lines') / 8192.0 / 128)::int as n`.execute(db.db);
  return r.rows[0]!.n;
}

it('a load leaves every range of its lines summarised', async () => {
  const out = await loadSettlementFile(db.pool, loadInput(file, NAME, useepayProfile));
  expect(out).toMatchObject({ status: 'loaded', loaded: 40_000, rejected: 0 });
  expect(await ranges()).toBeGreaterThan(2);
  expect(await unsummarized()).toBe(0);
});

it('a load does not wait for a lock held on the table, and leaves its ranges to the vacuum before matching', async () => {
  // A session holding what autovacuum, auto-analyze or another load's summarising holds.
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    await other.query('begin');
    await other.query('lock table settlement_lines in share update exclusive mode');
    const out = await loadSettlementFile(db.pool, loadInput(file, NAME, useepayProfile));
    expect(out).toMatchObject({ status: 'loaded', loaded: 40_000, rejected: 0 });
    await other.query('commit');
  } finally {
    await other.end();
  }
  // All but the first: an index built on an empty table has a summary of its first range, kept up by every insert.
  expect(await unsummarized()).toBe((await ranges()) - 1);
});
