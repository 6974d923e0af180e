// The loader's guarantees against a real database: many rejected lines in bounded batches, a trigger someone adds
// to settlement_lines still fires (the COPY only skips the file_id check when there is none), two loads of
// the same file at once load it once, and a load whose connection dies mid-COPY fails instead of waiting for ever.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettlementFile } from '../../src/settlement/load.js';
import { useepayProfile } from '../../src/settlement/profiles/index.js';
import { testDbPerSuite } from '../helpers/db.js';
import { USEEPAY_HEADER, loadInput, payunityFile, payunityLine, writeFile } from './builders.js';

const db = testDbPerSuite();
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-load-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('loadSettlementFile', () => {
  it('stores thousands of rejected lines in batches between COPYs, with the good lines of the same file', async () => {
    const rows = [USEEPAY_HEADER];
    for (let i = 1; i <= 12_005; i++) {
      rows.push(
        i % 2401 === 0
          ? `2026-11-21,B,payment,ok${i},ok${i},O${i},2026-11-20T09:15:02Z,USD,1.00,0.00,1.00`
          : `2026-11-21,B,payment,bad${i},bad${i},O${i},2026-11-20T09:15:02Z,USD,1.001,0.00,1.001`,
      );
    }
    const name = 'useepay_settlement_1_2026-11-21.csv';
    const file = writeFile(tmp, name, rows.join('\n') + '\n');
    const out = await loadSettlementFile(db.pool, loadInput(file, name, useepayProfile));
    expect(out).toMatchObject({ status: 'loaded', lineCount: 12_005, loaded: 5, rejected: 12_000 });
    const r = await sql<{
      n: number;
      min: number;
      max: number;
    }>`select count(*)::int as n, min(line_no) as min, max(line_no) as max from rejected_lines where file_id = ${out.fileId}`.execute(
      db.db,
    );
    expect(r.rows[0]).toEqual({ n: 12_000, min: 2, max: 12_005 });
    const l = await sql<{
      line_no: number;
    }>`select line_no from settlement_lines where file_id = ${out.fileId} order by line_no`.execute(db.db);
    expect(l.rows.map((x) => x.line_no)).toEqual([2402, 4803, 7204, 9605, 12006]);
  });

  it('keeps firing a trigger that someone adds to settlement_lines', async () => {
    await sql`create table trigger_seen (line_id bigint)`.execute(db.db);
    await sql`create function note_line() returns trigger language plpgsql as $$ begin insert into trigger_seen values (new.id); return new; end $$`.execute(
      db.db,
    );
    await sql`create trigger note_line after insert on settlement_lines for each row execute function note_line()`.execute(
      db.db,
    );
    try {
      const name = 'PAYUNITY_SETTLEMENT_TR_20261121.csv';
      const file = writeFile(
        tmp,
        name,
        payunityFile([
          payunityLine({ id: 't1', amount: '1.00', fee: '0.00', net: '1.00' }),
          payunityLine({ id: 't2', amount: '2.00', fee: '0.00', net: '2.00' }),
        ]),
      );
      const out = await loadSettlementFile(db.pool, loadInput(file, name));
      expect(out).toMatchObject({ status: 'loaded', loaded: 2 });
      const seen = await sql<{ n: number }>`select count(*)::int as n from trigger_seen`.execute(db.db);
      expect(seen.rows[0]!.n).toBe(2);
    } finally {
      await sql`drop trigger note_line on settlement_lines`.execute(db.db);
    }
  });

  it('loads a file once when two loads of it race', async () => {
    const name = 'PAYUNITY_SETTLEMENT_RACE_20261121.csv';
    const lines = Array.from({ length: 2000 }, (_, i) =>
      payunityLine({ id: `r${i}`, amount: '1.00', fee: '0.00', net: '1.00' }),
    );
    const file = writeFile(tmp, name, payunityFile(lines));
    const [a, b] = await Promise.all([
      loadSettlementFile(db.pool, loadInput(file, name)),
      loadSettlementFile(db.pool, loadInput(file, name)),
    ]);
    expect([a.status, b.status].sort()).toEqual(['duplicate', 'loaded']);
    expect(a.fileId).toBe(b.fileId);
    const n = await sql<{
      n: number;
    }>`select count(*)::int as n from settlement_lines where file_id = ${a.fileId}`.execute(db.db);
    expect(n.rows[0]!.n).toBe(2000);
  });

  it('fails, and leaves nothing of the file, when its connection is terminated during the COPY', async () => {
    const name = 'useepay_settlement_1_2026-11-22.csv';
    const rows = [USEEPAY_HEADER];
    for (let i = 1; i <= 400_000; i++)
      rows.push(`2026-11-22,B,payment,k${i},k${i},O${i},2026-11-21T09:15:02Z,USD,1.00,0.00,1.00`);
    const file = writeFile(tmp, name, rows.join('\n') + '\n');
    const load = loadSettlementFile(db.pool, loadInput(file, name, useepayProfile));
    load.catch(() => undefined);
    // What a server restart or an administrator does to the session, once its COPY is under way.
    let terminated = false;
    for (let i = 0; i < 500 && !terminated; i++) {
      const r = await sql<{ n: number }>`
        select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and query ilike 'copy settlement_lines%'`.execute(
        db.db,
      );
      terminated = r.rows[0]!.n > 0;
      if (!terminated) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(terminated).toBe(true);
    const outcome = await Promise.race([
      load.then(
        () => 'loaded',
        (e: Error) => e.message,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000)),
    ]);
    // What ended the load (the server's message, or the reset when the socket died before it was read), not the
    // error of the rollback then tried on the dead connection.
    expect(outcome).toMatch(/loading settlement file .* failed: /);
    expect(outcome).not.toMatch(/not queryable/);
    const n = await sql<{
      n: number;
    }>`select count(*)::int as n from settlement_files where file_name = ${name}`.execute(db.db);
    expect(n.rows[0]!.n).toBe(0);
  }, 30_000);

  it('stops inside a long file when the run is stopped, and leaves nothing of it', async () => {
    const name = 'useepay_settlement_1_2026-11-23.csv';
    const rows = [USEEPAY_HEADER];
    for (let i = 1; i <= 400_000; i++)
      rows.push(`2026-11-23,B,payment,s${i},s${i},O${i},2026-11-22T09:15:02Z,USD,1.00,0.00,1.00`);
    const file = writeFile(tmp, name, rows.join('\n') + '\n');
    const stop = new AbortController();
    const load = loadSettlementFile(db.pool, {
      ...loadInput(file, name, useepayProfile),
      signal: stop.signal,
    });
    load.catch(() => undefined);
    // A SIGTERM once the file's lines are streaming into the database.
    let copying = false;
    for (let i = 0; i < 500 && !copying; i++) {
      const r = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and query ilike 'copy settlement_lines%'`.execute(db.db);
      copying = r.rows[0]!.n > 0;
      if (!copying) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(copying).toBe(true);
    const reason = new Error('stopped by SIGTERM');
    stop.abort(reason);
    // The run's own reason comes back, not a database error of the file; nothing of the file is recorded.
    await expect(load).rejects.toBe(reason);
    const n = await sql<{
      n: number;
    }>`select count(*)::int as n from settlement_files where file_name = ${name}`.execute(db.db);
    expect(n.rows[0]!.n).toBe(0);
  }, 30_000);
});
