// PostgreSQL's binary COPY format, written straight into a Buffer: the server then takes dates, times and amounts as
// the integers it stores instead of parsing text for every value of every row, and never scans long text values
// for delimiters and escapes; here no timestamp is formatted and nothing is escaped.
//
// A stream is HEADER, rows, TRAILER. A row is its field count (int16), then per field an int32 byte length (-1 for
// NULL) and the value in the type's binary form. Every writer returns the position after what it wrote; the caller
// makes room first: a text value takes its 4-byte length and at most 3 bytes of UTF-8 per UTF-16 unit.

/** Binary COPY header: signature, flags, header extension length; the trailer is a field count of -1. */
export const HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
export const TRAILER = Buffer.from([0xff, 0xff]);

/** PostgreSQL's epoch (2000-01-01) in Unix milliseconds, and in days from the Unix epoch. */
const PG_EPOCH_MS = 946_684_800_000;
export const PG_EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;
/** Beyond this many ms from 2000 (about 285 years), ms * 1000 is no longer exact as a double. */
const EXACT_MS = 9_000_000_000_000;

/** A row's field count. */
export function fieldCount(b: Buffer, p: number, n: number): number {
  return b.writeInt16BE(n, p);
}

/** NULL, of any type. */
export function nullValue(b: Buffer, p: number): number {
  return b.writeInt32BE(-1, p);
}

/** A length-prefixed value already encoded. */
export function bytes(b: Buffer, p: number, v: Buffer): number {
  p = b.writeInt32BE(v.length, p);
  return p + v.copy(b, p);
}

/**
 * A text value (also json, char(n) and enums, whose binary form is their text): -1 for null, else its UTF-8 bytes
 * after their length. Short ASCII (ids, references) is copied char by char, which is cheaper than a call into
 * Buffer#write; anything else goes through Buffer#write.
 */
export function text(b: Buffer, p: number, v: string | null): number {
  if (v === null) return b.writeInt32BE(-1, p);
  const n = v.length;
  if (n <= 64) {
    let i = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c > 127) break;
      b[p + 4 + i] = c;
    }
    if (i === n) {
      b.writeInt32BE(n, p);
      return p + 4 + n;
    }
  }
  const len = b.write(v, p + 4, 'utf8');
  b.writeInt32BE(len, p);
  return p + 4 + len;
}

/** An int4. */
export function int32(b: Buffer, p: number, v: number): number {
  p = b.writeInt32BE(4, p);
  return b.writeInt32BE(v, p);
}

/** A safe integer as a big-endian int8. */
export function int64(b: Buffer, p: number, v: number): number {
  const hi = Math.floor(v / TWO_32);
  p = b.writeInt32BE(8, p);
  p = b.writeInt32BE(hi, p);
  return b.writeUInt32BE(v - hi * TWO_32, p);
}

/** A timestamptz: microseconds since 2000-01-01 UTC as an int8. */
export function timestamp(b: Buffer, p: number, epochMs: number): number {
  const ms = epochMs - PG_EPOCH_MS;
  if (ms > -EXACT_MS && ms < EXACT_MS) return int64(b, p, ms * 1000);
  p = b.writeInt32BE(8, p);
  return b.writeBigInt64BE(BigInt(ms) * 1000n, p);
}
