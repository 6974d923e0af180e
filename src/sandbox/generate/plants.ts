import type { ProviderName } from '../../config/schema.js';
import { addBusinessDays } from './calendar.js';
import { DAY_MS, type PlantTask, type TaskType } from './common.js';
import type { Rng } from './prng.js';
import { DISCREPANCY_TYPES, type DiscrepancyType } from './types.js';

// Where the planted scenarios go. Each type needs a day that allows it: a planted line must settle by `to`, a
// planted missing_in_settlement (and the late payment) must be past its deadline by asOf. A type with no such day
// in the world is not planted, and so is not in the answer key (the key never promises what the world lacks).

export interface PlanInput {
  dates: readonly string[];
  to: string;
  asOf: string;
  providers: readonly ProviderName[];
  lag: Record<ProviderName, number>;
  plant: Partial<Record<DiscrepancyType, number>>;
  currencies: readonly string[];
  refOnlyLines: number;
  lateSettlement: boolean;
}

/** Tasks grouped by index into `dates`. */
export function planTasks(rng: Rng, p: PlanInput): Map<number, PlantTask[]> {
  const byDay = new Map<number, PlantTask[]>();
  const dayMs = (i: number): number => Date.parse(`${p.dates[i] ?? ''}T00:00:00Z`);
  const add = (provider: ProviderName, type: TaskType, index: number, eligible: number[]): void => {
    if (eligible.length === 0) return;
    const day = rng.pick(eligible);
    // Same-day follow-ups (refunds, reversals, a second charge) need the afternoon free.
    const span =
      type === 'refund_exceeds_payment'
        ? DAY_MS / 2
        : type === 'duplicate_charge' || type === 'status_mismatch'
          ? DAY_MS - 3_600_000
          : DAY_MS - 1;
    const task: PlantTask = { provider, type, index, timeMs: dayMs(day) + rng.int(0, span - 1) };
    const list = byDay.get(day);
    if (list) list.push(task);
    else byDay.set(day, [task]);
  };
  for (const provider of p.providers) {
    const canSettle: number[] = [];
    const pastDeadline: number[] = [];
    p.dates.forEach((d, i) => {
      if (addBusinessDays(d, 1) <= p.to) canSettle.push(i);
      if (addBusinessDays(d, p.lag[provider]) < p.asOf) pastDeadline.push(i);
    });
    for (const type of DISCREPANCY_TYPES) {
      if (type === 'currency_mismatch' && p.currencies.length < 2) continue;
      const count = p.plant[type] ?? 2;
      for (let i = 0; i < count; i++)
        add(provider, type, i, type === 'missing_in_settlement' ? pastDeadline : canSettle);
    }
    for (let i = 0; i < p.refOnlyLines; i++) add(provider, 'ref_only', i, canSettle);
    if (p.lateSettlement && provider === p.providers[0]) add(provider, 'late', 0, pastDeadline);
  }
  return byDay;
}
