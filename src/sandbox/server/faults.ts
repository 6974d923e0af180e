// Fault injection for the simulators: the failures gateways.md says real clients meet, on demand and repeatable.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Rng } from '../generate/prng.js';

export interface FaultOptions {
  /** Seed of the fault sequence: the same seed and the same requests give the same faults. */
  seed?: number;
  /** Share of reads answered 429 (0..1). */
  rate429?: number;
  /** Retry-After seconds sent with a 429 (default 1); null sends none, as OPPWA's paging sometimes does. */
  retryAfterSeconds?: number | null;
  /** Share of reads answered 500. */
  rate500?: number;
  /** Share of reads answered after `slowMs`. */
  rateSlow?: number;
  slowMs?: number;
  /** Share of reads answered 200 with a truncated (malformed) JSON body. */
  rateMalformed?: number;
  /** Share of reads whose connection is dropped without an answer. */
  rateDrop?: number;
  /** The next n refund POSTs are applied, then never answered (the client times out): exactly-once tests. */
  refundTimeoutAfterApply?: number;
  /** The next n refund POSTs are applied, then their connection is dropped. */
  refundDropAfterApply?: number;
  /** How long an unanswered refund is held open before its socket is destroyed (default 120 s). */
  refundHoldMs?: number;
}

/** A repeatable stream of numbers in [0, 1) from a seed (the generator's PRNG). */
function seededRandom(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

export type ReadFault = 'none' | '429' | '500' | 'slow' | 'malformed' | 'drop';

export class FaultInjector {
  private random: () => number;
  private seed: number | undefined;
  /** How many of each fault were injected so far (tests check that faults really happened). */
  readonly injected: Record<string, number> = {};
  constructor(public options: FaultOptions = {}) {
    this.seed = options.seed;
    this.random = seededRandom(options.seed ?? 1);
  }

  /** Replaces the options (tests switch faults on and off between steps). */
  set(options: FaultOptions): void {
    this.options = options;
    if (options.seed !== undefined && options.seed !== this.seed) {
      this.seed = options.seed;
      this.random = seededRandom(options.seed);
    }
  }

  nextReadFault(): ReadFault {
    const o = this.options;
    const total =
      (o.rate429 ?? 0) + (o.rate500 ?? 0) + (o.rateSlow ?? 0) + (o.rateMalformed ?? 0) + (o.rateDrop ?? 0);
    if (total <= 0) return 'none';
    let r = this.random();
    for (const [fault, rate] of [
      ['429', o.rate429],
      ['500', o.rate500],
      ['slow', o.rateSlow],
      ['malformed', o.rateMalformed],
      ['drop', o.rateDrop],
    ] as const) {
      if (r < (rate ?? 0)) {
        this.injected[fault] = (this.injected[fault] ?? 0) + 1;
        return fault;
      }
      r -= rate ?? 0;
    }
    return 'none';
  }

  /** What to do after applying a refund: answer normally, hold the answer back, or drop the connection. */
  takeRefundFault(): 'none' | 'timeout' | 'drop' {
    if ((this.options.refundTimeoutAfterApply ?? 0) > 0) {
      this.options.refundTimeoutAfterApply! -= 1;
      this.injected.refundTimeout = (this.injected.refundTimeout ?? 0) + 1;
      return 'timeout';
    }
    if ((this.options.refundDropAfterApply ?? 0) > 0) {
      this.options.refundDropAfterApply! -= 1;
      this.injected.refundDrop = (this.injected.refundDrop ?? 0) + 1;
      return 'drop';
    }
    return 'none';
  }
}

/**
 * Answers a read with its fault, or returns false (no fault, or a slow one that has already waited) so the
 * handler answers normally. `body` builds the real answer, which a malformed fault truncates.
 */
export async function applyReadFault(
  fault: ReadFault,
  opts: FaultOptions,
  req: IncomingMessage,
  res: ServerResponse,
  contentType = 'application/json',
): Promise<'answered' | 'malformed' | 'continue'> {
  switch (fault) {
    case '429':
      res.writeHead(
        429,
        opts.retryAfterSeconds === null
          ? { 'content-type': contentType }
          : { 'content-type': contentType, 'retry-after': String(opts.retryAfterSeconds ?? 1) },
      );
      res.end('{"result":{"code":"800.120.100","description":"Too many requests. Please try again later."}}');
      return 'answered';
    case '500':
      res.writeHead(500, { 'content-type': contentType });
      res.end('{"code":"service_unavailable","message":"simulated server error"}');
      return 'answered';
    case 'drop':
      req.socket.destroy();
      return 'answered';
    case 'slow':
      await new Promise((r) => setTimeout(r, opts.slowMs ?? 200));
      return 'continue';
    case 'malformed':
      return 'malformed';
    default:
      return 'continue';
  }
}
