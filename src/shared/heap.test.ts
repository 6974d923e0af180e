import { describe, expect, it } from 'vitest';
import { userSetHeapGrowth } from './heap.js';

describe('userSetHeapGrowth', () => {
  it("finds the user's own setting on the command line or in NODE_OPTIONS, in either spelling", () => {
    expect(userSetHeapGrowth(['--heap-growing-percent=50'], undefined)).toBe(true);
    expect(userSetHeapGrowth(['--expose-gc', '--heap_growing_percent=300'], '')).toBe(true);
    expect(userSetHeapGrowth([], '--max-old-space-size=4096 --heap-growing-percent=20')).toBe(true);
  });

  it('leaves the choice to payrecon when neither sets it', () => {
    expect(userSetHeapGrowth([], undefined)).toBe(false);
    expect(userSetHeapGrowth(['--expose-gc'], '--max-old-space-size=4096')).toBe(false);
    expect(userSetHeapGrowth(['--heap-growing-percentile=5'], undefined)).toBe(false);
  });
});
