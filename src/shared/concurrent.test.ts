import { describe, expect, it } from 'vitest';
import { allOrAbort, Limiter } from './concurrent.js';

describe('Limiter', () => {
  it('never runs more than its bound at once, and starts waiters in arrival order', async () => {
    const lim = new Limiter(2);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const job = (i: number) =>
      lim.run(async () => {
        started.push(i);
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        if (i === 2) throw new Error('job 2 failed');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(job));
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    // A failure frees its slot like a success.
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
  });
});

describe('allOrAbort', () => {
  it('returns results in task order, or aborts the others and rethrows the first failure', async () => {
    const never = new AbortController().signal;
    const slowFirst = [
      async () => {
        await new Promise((r) => setTimeout(r, 10));
        return 'a';
      },
      () => Promise.resolve('b'),
    ];
    await expect(allOrAbort(never, slowFirst)).resolves.toEqual(['a', 'b']);

    let siblingAborted = false;
    const failing = [
      (signal: AbortSignal) =>
        new Promise<string>((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            siblingAborted = true;
            reject(new Error('aborted'));
          }),
        ),
      () => Promise.reject(new Error('first failure')),
    ];
    await expect(allOrAbort(never, failing)).rejects.toThrow('first failure');
    expect(siblingAborted).toBe(true);
  });
});
