// Figures of one benchmark run and how they are printed.
import type { CpuUse } from './cpu.js';

export interface BenchReport {
  payments: number;
  days: number;
  generateMs: number;
  sandbox: Record<string, number>;
  lines: number;
  gatewayRecords: number;
  openDiscrepancies: number;
  stages: { load: number; pull: number; match: number; report: number };
  floors: { copy: number; join: number };
  endToEndMs: number;
  /** CPU time per stage (first start to last end) and for the whole run, per party; null when not measured. */
  cpuMs: Record<'load' | 'pull' | 'match' | 'report' | 'endToEnd', CpuUse | null>;
  peakRssMb: number;
  /** Peak RSS so far at the end of each stage (the stage that raised it is the one to look at). */
  peakRssAfterMb: Record<string, number>;
  reportPath: string | null;
}

/** Peak resident memory of this process, sampled by the kernel (getrusage maxrss). */
export function measureRss(): { peakMb(): number } {
  return { peakMb: () => Math.round(process.resourceUsage().maxRSS / 1024) };
}

/** Rows per second, rounded; 0 when no time was measured. */
export const perSecond = (rows: number, ms: number) => (ms > 0 ? Math.round((rows / ms) * 1000) : 0);
/** A stage's time over its floor's (a floor under 1 ms counts as 1 ms). */
export const floorRatio = (ms: number, floorMs: number) => ms / Math.max(1, floorMs);
const s = (ms: number) => (ms / 1000).toFixed(2);

function cpuText(u: CpuUse | null): string {
  if (!u) return 'n/a';
  return [u.run, u.sandbox, u.database].map((ms) => (ms === null ? '?' : s(ms))).join('/');
}

export function formatReport(r: BenchReport): string {
  const rows: [string, number, number, string][] = [
    [
      'load (fetch+parse+COPY)',
      r.lines,
      r.stages.load,
      `${floorRatio(r.stages.load, r.floors.copy).toFixed(2)}x raw COPY (${s(r.floors.copy)} s)`,
    ],
    ['pull (both APIs)', r.gatewayRecords, r.stages.pull, ''],
    [
      'match',
      r.lines + r.gatewayRecords,
      r.stages.match,
      `${floorRatio(r.stages.match, r.floors.join).toFixed(2)}x full outer join (${s(r.floors.join)} s)`,
    ],
    ['report (workbook)', r.openDiscrepancies, r.stages.report, ''],
  ];
  const out = [
    `payrecon benchmark: ${r.payments} payments over ${r.days} days (${r.lines} settlement lines, ${r.gatewayRecords} gateway records; generated in ${s(r.generateMs)} s)`,
    'stage                      rows        seconds   rows/s      vs floor',
    ...rows.map(
      ([name, n, ms, floor]) =>
        `${name.padEnd(26)} ${String(n).padEnd(11)} ${s(ms).padEnd(9)} ${String(perSecond(n, ms)).padEnd(11)} ${floor}`,
    ),
    `end to end: ${s(r.endToEndMs)} s, peak RSS ${r.peakRssMb} MB, open discrepancies ${r.openDiscrepancies}`,
    `CPU seconds (this process / sandbox / database server): ${Object.entries(r.cpuMs)
      .map(([k, v]) => `${k} ${cpuText(v)}`)
      .join(', ')}`,
    `peak RSS after each stage (MB): ${Object.entries(r.peakRssAfterMb)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
  return out.join('\n');
}
