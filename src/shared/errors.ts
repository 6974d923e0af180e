// Small named errors that keep their cause. Only the CLI turns them into exit codes and one-line messages.

export class PayreconError extends Error {
  override name = 'PayreconError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad command-line usage: exit 2. */
export class UsageError extends PayreconError {
  override name = 'UsageError';
}

/** Invalid configuration (names the key path or variable): exit 2. */
export class ConfigError extends PayreconError {
  override name = 'ConfigError';
}

/** Another run holds the run lock: exit 3. */
export class LockHeldError extends PayreconError {
  override name = 'LockHeldError';
}

/** The database could not be reached or started, or a statement failed: exit 1. */
export class DatabaseError extends PayreconError {
  override name = 'DatabaseError';
}

/** A settlement source (SFTP server, folder) failed after retries: exit 1. */
export class SourceError extends PayreconError {
  override name = 'SourceError';
}

/**
 * One listed file the source cannot read, while the source itself works: gone since the listing, permission denied,
 * a symbolic link that leads nowhere. The fetch skips that file, loads the others and takes it again next time;
 * `reason` says why without the source's name (the fetch reports it beside the file's name).
 */
export class FileUnavailableError extends SourceError {
  override name = 'FileUnavailableError';
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A gateway API failed after retries, or refused our credentials: exit 1. */
export class GatewayError extends PayreconError {
  override name = 'GatewayError';
  constructor(
    message: string,
    readonly provider: string,
    options?: { cause?: unknown; status?: number; code?: string },
  ) {
    super(message, options);
    this.status = options?.status;
    this.code = options?.code;
  }
  readonly status: number | undefined;
  readonly code: string | undefined;
}

/** A run failed in one of its stages (recorded as failed in `runs`): exit 1. */
export class RunFailedError extends PayreconError {
  override name = 'RunFailedError';
  readonly runId: number | undefined;
  readonly range: { from: string; to: string } | undefined;
  constructor(
    message: string,
    options?: { cause?: unknown; runId?: number; range?: { from: string; to: string } },
  ) {
    super(message, options);
    this.runId = options?.runId;
    this.range = options?.range;
  }
}

/** `e` and its causes, outermost first, as far as they are Errors (a few levels at most: a cause may loop). */
export function causeChain(e: unknown): Error[] {
  const chain: Error[] = [];
  for (let cur = e; cur instanceof Error && chain.length < 8 && !chain.includes(cur); cur = cur.cause)
    chain.push(cur);
  return chain;
}

/** The string `code` of the first error in `e`'s cause chain that has one (ECONNREFUSED, ENOENT, …). */
export function errorCode(e: unknown): string | undefined {
  for (const c of causeChain(e)) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Why a file could not be read, from the error reading it: "not found", or "cannot be read (EACCES)". */
export function unreadableReason(e: unknown): string {
  const code = errorCode(e);
  return code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (e as Error).message})`;
}
