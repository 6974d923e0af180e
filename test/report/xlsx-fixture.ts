// Workbooks built part by part, for what a spreadsheet program may save and ExcelJS would never write: the zip's
// entries in any order, sheets under other part names, prefixed XML, damaged or malformed parts.
import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipPart {
  name: string;
  data: string | Buffer;
  /** Stored as is (0) or deflated (8, the default). */
  method?: 0 | 8;
  /** Bytes written in place of the compressed data (a damaged part); the directory still describes `data`. */
  replaceCompressed?: Buffer;
}

/** Writes a zip file of `parts`, in this order. */
export async function writeZip(file: string, parts: readonly ZipPart[]): Promise<void> {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const data = Buffer.from(p.data);
    const method = p.method ?? 8;
    const stored = p.replaceCompressed ?? (method === 8 ? deflateRawSync(data) : data);
    const name = Buffer.from(p.name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(0x800, 8);
    dir.writeUInt16LE(method, 10);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(stored.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    chunks.push(local, name, stored);
    central.push(dir, name);
    offset += local.length + name.length + stored.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(file, Buffer.concat([...chunks, dirBytes, end]));
}

/** A cell: text (written inline, or shared), a number, or nothing. */
export type FixtureCell = string | number | null;

export interface FixtureSheet {
  name: string;
  /** Rows from row 1, or the sheet part's XML as is. */
  rows: FixtureCell[][] | string;
  /** The sheet's part name (default xl/worksheets/sheet<n>.xml). */
  part?: string;
}

export interface FixtureOptions {
  /** Text cells as shared strings (what Excel and LibreOffice save) rather than inline (what ExcelJS streams). */
  sharedStrings?: boolean;
  /** Relationship targets as absolute part names ("/xl/worksheets/…"), as some programs write them. */
  absoluteTargets?: boolean;
  /** A prefix for the SpreadsheetML elements ("x", as the OpenXML SDK writes them). */
  prefix?: string;
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG = 'http://schemas.openxmlformats.org/package/2006/relationships';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function column(n: number): string {
  let s = '';
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** The parts of an .xlsx holding `sheets`, in the order Excel writes them (the caller may reorder them). */
export function xlsxParts(sheets: readonly FixtureSheet[], opts: FixtureOptions = {}): ZipPart[] {
  const x = opts.prefix ? `${opts.prefix}:` : '';
  const ns = opts.prefix ? `xmlns:${opts.prefix}="${MAIN}"` : `xmlns="${MAIN}"`;
  const target = (part: string) => (opts.absoluteTargets ? `/${part}` : part.replace(/^xl\//, ''));
  const strings: string[] = [];
  const sheetXml = (rows: FixtureCell[][]) => {
    const body = rows
      .map((cells, r) => {
        const cs = cells
          .map((v, c) => {
            const ref = `${column(c + 1)}${r + 1}`;
            if (v === null) return '';
            if (typeof v === 'number') return `<${x}c r="${ref}"><${x}v>${v}</${x}v></${x}c>`;
            if (opts.sharedStrings) {
              strings.push(v);
              return `<${x}c r="${ref}" t="s"><${x}v>${strings.length - 1}</${x}v></${x}c>`;
            }
            return `<${x}c r="${ref}" t="inlineStr"><${x}is><${x}t>${esc(v)}</${x}t></${x}is></${x}c>`;
          })
          .join('');
        return `<${x}row r="${r + 1}">${cs}</${x}row>`;
      })
      .join('');
    return `<?xml version="1.0" encoding="UTF-8"?><${x}worksheet ${ns}><${x}sheetData>${body}</${x}sheetData></${x}worksheet>`;
  };
  const parts: ZipPart[] = [];
  const rels: string[] = [];
  const tabs: string[] = [];
  sheets.forEach((s, i) => {
    const part = s.part ?? `xl/worksheets/sheet${i + 1}.xml`;
    parts.push({ name: part, data: typeof s.rows === 'string' ? s.rows : sheetXml(s.rows) });
    rels.push(`<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="${target(part)}"/>`);
    tabs.push(`<${x}sheet name="${esc(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`);
  });
  if (opts.sharedStrings) {
    const items = strings.map((s) => `<${x}si><${x}t>${esc(s)}</${x}t></${x}si>`).join('');
    parts.push({
      name: 'xl/sharedStrings.xml',
      data: `<?xml version="1.0" encoding="UTF-8"?><${x}sst ${ns} count="${strings.length}">${items}</${x}sst>`,
    });
    rels.push(
      `<Relationship Id="rIdS" Type="${REL}/sharedStrings" Target="${target('xl/sharedStrings.xml')}"/>`,
    );
  }
  const workbook = `<?xml version="1.0" encoding="UTF-8"?><${x}workbook ${ns} xmlns:r="${REL}"><${x}sheets>${tabs.join('')}</${x}sheets></${x}workbook>`;
  return [
    { name: '[Content_Types].xml', data: '<?xml version="1.0" encoding="UTF-8"?><Types/>' },
    {
      name: '_rels/.rels',
      data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${PKG}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    },
    { name: 'xl/workbook.xml', data: workbook },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="${PKG}">${rels.join('')}</Relationships>`,
    },
    ...parts,
  ];
}
