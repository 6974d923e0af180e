// Small node:http helpers shared by both simulators.
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY = 1_000_000;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Sends a pre-serialised JSON text; `malformed` cuts it in half, as a broken proxy would. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  malformed = false,
  headers: Record<string, string> = {},
): void {
  const body = malformed ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text;
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, malformed = false): void {
  sendJsonText(res, status, JSON.stringify(value), malformed);
}

/**
 * A record served as this text instead of its own serialisation. Tests plant records no gateway should send (an
 * amount with four decimals, no id, a time that is not one, nesting too deep to serialise) while the simulator
 * still files the object under its own id and time.
 */
export const SERVED_TEXT = Symbol('servedText');

/** JSON text of a record, serialised once: pages are assembled from these by concatenation. */
const cache = new WeakMap<object, string>();
export function jsonOf(record: object): string {
  let s = cache.get(record);
  if (s === undefined) {
    const planted = (record as { [SERVED_TEXT]?: unknown })[SERVED_TEXT];
    s = typeof planted === 'string' ? planted : JSON.stringify(record);
    cache.set(record, s);
  }
  return s;
}

/**
 * Serialises every record up front, when the simulator starts: a real gateway's serialising does not run on our
 * machine, and left to the first page request it would take CPU from the pull the sandbox is there to measure.
 */
export function serialiseAll(records: readonly object[]): void {
  for (const r of records) jsonOf(r);
}

/** A small least-recently-used cache (filtered id lists of recent window queries). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  clear(): void {
    this.map.clear();
  }
}
