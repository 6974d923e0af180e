import { z } from 'zod';

// Values may arrive as text through `${VAR}` interpolation (`port: ${SFTP_PORT:-22}`), so numbers and booleans
// accept their text forms. Every number or boolean key of the configuration goes through these two, custom
// settlement profiles included.

/** A number, or its text form ('22', '-1', '0.5'); `inner` says which numbers are valid. */
export const num = <T extends z.ZodNumber>(inner: T) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v), inner);

/** A boolean, or the text 'true' / 'false'. */
export const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
