// A small seeded PRNG so a world is reproducible from its seed alone: same seed, same bytes. Math.random is never
// used here. mulberry32 is fast, has a 2^32 period (plenty for a few million draws) and needs no dependency.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    const parts: string[] = [];
    for (let len = 0; len < n; len += 4)
      parts.push(((this.next() * 0x10000) >>> 0).toString(16).padStart(4, '0'));
    return flat(parts).slice(0, n);
  }

  /** `n` decimal digits (leading zeros allowed). */
  digits(n: number): string {
    const parts: string[] = [];
    for (let len = 0; len < n; len += 4) parts.push(String(Math.floor(this.next() * 10000)).padStart(4, '0'));
    return flat(parts).slice(0, n);
  }
}

/**
 * Concatenates into one flat string. `a + b` and template literals build V8 "cons strings" (a tree of parts) that
 * stay that way while nothing reads them: for a million long-lived ids and timestamps that is about twice the
 * memory. Array#join always produces a flat string.
 */
export function flat(parts: readonly string[]): string {
  return parts.join('');
}
