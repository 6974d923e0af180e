// Ordered page prefetching: keeps up to `ahead` page requests in flight and yields pages in order, so a pull is
// as fast as the gateway allows while memory stays bounded by `ahead` pages.

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
