import { createHash } from 'node:crypto';
import type { DiscrepancyType } from './types.js';

/**
 * The stable discrepancy id: `D` + the first 16 hex digits of SHA-256 of `provider|type|key` (docs/matching.md).
 * The matcher computes the same in SQL; this twin is for answer keys, tests and tools.
 */
export function discrepancyId(provider: string, type: DiscrepancyType, key: string): string {
  return `D${createHash('sha256').update(`${provider}|${type}|${key}`, 'utf8').digest('hex').slice(0, 16)}`;
}
