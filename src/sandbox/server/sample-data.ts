// A small built-in world for the simulators when the real generator (src/sandbox/generate) is not used: plausible
// records of every money type in both wire formats, deterministic from a seed. Tests and the memory script use it.
import { formatMinor } from '../../shared/money.js';
import { wireAmount } from '../generate/payunity-wire.js';
import { Rng } from '../generate/prng.js';
import { DEFAULT_CREDENTIALS, type SandboxData } from '../data.js';
import { oppwaTime } from './payunity.js';

export interface SampleOptions {
  /** First day, 'YYYY-MM-DD' (UTC). */
  from: string;
  days: number;
  /** Root payments per day and gateway. */
  payunityPerDay?: number;
  useepayPerDay?: number;
  seed?: number;
}

const DAY = 86_400_000;
const OK = {
  code: '000.100.110',
  description: "Request successfully processed in 'Merchant in Integrator Test Mode'",
};
const DECLINED = { code: '800.100.156', description: 'transaction declined (format error)' };
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP', 'JPY'] as const;

export function buildSampleData(opts: SampleOptions): SandboxData {
  const rng = new Rng(opts.seed ?? 42);
  const rnd = () => rng.next();
  const int = (lo: number, hi: number) => rng.int(lo, hi);
  const start = Date.parse(`${opts.from}T00:00:00Z`);
  let n = 0;
  const hex = () => (0x8ac7a4a0 + (n >> 20)).toString(16) + (n++).toString(16).padStart(24, '0');
  const payunity: Record<string, unknown>[] = [];
  const intents: Record<string, unknown>[] = [];
  const refunds: Record<string, unknown>[] = [];

  for (let d = 0; d < opts.days; d++) {
    const dayStart = start + d * DAY;
    // Follow-ups stay inside the day, so a pull of the window always holds the whole chain.
    const at = () => dayStart + int(0, DAY - 3_600_001);
    const later = (t: number) => Math.min(t + int(1_000, 3_600_000), dayStart + DAY - 1);
    for (let i = 0; i < (opts.payunityPerDay ?? 20); i++) {
      const currency = CURRENCIES[int(0, CURRENCIES.length - 1)]!;
      const minor = currency === 'JPY' ? int(100, 20_000) : int(100, 50_000);
      const amount = wireAmount(minor, currency);
      const t = at();
      const base = {
        paymentBrand: rnd() < 0.6 ? 'VISA' : 'MASTER',
        currency,
        card: { bin: '420000', last4Digits: String(int(1000, 9999)) },
      };
      const roll = rnd();
      const root = hex();
      const order = `ORDER-${d}-${i}`;
      if (roll < 0.7) {
        const declined = rnd() < 0.08;
        payunity.push({
          id: root,
          paymentType: 'DB',
          ...base,
          amount,
          merchantTransactionId: order,
          result: declined ? DECLINED : OK,
          timestamp: oppwaTime(new Date(t)),
        });
        if (!declined && rnd() < 0.15) {
          const part = Math.max(1, Math.floor(minor / 2));
          payunity.push({
            id: hex(),
            referencedId: root,
            paymentType: 'RF',
            ...base,
            amount: wireAmount(part, currency),
            merchantTransactionId: `${order}-RF`,
            result: OK,
            timestamp: oppwaTime(new Date(later(t))),
          });
        } else if (!declined && rnd() < 0.03) {
          // Chargebacks carry no amount and no currency, exactly as OPPWA sends them.
          payunity.push({
            id: hex(),
            referencedId: root,
            paymentType: 'CB',
            paymentBrand: base.paymentBrand,
            result: { code: '000.100.200', description: 'Reason not Specified' },
            timestamp: oppwaTime(new Date(later(t))),
          });
        }
        // Noise a window query returns unless filtered by paymentTypes.
        if (rnd() < 0.3)
          payunity.push({
            id: hex(),
            referencedId: root,
            paymentType: 'RI',
            result: OK,
            risk: { score: '0' },
            timestamp: oppwaTime(new Date(t)),
          });
      } else {
        payunity.push({
          id: root,
          paymentType: 'PA',
          ...base,
          amount,
          merchantTransactionId: order,
          result: OK,
          timestamp: oppwaTime(new Date(t)),
        });
        const t2 = later(t);
        if (rnd() < 0.8)
          payunity.push({
            id: hex(),
            referencedId: root,
            paymentType: 'CP',
            ...base,
            amount,
            merchantTransactionId: `${order}-CP`,
            result: OK,
            timestamp: oppwaTime(new Date(t2)),
          });
        else
          payunity.push({
            id: hex(),
            referencedId: root,
            paymentType: 'RV',
            ...base,
            amount,
            result: OK,
            timestamp: oppwaTime(new Date(t2)),
          });
      }
    }
    for (let i = 0; i < (opts.useepayPerDay ?? 20); i++) {
      const currency = rnd() < 0.7 ? 'USD' : 'EUR';
      const minor = int(100, 80_000);
      const t = new Date(at());
      const ts = t.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const roll = rnd();
      const status =
        roll < 0.8 ? 'succeeded' : roll < 0.88 ? 'failed' : roll < 0.94 ? 'requires_capture' : 'cancelled';
      const id = String(1012411211459019141n + BigInt(n++));
      const amount = Number(formatMinor(minor, currency));
      intents.push({
        id,
        merchant_order_id: `UO-${d}-${i}`,
        amount,
        currency,
        status,
        auto_capture: status !== 'requires_capture',
        captured_amount: status === 'succeeded' ? amount : null,
        last_payment_error:
          status === 'failed'
            ? { code: 'card_declined', decline_code: 'do_not_honor', message: 'declined', type: 'card_error' }
            : null,
        create_at: ts,
        modify_at: ts,
        metadata: {},
        merchant_no: DEFAULT_CREDENTIALS.useepay.merchantNo,
        app_id: DEFAULT_CREDENTIALS.useepay.appId,
      });
      if (status === 'succeeded' && rnd() < 0.15) {
        const rts = new Date(later(t.getTime())).toISOString().replace(/\.\d{3}Z$/, 'Z');
        refunds.push({
          id: String(9012411211459019141n + BigInt(n++)),
          payment_intent_id: id,
          amount: Number(formatMinor(Math.max(1, Math.floor(minor / 3)), currency)),
          currency,
          status: 'succeeded',
          reason: 'customer request',
          metadata: {},
          acquirer_reference_number: null,
          create_at: rts,
          modify_at: rts,
        });
      }
    }
  }
  return { credentials: structuredClone(DEFAULT_CREDENTIALS), payunity, useepay: { intents, refunds } };
}
