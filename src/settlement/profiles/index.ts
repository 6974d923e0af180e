import type { SettlementConfig } from '../../config/schema.js';
import { payunityProfile, useepayProfile } from './builtin.js';
import { customProfile } from './custom.js';
import { parseDate } from '../datetime.js';
import type { ResolvedProfile } from './types.js';

export type { ResolvedProfile, ColumnRef } from './types.js';
export { payunityProfile, useepayProfile } from './builtin.js';

/** The profile a provider's settlement configuration names: a built-in by name, or a custom object. */
export function resolveProfile(profile: SettlementConfig['profile']): ResolvedProfile {
  if (profile === 'payunity') return payunityProfile;
  if (profile === 'useepay') return useepayProfile;
  return customProfile(profile);
}

/**
 * Whether a remote name is one of the profile's files, and the settlement date it carries ('YYYY-MM-DD'; null when
 * the name has no date group). A name whose date group holds text that is not a date in `fileDateFormat` is one of
 * the profile's files that cannot be placed in time: `refused` says why, and the file is refused whole (parse.ts).
 */
export function fileNameDate(
  profile: ResolvedProfile,
  name: string,
): { matches: boolean; date: string | null; refused?: string } {
  const m = profile.filePattern.exec(name);
  if (!m) return { matches: false, date: null };
  const text = m.groups?.date;
  if (text === undefined || !profile.fileDateFormat) return { matches: true, date: null };
  const date = parseDate(profile.fileDateFormat, text);
  if (date !== null) return { matches: true, date };
  const format = profile.fileDateFormat.source;
  return {
    matches: true,
    date: null,
    refused: `the date "${text}" in the file name ${name} is not a date in the profile's fileDateFormat ${format}`,
  };
}
