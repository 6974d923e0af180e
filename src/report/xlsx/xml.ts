// A streaming XML parser for the parts of an .xlsx, fed text chunk by chunk. Element and attribute names are given
// without their namespace prefix: most programs write <row>, some (the OpenXML SDK) <x:row>, and no two
// SpreadsheetML names this reader looks at differ only by namespace.
import { SaxesParser } from 'saxes';
import { ZipFormatError, type ZipEntry, type ZipFile } from './zip.js';

export interface XmlHandlers {
  open?: (name: string, attributes: Record<string, string>) => void;
  text?: (text: string) => void;
  close?: (name: string) => void;
}

type Options = { xmlns: false; position: false };

/**
 * A copy of `s` that holds only its own characters. The parser's strings are slices of the chunk of text they came
 * from: a string kept (a shared string, a cell value in a row kept) would keep its whole chunk alive with it, and
 * with enough of them every chunk of the part. A short string is a copy already.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

const local = (name: string) => name.slice(name.indexOf(':') + 1);

/** A parser calling `h`; `write` throws on malformed XML. */
function xmlParser(h: XmlHandlers): SaxesParser<Options> {
  const parser = new SaxesParser<Options>({ xmlns: false, position: false });
  const { open, text, close } = h;
  if (open) {
    parser.on('opentag', (tag) => {
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(tag.attributes)) attributes[local(k)] = v;
      open(local(tag.name), attributes);
    });
  }
  if (text) parser.on('text', text);
  if (close) parser.on('closetag', (tag) => close(local(tag.name)));
  return parser;
}

/**
 * Parses part `entry` with `h`, yielding after each chunk of text (so that a caller can hand on what the handlers
 * collected before the next chunk is read). A malformed or damaged part fails naming the part.
 */
export async function* parseXmlChunks(zip: ZipFile, entry: ZipEntry, h: XmlHandlers): AsyncGenerator<void> {
  const text = await zip.read(entry);
  const parser = xmlParser(h);
  try {
    for await (const chunk of text) {
      parser.write(chunk as string);
      yield;
    }
    parser.close();
  } catch (e) {
    if (e instanceof ZipFormatError) throw e;
    throw new ZipFormatError(`${entry.name}: ${(e as Error).message}`, { cause: e });
  } finally {
    text.destroy();
  }
}

/** Parses the whole of part `entry` with `h`. */
export async function parseXml(zip: ZipFile, entry: ZipEntry, h: XmlHandlers): Promise<void> {
  for await (const _ of parseXmlChunks(zip, entry, h));
}
