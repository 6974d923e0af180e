// Independent tasks at once, stopped together: what a run does with its providers and a pull with its lanes.

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
