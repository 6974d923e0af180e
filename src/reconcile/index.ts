// The reconcile stage's public surface: what jobs/ and report/ call.
export { matchRange } from './match-range.js';
export { addBusinessDays, businessDaysBetween, isBusinessDay, earliestDateDueFrom } from './calendar.js';
export { discrepancyId } from './ids.js';
export { heldDetail } from './held.js';
export {
  DISCREPANCY_TYPES,
  type DiscrepancyType,
  type MatchDeps,
  type MatchKey,
  type MatchSummary,
  type AwaitingTotals,
  type HeldByFile,
  type UnloadedSettlementFile,
} from './types.js';
