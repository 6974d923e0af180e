// Repeated benchmark runs. One run's figures are one sample of a machine whose speed drifts from run to run, so the
// figures worth quoting are each one's spread over several runs. Every run is a fresh process: peak RSS is a
// process's own, and a second run in the same process would start with the first one's heap.
import { spawn } from 'node:child_process';
import { floorRatio, perSecond, type BenchReport } from './report.js';

export interface Spread {
  min: number;
  median: number;
  max: number;
}

interface Figure {
  name: string;
  value: (r: BenchReport) => number;
  /** The target at N = 1,000,000, and whether a run's value meets it. */
  target?: { text: string; met: (v: number) => boolean };
  digits: number;
}

const cpuSeconds = (r: BenchReport, who: 'run' | 'sandbox' | 'database') =>
  (r.cpuMs.endToEnd?.[who] ?? NaN) / 1000;

const FIGURES: readonly Figure[] = [
  { name: 'load s', value: (r) => r.stages.load / 1000, digits: 2 },
  {
    name: 'load / raw COPY',
    value: (r) => floorRatio(r.stages.load, r.floors.copy),
    target: { text: '≤ 3×', met: (v) => v <= 3 },
    digits: 1,
  },
  { name: 'raw COPY floor s', value: (r) => r.floors.copy / 1000, digits: 2 },
  { name: 'pull s', value: (r) => r.stages.pull / 1000, digits: 2 },
  {
    name: 'pull records/s',
    value: (r) => perSecond(r.gatewayRecords, r.stages.pull),
    target: { text: '≥ 50,000', met: (v) => v >= 50_000 },
    digits: 0,
  },
  { name: 'match s', value: (r) => r.stages.match / 1000, digits: 2 },
  {
    name: 'match / full outer join',
    value: (r) => floorRatio(r.stages.match, r.floors.join),
    target: { text: '≤ 3×', met: (v) => v <= 3 },
    digits: 1,
  },
  { name: 'join floor s', value: (r) => r.floors.join / 1000, digits: 2 },
  { name: 'report s', value: (r) => r.stages.report / 1000, digits: 2 },
  {
    name: 'end to end s',
    value: (r) => r.endToEndMs / 1000,
    target: { text: '≤ 60 s', met: (v) => v <= 60 },
    digits: 2,
  },
  {
    name: 'peak RSS MB',
    value: (r) => r.peakRssMb,
    target: { text: '≤ 512 MB', met: (v) => v <= 512 },
    digits: 0,
  },
  { name: 'CPU s payrecon', value: (r) => cpuSeconds(r, 'run'), digits: 1 },
  { name: 'CPU s sandbox', value: (r) => cpuSeconds(r, 'sandbox'), digits: 1 },
  { name: 'CPU s server', value: (r) => cpuSeconds(r, 'database'), digits: 1 },
];

/** The size the targets are set for. */
const TARGET_SIZE = 1_000_000;
/** The size the RSS of TARGET_SIZE is compared with, and the most it may be of it. */
const RSS_BASE_SIZE = 100_000;
const RSS_RATIO_TARGET = 1.3;

/** Smallest, middle (the mean of the middle two for an even count) and largest; NaN values are left out. */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: NaN, median: NaN, max: NaN };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]! };
}

export interface SizeSummary {
  payments: number;
  runs: number;
  figures: { name: string; spread: Spread; digits: number; target?: string; metIn?: number }[];
}

/** Each size's figures over its runs, smallest size first; targets are counted for TARGET_SIZE only. */
export function summarise(reports: readonly BenchReport[]): SizeSummary[] {
  const sizes = [...new Set(reports.map((r) => r.payments))].sort((a, b) => a - b);
  return sizes.map((payments) => {
    const runs = reports.filter((r) => r.payments === payments);
    return {
      payments,
      runs: runs.length,
      figures: FIGURES.map((f) => {
        const values = runs.map(f.value);
        const counted = f.target && payments === TARGET_SIZE;
        return {
          name: f.name,
          spread: spread(values),
          digits: f.digits,
          ...(counted ? { target: f.target!.text, metIn: values.filter(f.target!.met).length } : {}),
        };
      }),
    };
  });
}

