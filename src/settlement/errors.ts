import { PayreconError } from '../shared/errors.js';

/**
 * A settlement file that cannot be read as a whole (bad gzip, wrong encoding, missing header or column, failed
 * trailer). Not a run failure: the file is recorded as rejected with this message and nothing of it is loaded.
 */
export class FileRejectedError extends PayreconError {
  override name = 'FileRejectedError';
}
