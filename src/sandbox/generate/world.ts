import type { ProviderName } from '../../config/schema.js';
import { eachDate, isIsoDate } from '../../shared/dates.js';
import { DEFAULT_CREDENTIALS } from '../data.js';
import { DAY_MS, type Gen } from './common.js';
import { completeSchedule, DEFAULT_FEES } from './fees.js';
import { FileBook } from './files.js';
import { Ids } from './ids.js';
import { Ledger } from './ledger.js';
import { planTasks } from './plants.js';
import { Rng } from './prng.js';
import { payunityNormal, payunityPlant } from './payunity-activity.js';
import { PayunityWire } from './payunity-wire.js';
import type { World, WorldOptions } from './types.js';
import { useepayNormal, useepayPlant } from './useepay-activity.js';

// A whole sandbox world from a seed: what the simulators serve, the settlement files, and the answer key a
// correct matcher must reproduce. Generated day by day; a day's files are rendered as soon as no later
// transaction can reach them, so memory is the records plus compact file bytes.

export function generateWorld(opts: WorldOptions): World {
  const providers: ProviderName[] = opts.providers ?? ['payunity', 'useepay'];
  const currencies = opts.currencies ?? ['EUR', 'USD', 'JPY'];
  const lag: Record<ProviderName, number> = {
    payunity: opts.settlementLagDays?.payunity ?? 3,
    useepay: opts.settlementLagDays?.useepay ?? 2,
  };
  validate(opts, currencies, lag);
  const credentials = opts.credentials ?? DEFAULT_CREDENTIALS;
  const fees = completeSchedule(opts.fees ?? DEFAULT_FEES, currencies);
  const rng = new Rng(opts.seed);
  const ids = new Ids(rng);
  const fileOpts = {
    entityId: credentials.payunity.entityId,
    merchantNo: credentials.useepay.merchantNo,
    currencies,
    gzip: opts.gzip ?? false,
    useepayBom: opts.useepayBom ?? false,
  };
  const book = new FileBook(fileOpts);
  const ledger = new Ledger({ from: opts.from, to: opts.to, asOf: opts.asOf, lag, fees }, rng, book);
  const weights: number[] = [];
  currencies.forEach((_, i) => weights.push((weights[i - 1] ?? 0) + 1 / (i + 1)));
  const g: Gen = {
    rng,
    ids,
    ledger,
    pu: new PayunityWire(rng, ids),
    credentials,
    currencies,
    currencyWeights: weights,
    endMs: Date.parse(`${opts.to}T00:00:00Z`) + DAY_MS,
    payunity: [],
    intents: [],
    refunds: [],
    lateBook: new FileBook(fileOpts),
  };

  const dates = eachDate(opts.from, opts.to);
  const plan = planTasks(rng, {
    dates,
    to: opts.to,
    asOf: opts.asOf,
    providers,
    lag,
    plant: opts.plant ?? {},
    currencies,
    refOnlyLines: opts.refOnlyLines ?? 2,
    lateSettlement: opts.lateSettlement ?? true,
  });
  dates.forEach((date, day) => {
    // Every line dated <= this day came from an earlier day's transaction: those files are complete.
    book.flushUpTo(date);
    const start = Date.parse(`${date}T00:00:00Z`);
    for (const provider of providers) {
      // Sorted times so records come out roughly in time order, as a window query returns them.
      const times = new Float64Array(opts.paymentsPerDay);
      for (let i = 0; i < times.length; i++) times[i] = start + rng.int(0, DAY_MS - 1);
      times.sort(); // numeric for a typed array
      for (const t of times) (provider === 'payunity' ? payunityNormal : useepayNormal)(g, t);
      for (const task of plan.get(day) ?? []) {
        if (task.provider === provider) (provider === 'payunity' ? payunityPlant : useepayPlant)(g, task);
      }
    }
  });
  book.flushAll();
  // Repeats are appended, not interleaved, so the rest of the world is the same with or without them.
  for (let i = 0; i < (opts.repeatedRecords ?? 0) && g.payunity.length > 0; i++)
    g.payunity.push(rng.pick(g.payunity));

  const order = (p: ProviderName): number => (p === 'payunity' ? 0 : 1);
  const answerKey = ledger.key.sort(
    (a, b) =>
      order(a.provider) - order(b.provider) ||
      a.type.localeCompare(b.type) ||
      a.transactionId.localeCompare(b.transactionId),
  );
  return {
    options: { seed: opts.seed, from: opts.from, to: opts.to, asOf: opts.asOf, providers, currencies },
    data: { credentials, payunity: g.payunity, useepay: { intents: g.intents, refunds: g.refunds } },
    settlementFiles: book.files.sort(
      (a, b) => order(a.provider) - order(b.provider) || a.settlementDate.localeCompare(b.settlementDate),
    ),
    answerKey,
    awaiting: ledger.awaiting,
    ...(g.late ? { lateSettled: g.late } : {}),
    config: { fees, settlementLagDays: lag, timezone: 'UTC', holidays: [] },
    stats: {
      payunityRecords: g.payunity.length,
      useepayIntents: g.intents.length,
      useepayRefunds: g.refunds.length,
      settlementLines: book.lineCount,
    },
  };
}

function validate(
  opts: WorldOptions,
  currencies: readonly string[],
  lag: Record<ProviderName, number>,
): void {
  for (const [name, d] of [
    ['from', opts.from],
    ['to', opts.to],
    ['asOf', opts.asOf],
  ] as const) {
    if (!isIsoDate(d)) throw new RangeError(`${name} must be YYYY-MM-DD, got "${d}"`);
  }
  if (opts.from > opts.to) throw new RangeError(`from ${opts.from} is after to ${opts.to}`);
  if (opts.asOf < opts.to)
    throw new RangeError(`asOf ${opts.asOf} is before to ${opts.to}: the world would hold future payments`);
  if (!Number.isInteger(opts.paymentsPerDay) || opts.paymentsPerDay < 0)
    throw new RangeError('paymentsPerDay must be a whole number >= 0');
  if (currencies.length === 0) throw new RangeError('currencies must not be empty');
  if (lag.payunity < 1 || lag.useepay < 1) throw new RangeError('settlementLagDays must be >= 1');
}
