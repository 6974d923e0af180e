// Summary: per provider and currency, one row per figure (section, item, count, amount). A long layout rather than
// one wide row: it stays readable and printable, filters by provider/currency/section, and new discrepancy types
// need no new columns. Every amount here is a control total of rows on the other sheets (tested).
import { formatMinor, isCurrency } from '../../shared/money.js';
import { int, money, type Cell } from '../cells.js';
import { writeFitted, type SheetSpec } from '../sheet-writer.js';
import {
  awaitingFigures,
  batchRows,
  decisionFigures,
  discrepancyFigures,
  gatewayFigures,
  settlementFigures,
  type BatchRow,
  type Figure,
} from './summary-queries.js';
import type { SheetContext } from './types.js';

export const SUMMARY_SHEET: SheetSpec = {
  name: 'Summary',
  columns: [
    { header: 'Provider', width: 10 },
    { header: 'Currency', width: 6, align: 'center' },
    { header: 'Section', width: 20 },
    { header: 'Item', width: 34 },
    { header: 'Count', width: 10, align: 'right' },
    { header: 'Amount', width: 18, align: 'right' },
    { header: 'Detail', width: 70, indent: true },
  ],
};

const ITEM_LABELS: Record<string, [section: string, label: string, detail: string]> = {
  expected: ['Gateway', 'Money movements', 'gateway records of these dates that move money (signed)'],
  settled: ['Settlement', 'Settled lines', 'payment, refund and chargeback lines; amount = gross'],
  fee_lines: ['Settlement', 'Fee and adjustment lines', 'not matched one to one; amount = gross'],
  gross: ['Settlement', 'Gross', 'all lines'],
  fees: ['Settlement', 'Fees', 'all lines'],
  net: ['Settlement', 'Net', 'all lines: gross − fees'],
  matched: ['Matching', 'Matched lines', 'amount = gross of the matched lines'],
  awaiting: ['Awaiting settlement', 'Inside the settlement lag', 'see sheet Awaiting settlement'],
  // Past the deadline, but a file that may hold their lines arrived and the run's fetch left it for the next.
  awaiting_held: [
    'Awaiting settlement',
    'Past the lag, file not loaded',
    'a settlement file that may hold their lines arrived and was not loaded; see sheet Awaiting settlement, Detail',
  ],
  // What the gateway says; the sheet also lists chargeback lines no record matched, and records of earlier dates.
  chargeback: [
    'Chargebacks',
    'Chargebacks',
    'gateway records of these dates; sheet Chargebacks also lists settled ones without a record here',
  ],
  chargeback_reversal: [
    'Chargebacks',
    'Chargeback reversals',
    'gateway records of these dates; sheet Chargebacks also lists settled ones without a record here',
  ],
};

interface SummaryRow {
  provider: string;
  currency: string | null;
  order: number;
  section: string;
  item: string;
  count: number | null;
  amount: number | null;
  detail: string;
}

export async function writeSummary({ wb, snap, scope, maxRows, signal }: SheetContext): Promise<number> {
  const rows: SummaryRow[] = [];
  const order = Object.keys(ITEM_LABELS);
  const plain = (f: Figure) => {
    const [section, label, detail] = ITEM_LABELS[f.item] ?? ['Other', f.item, ''];
    rows.push({
      provider: f.provider,
      currency: f.currency,
      order: order.indexOf(f.item),
      section,
      item: label,
      count: f.count,
      amount: f.amount_minor,
      detail,
    });
  };
  // Each figure aggregates the whole range: the server computes them at the same time, in one snapshot.
  const [gateway, settlement, awaiting, open, decided, batches] = await snap.allAtOnce([
    gatewayFigures(scope),
    settlementFigures(scope),
    awaitingFigures(scope),
    discrepancyFigures(scope),
    decisionFigures(scope),
    batchRows(scope),
  ] as const);
  for (const f of gateway) plain(f);
  for (const f of settlement) plain(f);
  for (const f of awaiting) plain(f);
  const discrepancies = (f: Figure, order: number, item: string, detail: string) =>
    rows.push({
      provider: f.provider,
      currency: f.currency,
      order,
      section: 'Discrepancies',
      item,
      count: f.count,
      amount: f.amount_minor,
      detail,
    });
  for (const f of open) discrepancies(f, 6.5, f.item, 'open; amount = sum of Difference');
  // After the types: how many of the open ones finance has already decided on (their Action on the sheet).
  for (const f of decided)
    discrepancies(
      f,
      6.6,
      `decided ${f.item}`,
      `open, Action ${f.item} (payrecon decisions import); amount = sum of Difference`,
    );
  rows.push(...batchSummary(batches));
  rows.sort(
    (a, b) =>
      a.provider.localeCompare(b.provider) ||
      (a.currency ?? '').localeCompare(b.currency ?? '') ||
      a.order - b.order ||
      a.item.localeCompare(b.item),
  );
  rows.push(...lateFiles(scope.run.manifest.lateFiles));
  for (const p of scope.providers) {
    if (!rows.some((r) => r.provider === p)) {
      rows.push({
        provider: p,
        currency: null,
        order: 0,
        section: 'Gateway',
        item: 'No activity',
        count: 0,
        amount: null,
        detail: 'nothing pulled, settled or open for these dates',
      });
    }
  }

  const cells = rows.map((r): Cell[] => [
    r.provider,
    r.currency,
    r.section,
    r.item,
    int(r.count),
    money(r.amount, r.currency),
    r.detail,
  ]);
  // Detail is the last column: its text may run on to the right, so only the item names need to fit.
  return writeFitted(wb, SUMMARY_SHEET, cells, 4, maxRows, signal);
}

