import { CANONICAL_COLUMNS } from '../../config/profile-schema.js';

export type CanonicalColumnName = (typeof CANONICAL_COLUMNS)[number];
export { CANONICAL_COLUMNS };