/**
 * Peak RSS at TARGET_SIZE over peak RSS at RSS_BASE_SIZE, as the median of each (the typical run), and as the
 * worst pairing (the largest at TARGET_SIZE over the smallest at RSS_BASE_SIZE); null unless both sizes ran.
 */
export function rssRatio(reports: readonly BenchReport[]): { median: number; worst: number } | null {
  const at = (n: number) => spread(reports.filter((r) => r.payments === n).map((r) => r.peakRssMb));
  const big = at(TARGET_SIZE);
  const base = at(RSS_BASE_SIZE);
  if (Number.isNaN(big.median) || Number.isNaN(base.median)) return null;
  return { median: big.median / base.median, worst: big.max / base.min };
}

function fmt(v: number, digits: number): string {
  return Number.isNaN(v)
    ? 'n/a'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatSummaries(reports: readonly BenchReport[]): string {
  const out: string[] = [];
  for (const s of summarise(reports)) {
    out.push(`N = ${s.payments.toLocaleString('en-US')}, ${s.runs} run${s.runs === 1 ? '' : 's'}`);
    out.push(
      `${'figure'.padEnd(24)} ${'min'.padStart(10)} ${'median'.padStart(10)} ${'max'.padStart(10)}  target`,
    );
    for (const f of s.figures) {
      const target = f.target ? `${f.target}: met in ${f.metIn} of ${s.runs}` : '';
      out.push(
        `${f.name.padEnd(24)} ${fmt(f.spread.min, f.digits).padStart(10)} ${fmt(f.spread.median, f.digits).padStart(10)} ${fmt(f.spread.max, f.digits).padStart(10)}  ${target}`.trimEnd(),
      );
    }
    out.push('');
  }
  const r = rssRatio(reports);
  if (r)
    out.push(
      `peak RSS at N = ${TARGET_SIZE.toLocaleString('en-US')} over N = ${RSS_BASE_SIZE.toLocaleString('en-US')}: ${r.median.toFixed(2)}× (medians), ${r.worst.toFixed(2)}× (largest over smallest); target ≤ ${RSS_RATIO_TARGET}×`,
    );
  return out.join('\n').trimEnd();
}

export interface RepeatPlan {
  sizes: readonly number[];
  repeat: number;
  days: number;
  /** The benchmark script and the node options to run it with. */
  script: string;
  execArgv: readonly string[];
  /** More arguments for every run (--keep). */
  extraArgs?: readonly string[];
  /** Told after each run (progress). */
  onRun?: (done: number, total: number, report: BenchReport) => void;
}

/**
 * Every size `repeat` times, one after another (runs at once would share the two cores), sizes interleaved so that
 * a slow spell of the machine does not land on one size only. Fails on the first run that fails.
 */
export async function repeatRuns(plan: RepeatPlan): Promise<BenchReport[]> {
  const order: number[] = [];
  for (let i = 0; i < plan.repeat; i++) order.push(...plan.sizes);
  const reports: BenchReport[] = [];
  for (const payments of order) {
    const report = await runOnce(plan, payments);
    reports.push(report);
    plan.onRun?.(reports.length, order.length, report);
  }
  return reports;
}

async function runOnce(plan: RepeatPlan, payments: number): Promise<BenchReport> {
  const args = [
    ...plan.execArgv,
    plan.script,
    '--payments',
    String(payments),
    '--days',
    String(plan.days),
    '--json',
    ...(plan.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (stdout += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`benchmark run at N = ${payments} exited with ${code}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as BenchReport;
  } catch {
    throw new Error(`benchmark run at N = ${payments} printed no report: ${last.slice(0, 200)}`);
  }
}
