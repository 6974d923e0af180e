// The entries of a zip file (an .xlsx is one), read through its central directory from an open file: any entry
// can be read without reading the ones before it, in whatever order the program that saved the file wrote them,
// and an entry that is not needed is never decompressed. Entries come as streams, so memory does not grow with
// their size.
import type { FileHandle } from 'node:fs/promises';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';

/** The file is not a zip file, or not one this reader can read. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** A directory this large is not a workbook's (a few dozen entries): refused rather than read into memory. */
const MAX_DIRECTORY_BYTES = 16 << 20;

export class ZipFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
    /** By name, and by lower-cased name: part names in an .xlsx are case-insensitive. */
    private readonly byName: Map<string, ZipEntry>,
  ) {}

  /** Reads the central directory of the zip file open in `handle` (which the caller closes). */
  static async open(handle: FileHandle): Promise<ZipFile> {
    const { size } = await handle.stat();
    const tail = await readAt(handle, Math.max(0, size - (22 + 0xffff)), Math.min(size, 22 + 0xffff));
    const at = findEnd(tail);
    if (at < 0) throw new ZipFormatError('not a zip file');
    let count = tail.readUInt16LE(at + 10);
    let dirSize = tail.readUInt32LE(at + 12);
    let dirOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locatorAt = size - tail.length + at - 20;
      const locator = locatorAt >= 0 ? await readAt(handle, locatorAt, 20) : Buffer.alloc(0);
      if (locator.length < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR)
        throw new ZipFormatError('zip64 directory locator missing');
      const end64 = await readAt(handle, u64(locator, 8), 56);
      if (end64.length < 56 || end64.readUInt32LE(0) !== ZIP64_EOCD)
        throw new ZipFormatError('zip64 end of directory missing');
      count = u64(end64, 32);
      dirSize = u64(end64, 40);
      dirOffset = u64(end64, 48);
    }
    if (dirSize > MAX_DIRECTORY_BYTES) throw new ZipFormatError('zip directory too large');
    if (dirOffset + dirSize > size) throw new ZipFormatError('zip directory beyond the end of the file');
    const dir = await readAt(handle, dirOffset, dirSize);
    const byName = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_HEADER)
        throw new ZipFormatError('zip directory damaged');
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      const entry: ZipEntry = {
        name: dir.toString('utf8', p + 46, p + 46 + nameLength),
        flags: dir.readUInt16LE(p + 8),
        method: dir.readUInt16LE(p + 10),
        crc32: dir.readUInt32LE(p + 16),
        compressedSize: dir.readUInt32LE(p + 20),
        size: dir.readUInt32LE(p + 24),
        localHeaderOffset: dir.readUInt32LE(p + 42),
      };
      applyZip64Extra(entry, dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
      byName.set(entry.name, entry);
      if (!byName.has(entry.name.toLowerCase())) byName.set(entry.name.toLowerCase(), entry);
      p += 46 + nameLength + extraLength + commentLength;
    }
    return new ZipFile(handle, size, byName);
  }

  /** The entry of this name (exact, else ignoring case), if any. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /**
   * The entry's content, decompressed, as UTF-8 text in chunks (a character split between two chunks is decoded
   * whole). The stream fails when the content does not have the size and CRC-32 the directory gives, so a damaged
   * entry is never taken for a whole one. Destroying it (a reader that stops early) stops the reading.
   */
  async read(entry: ZipEntry): Promise<Readable> {
    if (entry.flags & 1) throw new ZipFormatError(`${entry.name} is encrypted`);
    if (entry.method !== 0 && entry.method !== 8)
      throw new ZipFormatError(`${entry.name} uses compression method ${entry.method}`);
    const local = await readAt(this.handle, entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_HEADER)
      throw new ZipFormatError(`${entry.name}: local header missing`);
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (start + entry.compressedSize > this.fileSize)
      throw new ZipFormatError(`${entry.name} runs past the end of the file`);
    const raw =
      entry.compressedSize === 0
        ? Readable.from([])
        : this.handle.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false });
    const check = new Check(entry);
    // Errors reach `check`, the stream the caller reads; the callback only keeps pipeline from throwing them.
    if (entry.method === 8) pipeline(raw, createInflateRaw(), check, () => undefined);
    else pipeline(raw, check, () => undefined);
    check.setEncoding('utf8');
    return check;
  }
}

/** Passes the bytes through, failing at the end when their size or CRC-32 is not the entry's. */
class Check extends Transform {
  private crc = 0;
  private length = 0;
  constructor(private readonly entry: ZipEntry) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.length += chunk.length;
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.length !== this.entry.size || this.crc !== this.entry.crc32)
      done(new ZipFormatError(`${this.entry.name} is damaged (its size or checksum does not match)`));
    else done();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Where the end-of-central-directory record starts in `tail`, or -1: the last one whose comment fits. */
function findEnd(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) return i;
  }
  return -1;
}

function u64(buf: Buffer, at: number): number {
  const n = buf.readBigUInt64LE(at);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('zip offset out of range');
  return Number(n);
}

/** Sizes and offsets too large for 32 bits are in the zip64 extra field, in this order, when marked 0xffffffff. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let p = 0; p + 4 <= extra.length;) {
    const id = extra.readUInt16LE(p);
    const length = extra.readUInt16LE(p + 2);
    if (id === 0x0001) {
      let q = p + 4;
      const next = () => {
        if (q + 8 > p + 4 + length) throw new ZipFormatError(`${entry.name}: zip64 field too short`);
        const v = u64(extra, q);
        q += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    p += 4 + length;
  }
}
