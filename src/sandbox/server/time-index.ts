// Records sorted by time with binary search: a window query costs O(log n + page), so a million records serve
// as fast as a thousand.

export class TimeIndex<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  constructor(entries: { t: number; item: T }[] = []) {
    entries.sort((a, b) => a.t - b.t);
    for (const e of entries) {
      this.times.push(e.t);
      this.items.push(e.item);
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** First position whose time is >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Positions [start, end) of items with from <= time <= toInclusive. */
  range(from: number, toInclusive: number): [number, number] {
    return [this.lowerBound(from), this.lowerBound(toInclusive + 1)];
  }

  at(i: number): T {
    return this.items[i]!;
  }

  insert(t: number, item: T): void {
    // New records (refunds) are nearly always the latest: append without shifting.
    const i =
      this.times.length > 0 && this.times[this.times.length - 1]! <= t
        ? this.times.length
        : this.lowerBound(t + 1);
    this.times.splice(i, 0, t);
    this.items.splice(i, 0, item);
  }
}
