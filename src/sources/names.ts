// Remote file names are untrusted (settlement-files.md): one with a path separator, "..", or a control character
// could write outside the archive or forge log lines, so it is refused before it touches the disk.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why the name is unsafe, or null when it may be used as a local file name. */
export function unsafeNameReason(name: string): string | null {
  if (name.length === 0) return 'empty file name';
  if (name.includes('/') || name.includes('\\')) return 'file name contains a path separator';
  if (name.includes('..')) return 'file name contains ".."';
  if (CONTROL.test(name)) return 'file name contains a control character';
  if (Buffer.byteLength(name) > 200) return 'file name is too long';
  return null;
}

/** The name with control characters made visible, for messages and reports. */
export function printableName(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}
