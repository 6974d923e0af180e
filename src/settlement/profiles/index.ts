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
 * the name has no date group or its date is not a real one: such a file is fetched once, as "never seen").
 */
export function fileNameDate(
  profile: ResolvedProfile,
  name: string,
): { matches: boolean; date: string | null } {
  const m = profile.filePattern.exec(name);
  if (!m) return { matches: false, date: null };
  const text = m.groups?.date;
  if (text === undefined || !profile.fileDateFormat) return { matches: true, date: null };
  return { matches: true, date: parseDate(profile.fileDateFormat, text) };
}
