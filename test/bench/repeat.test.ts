// Repeated benchmark runs: each figure's spread over runs, targets counted at N = 1,000,000 only, and the RSS ratio
// between the two sizes the issue names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report.js';
import { formatSummaries, repeatRuns, rssRatio, spread, summarise } from '../../src/bench/repeat.js';

function report(payments: number, over: { e2eMs: number; rssMb: number; pullMs?: number }): BenchReport {
  return {
    payments,
    days: 30,
    generateMs: 1,
    sandbox: {},
    lines: 780_000,
    gatewayRecords: 1_150_000,
    openDiscrepancies: 5,
    stages: { load: 6000, pull: over.pullMs ?? 23_000, match: 13_000, report: 7000 },
    floors: { copy: 1000, join: 650 },
    endToEndMs: over.e2eMs,
    cpuMs: {
      load: null,
      pull: null,
      match: null,
      report: null,
      endToEnd: { run: 25_000, sandbox: 3_500, database: null },
    },
    peakRssMb: over.rssMb,
    peakRssAfterMb: {},
    reportPath: null,
  };
}

const figure = (s: ReturnType<typeof summarise>[number], name: string) => {
  const f = s.figures.find((x) => x.name === name);
  if (!f) throw new Error(`no figure ${name}`);
  return f;
};

describe('spread', () => {
  it('gives the smallest, the middle and the largest value', () => {
    expect(spread([5, 1, 3])).toEqual({ min: 1, median: 3, max: 5 });
  });

  it('takes the mean of the middle two for an even count', () => {
    expect(spread([4, 1, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4 });
  });

  it('leaves out values that were not measured', () => {
    expect(spread([NaN, 2, NaN])).toEqual({ min: 2, median: 2, max: 2 });
    expect(spread([NaN])).toEqual({ min: NaN, median: NaN, max: NaN });
  });
});

describe('summarise', () => {
  const reports = [
    report(1_000_000, { e2eMs: 61_000, rssMb: 270, pullMs: 25_000 }),
    report(100_000, { e2eMs: 7000, rssMb: 200 }),
    report(1_000_000, { e2eMs: 55_000, rssMb: 280, pullMs: 20_000 }),
    report(100_000, { e2eMs: 8000, rssMb: 190 }),
    report(1_000_000, { e2eMs: 58_000, rssMb: 260, pullMs: 23_000 }),
  ];

  it('groups the runs by size, smallest first', () => {
    const s = summarise(reports);
    expect(s.map((x) => [x.payments, x.runs])).toEqual([
      [100_000, 2],
      [1_000_000, 3],
    ]);
  });

  it('counts the runs that meet each target at N = 1,000,000', () => {
    const big = summarise(reports)[1]!;
    expect(figure(big, 'end to end s')).toMatchObject({
      spread: { min: 55, median: 58, max: 61 },
      target: '≤ 60 s',
      metIn: 2,
    });
    // 1,150,000 records in 20, 23 and 25 s: 57,500, 50,000 and 46,000 records/s.
    expect(figure(big, 'pull records/s')).toMatchObject({ metIn: 2, spread: { min: 46_000, max: 57_500 } });
    expect(figure(big, 'load / raw COPY')).toMatchObject({ metIn: 0, spread: { median: 6 } });
    expect(figure(big, 'peak RSS MB')).toMatchObject({ metIn: 3 });
  });

  it('states no target for another size', () => {
    const small = summarise(reports)[0]!;
    expect(figure(small, 'end to end s')).not.toHaveProperty('target');
    expect(figure(small, 'end to end s').spread.median).toBe(7.5);
  });

  it('leaves a party whose CPU was not measured as not available', () => {
    const big = summarise(reports)[1]!;
    expect(figure(big, 'CPU s server').spread.median).toBeNaN();
    expect(figure(big, 'CPU s payrecon').spread.median).toBe(25);
  });
});

describe('rssRatio', () => {
  it('compares the medians, and the largest at 1M with the smallest at 100k', () => {
    const r = rssRatio([
      report(100_000, { e2eMs: 1, rssMb: 200 }),
      report(100_000, { e2eMs: 1, rssMb: 180 }),
      report(100_000, { e2eMs: 1, rssMb: 220 }),
      report(1_000_000, { e2eMs: 1, rssMb: 260 }),
      report(1_000_000, { e2eMs: 1, rssMb: 270 }),
    ]);
    expect(r!.median).toBeCloseTo(265 / 200, 10);
    expect(r!.worst).toBeCloseTo(270 / 180, 10);
  });

  it('is not given unless both sizes ran', () => {
    expect(rssRatio([report(1_000_000, { e2eMs: 1, rssMb: 260 })])).toBeNull();
    expect(rssRatio([report(100_000, { e2eMs: 1, rssMb: 260 })])).toBeNull();
  });
});

describe('formatSummaries', () => {
  it('prints a table per size with the targets met, and the RSS ratio', () => {
    const text = formatSummaries([
      report(100_000, { e2eMs: 7000, rssMb: 200 }),
      report(1_000_000, { e2eMs: 55_000, rssMb: 280 }),
    ]);
    expect(text).toContain('N = 100,000, 1 run');
    expect(text).toContain('N = 1,000,000, 1 run');
    expect(text).toMatch(/end to end s\s+55\.00\s+55\.00\s+55\.00\s+≤ 60 s: met in 1 of 1/);
    expect(text).toMatch(/CPU s server\s+n\/a/);
    expect(text).toContain(
      'peak RSS at N = 1,000,000 over N = 100,000: 1.40× (medians), 1.40× (largest over smallest)',
    );
  });
});

describe('repeatRuns', () => {
  // A stand-in for the benchmark script: prints a report for the size it is given, or fails as told.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'payrecon-repeat-'));
  const script = path.join(dir, 'fake-bench.mjs');
  writeFileSync(
    script,
    `const args = process.argv.slice(2);
const payments = Number(args[args.indexOf('--payments') + 1]);
if (process.env.FAKE_BENCH === 'fail') process.exit(3);
if (process.env.FAKE_BENCH === 'silent') process.exit(0);
console.log('noise before the report');
console.log(JSON.stringify({ payments, args, peakRssMb: payments / 1000, endToEndMs: 1 }));
`,
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every size the given number of times, interleaved, each in a process of its own', async () => {
    const seen: string[] = [];
    const reports = await repeatRuns({
      sizes: [100, 200],
      repeat: 2,
      days: 7,
      script,
      execArgv: [],
      extraArgs: ['--keep'],
      onRun: (done, total, r) => seen.push(`${done}/${total}:${r.payments}`),
    });
    expect(reports.map((r) => r.payments)).toEqual([100, 200, 100, 200]);
    expect(seen).toEqual(['1/4:100', '2/4:200', '3/4:100', '4/4:200']);
    expect((reports[0] as unknown as { args: string[] }).args).toEqual([
      '--payments',
      '100',
      '--days',
      '7',
      '--json',
      '--keep',
    ]);
  });

  it('fails on a run that fails or prints no report', async () => {
    const plan = { sizes: [100], repeat: 1, days: 1, script, execArgv: [] };
    process.env.FAKE_BENCH = 'fail';
    try {
      await expect(repeatRuns(plan)).rejects.toThrow('benchmark run at N = 100 exited with 3');
      process.env.FAKE_BENCH = 'silent';
      await expect(repeatRuns(plan)).rejects.toThrow('benchmark run at N = 100 printed no report');
    } finally {
      delete process.env.FAKE_BENCH;
    }
  });
});
