// Progress bars for people at a terminal, and nothing else: cron mail, CI logs and `--json` consumers get clean
// output.
import cliProgress from 'cli-progress';

export interface Progress {
  /** `n` more units done (default 1). */
  tick(n?: number): void;
  /** Sets the units done, and the total when it became known late. */
  update(done: number, total?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Where the bar draws (default: stderr, so stdout stays the command's result). */
  stream?: NodeJS.WriteStream;
  /** Forces the decision; by default `shouldShowProgress` decides. */
  enabled?: boolean;
  /** The command's --json / --quiet: either means no bar. */
  json?: boolean;
  quiet?: boolean;
  /** The environment, for `CI` (callers pass ctx.env: config/ and cli/ are the readers of process.env). */
  env?: Record<string, string | undefined>;
}

/** A bar only on a terminal, never with --json/--quiet or under CI. */
export function shouldShowProgress(opts: ProgressOptions): boolean {
  const stream = opts.stream ?? process.stderr;
  const ci = opts.env?.CI;
  return (
    stream.isTTY === true &&
    !opts.json &&
    !opts.quiet &&
    !(ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0')
  );
}

const NOOP: Progress = { tick: () => undefined, update: () => undefined, stop: () => undefined };

export function createProgress(
  label: string,
  total: number | undefined,
  opts: ProgressOptions = {},
): Progress {
  if (!(opts.enabled ?? shouldShowProgress(opts))) return NOOP;
  const known = total !== undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      // An unknown total still shows how far we got, just without a percentage or an ETA.
      format: known
        ? `${label} [{bar}] {percentage}% {value}/{total} ETA {eta_formatted}`
        : `${label} {value} done, {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 0, 0);
  let done = 0;
  let stopped = false;
  return {
    tick(n = 1) {
      if (stopped) return;
      done += n;
      bar.update(done);
    },
    update(value, newTotal) {
      if (stopped) return;
      done = value;
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

export interface StageProgress {
  /** Shaped for a run's `onStage` hook (jobs/run.ts). */
  onStage(stage: string, provider: string | null, state: 'start' | 'end'): void;
  stop(): void;
}

/** One bar over a run's stages, its label naming the stage in progress ("pull payunity"). */
export function stageProgress(totalStages: number, opts: ProgressOptions = {}): StageProgress {
  if (!(opts.enabled ?? shouldShowProgress(opts))) return { onStage: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      format: 'run [{bar}] {value}/{total} stages  {stage}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalStages, 0, { stage: '' });
  let done = 0;
  let stopped = false;
  return {
    onStage(stage, provider, state) {
      if (stopped) return;
      const label = provider ? `${stage} ${provider}` : stage;
      if (state === 'end') done += 1;
      bar.update(Math.min(done, totalStages), { stage: state === 'start' ? label : `${label} done` });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
