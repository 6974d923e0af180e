// The real stage implementations behind a run. Kept apart from run.ts so that tests can swap any stage.
import type { Config } from '../config/schema.js';
import { NotImplementedError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { findLateFiles } from './late-files.js';
import type { RunStages } from './run.js';

export interface StageDeps {
  config: Config;
  log: Logger;
}

const notYet = (what: string) => () => Promise.reject(new NotImplementedError(`the ${what} stage is not built yet in this version`));

export function defaultStages(_deps: StageDeps): RunStages {
  return {
    fetch: notYet('fetch'),
    pull: notYet('pull'),
    match: notYet('match'),
    verifyRefunds: () => Promise.resolve(undefined),
    lateFiles: (ctx, provider, range) => findLateFiles(ctx.db, ctx.config, provider, range, ctx.now()),
    report: notYet('report'),
  };
}
