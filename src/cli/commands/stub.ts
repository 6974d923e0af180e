import { NotImplementedError } from '../../shared/errors.js';

/** A command of the public contract that is not built yet: says so, exits 2, never pretends to work. */
export function notBuilt(name: string): () => Promise<never> {
  return () =>
    Promise.reject(new NotImplementedError(`\`payrecon ${name}\` is not built yet in this version`));
}
