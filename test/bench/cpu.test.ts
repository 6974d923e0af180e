// The benchmark's CPU accounting: this process's time, a child's, and a stage spanning overlapping provider events.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuMeter, cpuBetween, StageCpu } from '../../src/bench/cpu.js';
import { extraPool, testDbPerSuite, testDbUrl } from '../helpers/db.js';

const db = testDbPerSuite();

/** Busy until this process has used `ms` more of CPU (wall time would depend on how loaded the machine is). */
function burn(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i);
    const d = process.cpuUsage(start);
    if ((d.user + d.system) / 1000 >= ms) break;
  }
  expect(x).toBeGreaterThan(0);
}

describe('CpuMeter', () => {
  it('counts this process and a busy child, and no database without a server to read', async () => {
    const child = spawn(process.execPath, ['-e', 'const e = Date.now() + 5000; while (Date.now() < e);']);
    const spawned = once(child, 'spawn');
    const exited = once(child, 'exit');
    const meter = new CpuMeter(child.pid, null);
    const a = meter.snapshot();
    burn(150);
    await spawned;
    // The child's CPU shows in /proc at the kernel's tick; wait for it (bounded) rather than a fixed time.
    for (let i = 0; i < 100 && meter.snapshot().sandbox <= a.sandbox; i++)
      await new Promise((r) => setTimeout(r, 30));
    const b = meter.snapshot();
    child.kill();
    await exited;
    const used = cpuBetween(a, b);
    expect(used.run).toBeGreaterThanOrEqual(150);
    expect(used.sandbox).toBeGreaterThan(0);
    expect(used.database).toBeNull();
  });

  it('finds the postmaster of a backend on this machine, and nothing for a process that is not postgres', async () => {
    const pool = extraPool(db, 1);
    try {
      const { rows } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
      const postmaster = CpuMeter.postmasterOf(rows[0]!.pid);
      // Only a server on this machine can be read (a TEST_DATABASE_URL may name another one).
      const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(testDbUrl(db.name)).hostname);
      if (local) {
        expect(postmaster).not.toBeNull();
        expect(readFileSync(`/proc/${postmaster}/comm`, 'utf8').trim()).toBe('postgres');
        expect(new CpuMeter(undefined, postmaster).snapshot().database).toBeGreaterThan(0);
      }
    } finally {
      await pool.end();
    }
    expect(CpuMeter.postmasterOf(process.pid)).toBeNull();
  });
});

describe('StageCpu', () => {
  it('measures a stage from its first start to its last end, across overlapping providers', () => {
    let t = 0;
    const meter = { snapshot: () => ({ run: t, sandbox: 0, database: 2 * t }) } as unknown as CpuMeter;
    const stages = new StageCpu(meter);
    t = 10;
    stages.event('pull', 'start');
    t = 15;
    stages.event('pull', 'start');
    t = 40;
    stages.event('pull', 'end');
    expect(stages.used('pull')).toBeNull();
    t = 70;
    stages.event('pull', 'end');
    expect(stages.used('pull')).toEqual({ run: 60, sandbox: 0, database: 120 });
    expect(stages.used('match')).toBeNull();
  });
});
