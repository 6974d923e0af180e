import type { ProviderName } from '../../config/schema.js';
import { currencyExponent } from '../../shared/money.js';
import type { SandboxCredentials } from '../data.js';
import { addBusinessDays } from './calendar.js';
import type { FileBook } from './files.js';
import type { Ids } from './ids.js';
import { dateOf, type Ledger, type Movement } from './ledger.js';
import type { PayunityWire } from './payunity-wire.js';
import type { Rng } from './prng.js';
import type { DiscrepancyType, LateSettlement } from './types.js';

// What the per-provider scenario generators share: the random stream, id factories, the ledger and the output
// arrays. One plain object, passed down; nothing global, so two worlds can be generated side by side.

export const DAY_MS = 86_400_000;

export type TaskType = DiscrepancyType | 'ref_only' | 'late';

/** One planted scenario: which kind, its ordinal (variants alternate by it), and when its root happens. */
export interface PlantTask {
  provider: ProviderName;
  type: TaskType;
  index: number;
  timeMs: number;
}

export interface Gen {
  rng: Rng;
  ids: Ids;
  ledger: Ledger;
  pu: PayunityWire;
  credentials: SandboxCredentials;
  currencies: readonly string[];
  /** Cumulative weights for picking a currency: the first is the most common. */
  currencyWeights: readonly number[];
  /** Exclusive end of the `to` day: no record is created at or after it. */
  endMs: number;
  payunity: Record<string, unknown>[];
  intents: Record<string, unknown>[];
  refunds: Record<string, unknown>[];
  /** Holds the late file's single line; rendered apart from the world's files. */
  lateBook: FileBook;
  late?: LateSettlement;
}

export function pickCurrency(g: Gen): string {
  const r = g.rng.next() * (g.currencyWeights[g.currencyWeights.length - 1] ?? 1);
  const i = g.currencyWeights.findIndex((w) => r < w);
  return g.currencies[i < 0 ? 0 : i] ?? 'EUR';
}

/** A plausible ticket size in minor units: whole yen for JPY, log-uniform 1.00 .. 800.00 for cent currencies. */
export function pickAmount(g: Gen, currency: string): number {
  const exp = currencyExponent(currency);
  if (exp === 0) return g.rng.int(5, 2000) * 10;
  const cents = Math.round(Math.exp(Math.log(100) + g.rng.next() * (Math.log(80_000) - Math.log(100))));
  return cents * 10 ** (exp - 2);
}

/** A share of an amount, at least 1 minor unit and less than the whole. */
export function part(g: Gen, amount: number, minPct: number, maxPct: number): number {
  const v = Math.floor((amount * g.rng.int(minPct, maxPct)) / 100);
  return Math.min(Math.max(1, v), Math.max(1, amount - 1));
}

/** Another currency of the world for a currency_mismatch line, preferring the same exponent. */
export function otherCurrency(g: Gen, currency: string): string | undefined {
  const others = g.currencies.filter((c) => c !== currency);
  return others.find((c) => currencyExponent(c) === currencyExponent(currency)) ?? others[0];
}

export function endOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS + DAY_MS;
}

/** A follow-up time after `t`, within `maxMs`; null when it would fall after the world's last day. */
export function followUp(g: Gen, t: number, minMs: number, maxMs: number): number | null {
  const t2 = t + g.rng.int(minMs, maxMs);
  return t2 < g.endMs ? t2 : null;
}

/** A follow-up on the same UTC day (planted scenarios need their lines inside the world's files). */
export function sameDay(g: Gen, t: number, minMs: number, maxMs: number): number {
  return Math.min(t + g.rng.int(minMs, maxMs), endOfDay(t) - 1000);
}

/** A settlement date for a planted line: within the lag and <= to (the planner only picks days that allow it). */
export function plantedSettlementDate(g: Gen, m: Movement): string {
  const { to } = g.ledger.opts;
  const lag = g.ledger.opts.lag[m.provider];
  const date = dateOf(m.timeMs);
  let k = 0;
  while (k < lag && addBusinessDays(date, k + 1) <= to) k++;
  if (k === 0) throw new Error(`planted line on ${date} cannot settle by ${to}`);
  return addBusinessDays(date, g.rng.int(1, k));
}

/** Marks `m` as settling late: unsettled as of asOf (a planted missing_in_settlement), line in a file after it. */
export function settleLate(g: Gen, m: Movement): void {
  const { to, asOf } = g.ledger.opts;
  const deadline = g.ledger.deadline(m.provider, dateOf(m.timeMs));
  // After `to` and asOf (so no run of this world's range sees it) and after the deadline (so it is late).
  const latest = [to, asOf, deadline].reduce((a, b) => (a > b ? a : b));
  const lateDate = addBusinessDays(latest, 1);
  g.ledger.unsettled(m, true, `planted: settles late, in the file of ${lateDate} (World.lateSettled)`);
  g.lateBook.add({
    provider: m.provider,
    settlementDate: lateDate,
    kind: m.kind,
    gatewayType: m.gatewayType,
    transactionId: m.transactionId,
    rootId: m.lineRootId,
    merchantReference: m.merchantReference,
    timeMs: m.timeMs,
    currency: m.currency,
    grossMinor: m.amountMinor,
    feeMinor: g.ledger.normalFee(m.provider, m.kind, m.currency, m.amountMinor),
  });
  g.lateBook.flushAll();
  const file = g.lateBook.files[0];
  if (!file) throw new Error('late file not rendered');
  g.late = {
    provider: m.provider,
    transactionId: m.transactionId,
    amountMinor: m.amountMinor,
    currency: m.currency,
    deadline,
    file,
  };
}
