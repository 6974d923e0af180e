import type { Config, FeeRule, ProviderName } from '../config/schema.js';
import type { StageSelection } from '../jobs/context.js';
import { todayIn } from '../shared/dates.js';
import { parseMajorToMinor } from '../shared/money.js';
import { earliestDateDueFrom } from './calendar.js';
import { unloadedRows, type UnloadedRows } from './held.js';
import type { UnloadedSettlementFile } from './types.js';

/** Everything the matching SQL needs, resolved once from configuration and the run's clock. */
export interface MatchParams {
  from: string;
  to: string;
  /** Today in the configured time zone: movements past their deadline on this date are missing. */
  asOf: string;
  timeZone: string;
  holidays: string[];
  providers: ProviderName[];
  /** Parallel to `providers`. */
  lagDays: number[];
  /** Parallel to `providers`: the earliest transaction date whose deadline reaches `from`. */
  earliestDates: string[];
  fees: FeeRows;
  /** Settlement files of these providers the last fetch listed and left unloaded (src/reconcile/held.ts). */
  unloaded: UnloadedRows;
}

/** Fee rules as parallel arrays for `unnest`: percent stays decimal text (numeric in SQL), the rest minor units. */
export interface FeeRows {
  provider: string[];
  currency: string[];
  brand: (string | null)[];
  percent: string[];
  fixedMinor: number[];
  toleranceMinor: number[];
}

export function matchParams(
  config: Config,
  sel: StageSelection,
  now: Date,
  unloaded: readonly UnloadedSettlementFile[] = [],
): MatchParams {
  const holidays = [...config.holidays].sort();
  const providers = sel.providers.filter((p) => config.providers[p] !== undefined);
  const lagDays = providers.map((p) => config.providers[p]?.settlementLagDays ?? 3);
  return {
    from: sel.range.from,
    to: sel.range.to,
    asOf: todayIn(config.timezone, now),
    timeZone: config.timezone,
    holidays,
    providers,
    lagDays,
    earliestDates: lagDays.map((lag) => earliestDateDueFrom(sel.range.from, lag, holidays)),
    fees: feeRows(providers.map((p) => [p, config.providers[p]?.fees ?? []] as const)),
    unloaded: unloadedRows(unloaded, providers),
  };
}

function feeRows(rules: ReadonlyArray<readonly [ProviderName, readonly FeeRule[]]>): FeeRows {
  const out: FeeRows = {
    provider: [],
    currency: [],
    brand: [],
    percent: [],
    fixedMinor: [],
    toleranceMinor: [],
  };
  const seen = new Set<string>();
  for (const [provider, list] of rules) {
    for (const r of list) {
      const brand = r.brand?.trim().toLowerCase() || null;
      // The first rule for (provider, currency, brand) wins, so the SQL join never multiplies lines.
      const key = `${provider}|${r.currency}|${brand ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.provider.push(provider);
      out.currency.push(r.currency);
      out.brand.push(brand);
      out.percent.push(r.percent);
      out.fixedMinor.push(parseMajorToMinor(r.fixed, r.currency));
      out.toleranceMinor.push(parseMajorToMinor(r.tolerance, r.currency));
    }
  }
  return out;
}
