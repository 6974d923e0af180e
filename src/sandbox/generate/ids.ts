import { flat, type Rng } from './prng.js';

// Identifiers shaped like the real ones, unique by construction (a counter is part of every id) rather than by
// luck, because one accidental collision would make the answer key lie. Ids the gateways must NOT know (planted
// missing_in_gateway lines) come from a prefix no generated record ever uses.

const PAYUNITY_VARIANTS = ['9f', 'a0', 'a1', 'a2'];
const PAYUNITY_UNKNOWN_VARIANT = 'a7';

export class Ids {
  private seq = 0;
  private orderSeq = 0;

  constructor(private readonly rng: Rng) {}

  /** OPPWA style: 32 lowercase hex, millisecond timestamp in the middle as the platform's ids carry it. */
  payunity(timeMs: number, unknownToGateway = false): string {
    const variant = unknownToGateway ? PAYUNITY_UNKNOWN_VARIANT : this.rng.pick(PAYUNITY_VARIANTS);
    const seq = (this.seq++).toString(16).padStart(8, '0');
    return flat(['8ac7a4', variant, seq, timeMs.toString(16).padStart(12, '0').slice(-12), this.rng.hex(4)]);
  }

  /** UseePay PaymentIntent: 19 digits, '10' + yyMMdd + sequence; unknown ids start with '19'. Text, never a number. */
  useepayIntent(date: string, unknownToGateway = false): string {
    const seq = String(this.seq++).padStart(11, '0');
    return flat([unknownToGateway ? '19' : '10', date.slice(2, 4), date.slice(5, 7), date.slice(8, 10), seq]);
  }

  /** UseePay refund: 32 lowercase hex. */
  useepayRefund(): string {
    return flat([this.rng.hex(24), (this.seq++).toString(16).padStart(8, '0')]);
  }

  /** A merchant order reference, unique across the world (planted duplicate charges reuse one on purpose). */
  order(prefix: 'PU' | 'UE', date: string): string {
    return flat([
      prefix,
      '-',
      date.slice(0, 4),
      date.slice(5, 7),
      date.slice(8, 10),
      '-',
      String(++this.orderSeq).padStart(7, '0'),
    ]);
  }

  /** OPPWA descriptor: the short id, then the channel name. */
  descriptor(): string {
    const q = (): string => String(this.rng.int(0, 9999)).padStart(4, '0');
    return flat([q(), '.', q(), '.', q(), ' OPP_Channel']);
  }

  /** Acquirer reference number of a succeeded UseePay refund. */
  arn(): string {
    return this.rng.digits(23);
  }
}
