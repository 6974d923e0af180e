import { stringify } from 'yaml';
import type { FeeRule, ProviderName } from '../../config/schema.js';
import { currencyExponent, parseMajorToMinor } from '../../shared/money.js';

// The fee schedule the sandbox's settlement files follow, in the same shape as the `fees` key of a payrecon
// configuration (major-unit decimal text), so the world's config snippet can be pasted as is and the matcher's
// fee_mismatch check agrees with every line the generator did not plant a mismatch on.

export type FeeSchedule = Record<ProviderName, FeeRule[]>;

const rule = (currency: string, percent: string, fixed: string, tolerance: string): FeeRule => ({
  currency,
  percent,
  fixed,
  tolerance,
});

export const DEFAULT_FEES: FeeSchedule = {
  payunity: [
    rule('EUR', '2.9', '0.25', '0.01'),
    rule('USD', '2.9', '0.30', '0.01'),
    rule('JPY', '3.6', '30', '1'),
  ],
  useepay: [
    rule('EUR', '3.2', '0.20', '0.01'),
    rule('USD', '3.4', '0.30', '0.01'),
    rule('JPY', '3.5', '40', '1'),
  ],
};

/** Per-line charge of a chargeback (not checked against the schedule; realistic noise in the files). */
export function chargebackFeeMinor(currency: string): number {
  return currencyExponent(currency) === 0 ? 2000 : 1500 * 10 ** (currencyExponent(currency) - 2);
}

/** A stand-alone FEE row per settlement batch (kind fee: only summed into fee totals). */
export function batchFeeMinor(currency: string): number {
  return currencyExponent(currency) === 0 ? 200 : 150 * 10 ** (currencyExponent(currency) - 2);
}

/** A rule for every currency the world uses: the given schedule's, else a generic one (so no line goes unchecked). */
export function completeSchedule(fees: FeeSchedule, currencies: readonly string[]): FeeSchedule {
  const out: FeeSchedule = { payunity: [...fees.payunity], useepay: [...fees.useepay] };
  for (const p of ['payunity', 'useepay'] as const) {
    for (const c of currencies) {
      if (out[p].some((r) => r.currency === c && r.brand === undefined)) continue;
      const exp = currencyExponent(c);
      out[p].push(rule(c, '3', exp === 0 ? '30' : '0.25', exp === 0 ? '1' : (1 / 10 ** exp).toFixed(exp)));
    }
  }
  return out;
}

export interface CompiledFee {
  /** percent as an exact fraction: num / den of the gross. */
  num: bigint;
  den: bigint;
  fixedMinor: number;
  toleranceMinor: number;
}

export function compileRule(r: FeeRule): CompiledFee {
  const [int = '0', frac = ''] = r.percent.split('.');
  return {
    num: BigInt(int + frac),
    den: 100n * 10n ** BigInt(frac.length),
    fixedMinor: parseMajorToMinor(r.fixed, r.currency),
    toleranceMinor: parseMajorToMinor(r.tolerance, r.currency),
  };
}

/** round_half_up(gross × percent / 100) + fixed, in minor units, exactly (BigInt: gross × digits may pass 2^53). */
export function expectedFeeMinor(fee: CompiledFee, grossMinor: number): number {
  const g = BigInt(grossMinor);
  const num = g * fee.num;
  // Half up on the magnitude; payment lines are positive, so this is the plain schoolbook rule.
  const sign = num < 0n ? -1n : 1n;
  const mag = sign * num;
  const rounded = (2n * mag + fee.den) / (2n * fee.den);
  return Number(sign * rounded) + fee.fixedMinor;
}

/** The `providers.<p>.settlementLagDays` and `fees` keys, plus time zone, as YAML to merge into a config. */
export function configSnippet(config: {
  fees: FeeSchedule;
  settlementLagDays: Record<ProviderName, number>;
}): string {
  const providers: Record<string, unknown> = {};
  for (const p of ['payunity', 'useepay'] as const) {
    providers[p] = { settlementLagDays: config.settlementLagDays[p], fees: config.fees[p] };
  }
  return stringify({ timezone: 'UTC', holidays: [], providers });
}
