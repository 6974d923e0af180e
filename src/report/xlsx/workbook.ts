// The structure of an .xlsx: its sheets by name, found the way the format defines (the package's relationships
// name the workbook part, the workbook's relationships name each sheet's part), so whatever program saved the file
// and in whatever order it wrote the zip, each name leads to its sheet; and the shared strings the sheets refer to.
import path from 'node:path';
import { own, parseXml } from './xml.js';
import { ZipFormatError, type ZipEntry, type ZipFile } from './zip.js';

/** The file is an OpenDocument spreadsheet (.ods), not an .xlsx. */
export class OpenDocumentError extends Error {
  override name = 'OpenDocumentError';
}

export interface XlsxSheet {
  name: string;
  entry: ZipEntry;
}

export interface XlsxStructure {
  /** In the order the workbook lists them (its tabs). */
  sheets: XlsxSheet[];
  sharedStrings: ZipEntry | undefined;
}

const OFFICE_DOCUMENT = /\/officeDocument$/;
const WORKSHEET = /\/worksheet$/;
const SHARED_STRINGS = /\/sharedStrings$/;

export async function xlsxStructure(zip: ZipFile): Promise<XlsxStructure> {
  const mimetype = zip.entry('mimetype');
  if (mimetype && (await small(zip, mimetype)).startsWith('application/vnd.oasis.opendocument.spreadsheet'))
    throw new OpenDocumentError('an OpenDocument spreadsheet');
  const root = await relationships(zip, '_rels/.rels', '');
  const workbookPart = root.find((r) => OFFICE_DOCUMENT.test(r.type))?.target ?? 'xl/workbook.xml';
  const workbook = zip.entry(workbookPart);
  if (!workbook) {
    // An OpenDocument file whose mimetype entry was lost still has its content.xml.
    if (zip.entry('content.xml')) throw new OpenDocumentError('an OpenDocument spreadsheet');
    throw new ZipFormatError(`no ${workbookPart} in it`);
  }
  const rels = await relationships(
    zip,
    path.posix.join(path.posix.dirname(workbookPart), '_rels', `${path.posix.basename(workbookPart)}.rels`),
    path.posix.dirname(workbookPart),
  );
  const byId = new Map(rels.map((r) => [r.id, r]));
  const sheets: XlsxSheet[] = [];
  await parseXml(zip, workbook, {
    open(name, a) {
      if (name !== 'sheet' || a.name === undefined) return;
      const rel = a.id === undefined ? undefined : byId.get(a.id);
      const entry = rel && WORKSHEET.test(rel.type) ? zip.entry(rel.target) : undefined;
      // A chart sheet or a dialog sheet has no rows; a sheet whose part is missing is not a sheet to read.
      if (entry) sheets.push({ name: a.name, entry });
    },
  });
  const shared = rels.find((r) => SHARED_STRINGS.test(r.type));
  return { sheets, sharedStrings: shared ? zip.entry(shared.target) : undefined };
}

/** The shared strings table: each string item's text, in order (phonetic runs left out, as Excel shows them). */
export async function readSharedStrings(zip: ZipFile, entry: ZipEntry): Promise<string[]> {
  const out: string[] = [];
  let text: string | null = null;
  let inT = false;
  let phonetic = 0;
  await parseXml(zip, entry, {
    open(name) {
      if (name === 'si') text = '';
      else if (name === 'rPh') phonetic++;
      else if (name === 't' && phonetic === 0) inT = true;
    },
    text(t) {
      if (inT && text !== null) text += t;
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si') {
        out.push(own(text ?? ''));
        text = null;
      }
    },
  });
  return out;
}

interface Relationship {
  id: string;
  type: string;
  /** The part's name in the zip. */
  target: string;
}

/** The relationships in part `name` (none when it is missing), targets resolved against folder `base`. */
async function relationships(zip: ZipFile, name: string, base: string): Promise<Relationship[]> {
  const entry = zip.entry(name);
  if (!entry) return [];
  const out: Relationship[] = [];
  await parseXml(zip, entry, {
    open(tag, a) {
      if (tag !== 'Relationship' || !a.Id || !a.Target || a.TargetMode === 'External') return;
      const target = a.Target.startsWith('/')
        ? a.Target.slice(1)
        : path.posix.normalize(path.posix.join(base, a.Target));
      out.push({ id: a.Id, type: a.Type ?? '', target });
    },
  });
  return out;
}

/** A small part's text (a few bytes: the mimetype), or '' when it is not small. */
async function small(zip: ZipFile, entry: ZipEntry): Promise<string> {
  if (entry.size > 1024) return '';
  let text = '';
  for await (const chunk of await zip.read(entry)) text += chunk as string;
  return text.trim();
}
