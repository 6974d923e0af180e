// Remote file names are untrusted (settlement-files.md): one with a path separator, "..", or a control character
// could write outside the archive or forge log lines, so it is refused before it touches the disk. So is one with an
// invisible formatting character: a right-to-left override (U+202E) shows "…_20261121\u202Evsc.csv" as
// "…_20261121csv.csv" in a terminal, a log viewer or the workbook, and zero-width characters make two names that look
// the same different files, so the name finance reads is not the file that was loaded.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Format characters (Cf: bidi embeddings, overrides and isolates, marks such as U+200E, zero-width space, joiners,
 * word joiner, BOM, soft hyphen…), line and paragraph separators (U+2028, U+2029), and lone surrogates.
 */
const FORMATTING = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const FORMATTING_ALL = /[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why the name is unsafe, or null when it may be used as a local file name. */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return 'empty file name';
  if (name.includes('/') || name.includes('\\')) return 'file name contains a path separator';
  if (name.includes('..')) return 'file name contains ".."';
  if (CONTROL.test(name)) return 'file name contains a control character';
  const formatting = FORMATTING.exec(name);
  if (formatting) return `file name contains an invisible formatting character (${codePoint(formatting[0])})`;
  if (Buffer.byteLength(name) > 200) return 'file name is too long';
  return null;
}

/** The name with control and formatting characters made visible, for messages and reports. */
export function printableName(name: string): string {
  return JSON.stringify(name)
    .slice(1, -1)
    .replace(FORMATTING_ALL, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}