/** One "Batch check" line per provider and currency, plus one line per batch that is not in order, with figures. */
export function batchSummary(batches: readonly BatchRow[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  const groups = new Map<string, BatchRow[]>();
  for (const b of batches) {
    const key = `${b.provider}|${b.currency}`;
    const g = groups.get(key) ?? [];
    g.push(b);
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const first = g[0]!;
    const bad = g.map((b) => [b, batchProblem(b)] as const).filter(([, p]) => p !== null);
    out.push({
      provider: first.provider,
      currency: first.currency,
      order: 20,
      section: 'Batch check',
      item: 'Batches',
      count: g.length,
      amount: null,
      detail:
        bad.length === 0
          ? 'ok: every batch’s lines add up to its net'
          : `mismatch: ${bad.length} of ${g.length} batches`,
    });
    for (const [b, problem] of bad) {
      out.push({
        provider: b.provider,
        currency: b.currency,
        order: 21,
        section: 'Batch check',
        item: b.batch,
        count: b.lines,
        amount: b.net,
        detail: `mismatch (${b.settlement_date}, ${b.files}): ${problem}`,
      });
    }
  }
  return out;
}

function batchProblem(b: BatchRow): string | null {
  const fmt = (m: number) => (isCurrency(b.currency) ? formatMinor(m, b.currency) : String(m));
  const problems: string[] = [];
  if (b.gross - b.fees !== b.net)
    problems.push(
      `gross ${fmt(b.gross)} − fees ${fmt(b.fees)} = ${fmt(b.gross - b.fees)} ≠ net ${fmt(b.net)}`,
    );
  if (b.rejected > 0)
    problems.push(`${b.rejected} rejected line(s) in its file(s): the paid net includes lines not loaded`);
  if (b.counts_off) problems.push('file line counts do not add up (lines ≠ loaded + rejected)');
  return problems.length ? problems.join('; ') : null;
}

/** `manifest.lateFiles`, written by the job: printed generically, since its fields may grow. */
function lateFiles(value: unknown): SummaryRow[] {
  if (!Array.isArray(value)) return [];
  return value.map((el: unknown) => {
    const o = el !== null && typeof el === 'object' ? (el as Record<string, unknown>) : { file: el };
    const pick = (...keys: string[]): string | undefined => {
      for (const k of keys) {
        const v = o[k];
        if (typeof v === 'string') return v;
      }
      return undefined;
    };
    return {
      provider: pick('provider') ?? '',
      currency: null,
      order: 30,
      section: 'Settlement files',
      // A file that arrived but was left for the next fetch is not late: the item says which it is.
      item: `${o.status === 'not_loaded' ? 'arrived, not loaded' : 'late or missing'}: ${pick('name', 'file', 'fileName', 'date', 'settlementDate') ?? '?'}`,
      count: null,
      amount: null,
      detail: lateDetail(o),
    };
  });
}

/** The fields a late-file entry is read by, said in words; any other field it may grow follows as written. */
const LATE_KNOWN = new Set(['provider', 'settlementDate', 'status', 'expectedBy', 'files']);

/** "expected by …; arrived, not loaded: NAME (why)", then the entry's other fields. */
function lateDetail(o: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof o.expectedBy === 'string') parts.push(`expected by ${o.expectedBy}`);
  if (Array.isArray(o.files) && o.files.length > 0) {
    const files = o.files.map((f: unknown) => {
      if (f === null || typeof f !== 'object') return String(f);
      const { file, reason } = f as { file?: unknown; reason?: unknown };
      return `${valueText(file ?? '?')}${reason === undefined ? '' : ` (${valueText(reason)})`}`;
    });
    parts.push(`arrived, not loaded: ${files.join('; ')}`);
  }
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !LATE_KNOWN.has(k)));
  if (Object.keys(rest).length > 0) parts.push(describe(rest));
  return parts.join('; ');
}

export function describe(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}: ${valueText(v)}`)
    .join(', ');
}

/** A value as finance reads it: a list as its items, an object as its fields, not as JSON. */
function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(valueText).join('; ');
  if (v !== null && typeof v === 'object') return `(${describe(v as Record<string, unknown>)})`;
  return String(JSON.stringify(v));
}
