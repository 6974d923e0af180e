import { discrepancyId } from './ledger.js';
import type { AnswerKeyEntry, World } from './types.js';

// The same world seen by a later run (the carry-forward test): what was awaiting may have passed its deadline, and
// the late file may have arrived. Nothing else changes, because the world has no settlement files after `to`.

export interface KeyAtOptions {
  /** The late file (World.lateSettled.file) has been loaded: its payment is settled, not missing. */
  lateFileLoaded?: boolean;
}

/** The answer key of a run with the clock at `asOf` (>= the world's asOf) over the same files. */
export function answerKeyAt(world: World, asOf: string, opts: KeyAtOptions = {}): AnswerKeyEntry[] {
  if (asOf < world.options.asOf)
    throw new RangeError(`asOf ${asOf} is before the world's asOf ${world.options.asOf}`);
  const late = opts.lateFileLoaded ? world.lateSettled?.transactionId : undefined;
  const key = world.answerKey.filter(
    (e) => !(e.type === 'missing_in_settlement' && e.transactionId === late),
  );
  for (const a of world.awaiting) {
    if (asOf <= a.deadline) continue;
    key.push({
      id: discrepancyId(a.provider, 'missing_in_settlement', a.transactionId),
      provider: a.provider,
      type: 'missing_in_settlement',
      transactionId: a.transactionId,
      currency: a.currency,
      gatewayAmountMinor: a.amountMinor,
      settledAmountMinor: null,
      differenceMinor: -a.amountMinor,
      planted: false,
      detail: `left unsettled: no settlement file after \`to\` in this world; deadline ${a.deadline}`,
    });
  }
  return key;
}

/** What is still awaiting settlement with the clock at `asOf`. */
export function awaitingAt(world: World, asOf: string): World['awaiting'] {
  return world.awaiting.filter((a) => asOf <= a.deadline);
}
