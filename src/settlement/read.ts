// Opens a settlement file as a stream of decoded text: gzip detected by name and magic bytes, BOM dropped,
// decoded strictly for UTF-8 (invalid bytes mean a wrong encoding, which rejects the file) and by iconv-lite
// for latin1/gbk/gb18030.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import iconv from 'iconv-lite';
import { FileRejectedError } from './errors.js';

const CHUNK = 1 << 18;

export type FileEncoding = 'utf8' | 'latin1' | 'gbk' | 'gb18030';

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

interface Decoder {
  write(buf: Buffer): string;
  end(): string;
}

function decoderFor(encoding: FileEncoding): Decoder {
  if (encoding === 'utf8') {
    // fatal: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD; the BOM is removed.
    const td = new TextDecoder('utf-8', { fatal: true });
    return { write: (b) => td.decode(b, { stream: true }), end: () => td.decode() };
  }
  const d = iconv.getDecoder(encoding, { stripBOM: true });
  return { write: (b) => d.write(b), end: () => d.end() ?? '' };
}

/** Decoded text of the file, chunk by chunk. Throws FileRejectedError when the file cannot be read as a whole. */
export async function* readDecoded(
  path: string,
  name: string,
  encoding: FileEncoding,
): AsyncGenerator<string> {
  const gzName = /\.gz$/i.test(name);
  const gzMagic = await startsWithGzipMagic(path);
  if (gzName && !gzMagic) throw new FileRejectedError('named .gz but is not gzip data');
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  const bytes = gzMagic ? raw.pipe(createGunzip({ chunkSize: CHUNK })) : raw;
  if (gzMagic) raw.on('error', (e) => bytes.destroy(e));
  const decoder = decoderFor(encoding);
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      const text = decodeOrReject(() => decoder.write(chunk), encoding);
      if (text.length > 0) yield text;
    }
    const tail = decodeOrReject(() => decoder.end(), encoding);
    if (tail.length > 0) yield tail;
  } catch (e) {
    if (e instanceof FileRejectedError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (
      gzMagic &&
      (code.startsWith('Z_') || /unexpected end of file|incorrect header|invalid/i.test((e as Error).message))
    ) {
      throw new FileRejectedError(`bad gzip data: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  } finally {
    raw.destroy();
  }
}

function decodeOrReject(fn: () => string, encoding: FileEncoding): string {
  try {
    return fn();
  } catch (e) {
    throw new FileRejectedError(
      `not valid ${encoding === 'utf8' ? 'UTF-8' : encoding} text (wrong encoding?)`,
      { cause: e },
    );
  }
}
