// A bad record is rejected, not fatal: the gateway-side counterpart of a settlement file's rejected line. A page
// that is not JSON, or has no records array, is a bad answer and still fails the pull (in each client); one record
// that cannot be mapped is kept in rejected_records with its reason and the rest of the page goes on.
import { hash } from 'node:crypto';
import type { ProviderName } from '../config/schema.js';
import { maskCardNumbers } from '../shared/card-mask.js';
import { GatewayError } from '../shared/errors.js';
import type { GatewayTransaction, PullWindow, RejectedRecord } from './types.js';

/**
 * Deepest nesting a record may have. Real records are under 10 levels (an OPPWA record's resultDetails or card is
 * level 2, a UseePay intent's payment_method.card level 2, metadata a few more). PostgreSQL's json parser recurses
 * per level and refuses a document at its max_stack_depth (2 MB by default: some thousands of levels) with "stack
 * depth limit exceeded", which names no record and failed the whole batch; JSON.stringify overflows this process's
 * stack near the same depth. 64 leaves room for any gateway's richer metadata and stays far below both.
 */
export const MAX_RECORD_DEPTH = 64;

/** Characters of a rejected record's text that are kept, as for an overlong settlement line. */
export const MAX_REJECTED_RAW = 1000;

/** What a gateway can say about a record it could not map: its id and what it refers to, where usable. */
export interface RecordIdentity {
  recordId: string | null;
  gatewayType: string | null;
  referencedId: string | null;
  holdId: string | null;
}

/** Where a page came from. */
export interface PageSource {
  provider: ProviderName;
  endpoint: string;
  window: PullWindow;
}

/** A non-empty string, or null. */
export function usableId(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/**
 * Maps one record of a page, or rejects it. `text`: its text in the page (stored as its raw JSON when it maps);
 * `depth`: its nesting as the page scan measured it (measured here on the parsed value when unknown). Only
 * GatewayError (the mapping's own verdict on a record) rejects: anything else is a fault of ours and fails the pull.
 */
export function mapOrReject(
  source: PageSource,
  raw: unknown,
  text: string | undefined,
  depth: number | undefined,
  map: (raw: unknown) => GatewayTransaction,
  identify: (raw: unknown) => RecordIdentity,
): GatewayTransaction | RejectedRecord {
  const measured = depth ?? depthOf(raw, MAX_RECORD_DEPTH + 1);
  if (measured > MAX_RECORD_DEPTH)
    return rejection(
      source,
      // A record this deep is not walked for its id: its top level is read only when it is an object.
      identify(typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : null),
      depth === undefined
        ? `record nested more than ${MAX_RECORD_DEPTH} levels deep: not stored (real records have under 10)`
        : `record nested ${depth} levels deep, more than ${MAX_RECORD_DEPTH}: not stored (real records have under 10)`,
      text,
      raw,
    );
  try {
    const t = map(raw);
    if (text !== undefined) t.rawText = text;
    return t;
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return rejection(source, identify(raw), e.message, text, raw);
  }
}

export function isRejected(r: GatewayTransaction | RejectedRecord): r is RejectedRecord {
  return 'reason' in r;
}

function rejection(
  source: PageSource,
  who: RecordIdentity,
  reason: string,
  text: string | undefined,
  raw: unknown,
): RejectedRecord {
  const masked = maskCardNumbers(text ?? serialised(raw));
  return {
    provider: source.provider,
    endpoint: source.endpoint,
    window: source.window,
    ...who,
    reason: maskCardNumbers(reason),
    raw: masked.length > MAX_REJECTED_RAW ? `${masked.slice(0, MAX_REJECTED_RAW - 1)}…` : masked,
    rawHash: hash('sha1', masked),
  };
}

function serialised(raw: unknown): string {
  try {
    return JSON.stringify(raw) ?? String(raw);
  } catch {
    return '(the record could not be written out again)';
  }
}

/** Nesting depth of a parsed value, counted up to `limit` (no deeper walk): iterative, so any depth is safe. */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = d + 1;
    if (here > deepest) deepest = here;
    if (deepest >= limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, here]);
  }
  return deepest;
}

/**
 * A record a lookup by id could not map: thrown by a client's `lookup`, kept by the caller as a rejection (its
 * window is the moment it was asked) instead of failing the match. A failed request is not this: it stays a
 * GatewayError and fails the run.
 */
export class RecordRejectedError extends GatewayError {
  constructor(readonly rejection: RejectedRecord) {
    super(
      `${rejection.provider} ${rejection.endpoint}: record rejected: ${rejection.reason}`,
      rejection.provider,
    );
  }
}

/**
 * Maps one record a lookup returned, or throws RecordRejectedError: the lookup's counterpart of mapOrReject. Its
 * rejection's window is the instant `at` it was asked (from = to), which is how the sheet tells it from a pull's.
 */
export function mapLookedUp(
  provider: ProviderName,
  endpoint: string,
  at: Date,
  raw: unknown,
  text: string | undefined,
  map: (raw: unknown) => GatewayTransaction,
  identify: (raw: unknown) => RecordIdentity,
): GatewayTransaction {
  const t = mapOrReject(
    { provider, endpoint, window: { from: at, to: at } },
    raw,
    text,
    undefined,
    map,
    identify,
  );
  if (isRejected(t)) throw new RecordRejectedError(t);
  return t;
}
