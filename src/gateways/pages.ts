// Ordered page prefetching: keeps up to `ahead` page requests in flight and yields pages in order, so a pull is
// as fast as the gateway allows while memory stays bounded by `ahead` pages.
import { GatewayError } from '../shared/errors.js';
import type { RejectedRecord } from './types.js';

/**
 * Pages 1..count (or until `isLast` says so when count is unknown), fetched up to `ahead` at a time.
 * When the count is unknown, pages past the last are requested speculatively and discarded.
 */
export async function* orderedPages<T>(
  first: number,
  count: number | undefined,
  ahead: number,
  fetchPage: (n: number) => Promise<T>,
  isLast: (page: T) => boolean = () => false,
): AsyncGenerator<T> {
  const inFlight: Promise<T>[] = [];
  let next = first;
  const end = count === undefined ? Infinity : first + count;
  const fill = () => {
    while (inFlight.length < Math.max(1, ahead) && next < end) {
      const p = fetchPage(next++);
      // A rejection is observed when the page's turn comes; until then, keep it from being "unhandled".
      p.catch(() => undefined);
      inFlight.push(p);
    }
  };
  try {
    fill();
    while (inFlight.length > 0) {
      const page = await inFlight.shift()!;
      yield page;
      if (isLast(page)) return;
      fill();
    }
  } finally {
    // Speculative or abandoned requests still settle; their results are dropped.
    await Promise.allSettled(inFlight);
  }
}

/** Pages in a row that bring only records already received before a pull calls the gateway's paging stuck. */
export const MAX_STALE_PAGES = 10;

/**
 * Counts pages that held records but none new (all seen earlier in the window). A gateway whose paging does not
 * advance (it repeats a page and still says there is more) would otherwise be read for ever; `describe` says where.
 */
export function stalePages(provider: string, describe: () => string): (held: number, fresh: number) => void {
  let inARow = 0;
  return (held, fresh) => {
    inARow = held > 0 && fresh === 0 ? inARow + 1 : 0;
    if (inARow >= MAX_STALE_PAGES)
      throw new GatewayError(
        `${provider}: ${MAX_STALE_PAGES} pages in a row (${describe()}) held only records already received in ` +
          'this window, and the gateway still said there were more: its paging does not advance; stopped rather ' +
          'than read for ever (run again later; if it persists, ask the gateway)',
        provider,
      );
  };
}

/**
 * Keeps each rejected record once per window (by its text's hash), as the mapped records are kept once per id: a
 * record repeated on a later page is neither rejected twice nor news to stalePages.
 */
export function firstRejections(): (rejected: RejectedRecord[]) => RejectedRecord[] {
  const seen = new Set<string>();
  return (rejected) =>
    rejected.length === 0
      ? rejected
      : rejected.filter((r) => !seen.has(r.rawHash) && seen.add(r.rawHash) !== undefined);
}
