// Work at once: independent tasks stopped together (a run's providers), and a bound on work in flight.

/**
 * Runs every task at once, each with a signal of its own that follows `signal`, and returns their results in
 * task order. The first failure aborts the others, and is the one rethrown once all of them have stopped, so
 * nothing is left running behind a failure.
 */
export async function allOrAbort<T>(
  signal: AbortSignal,
  tasks: readonly ((signal: AbortSignal) => Promise<T>)[],
): Promise<T[]> {
  const phase = new AbortController();
  const follow = () => phase.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  let first: { error: unknown } | undefined;
  try {
    const settled = await Promise.allSettled(
      tasks.map(async (task) => {
        try {
          return await task(phase.signal);
        } catch (e) {
          first ??= { error: e };
          phase.abort(e);
          throw e;
        }
      }),
    );
    if (first) throw first.error;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  } finally {
    signal.removeEventListener('abort', follow);
  }
}

/** Counting semaphore: at most `max` calls of `run` in flight, the rest waiting in arrival order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot slip in between and exceed the bound.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
