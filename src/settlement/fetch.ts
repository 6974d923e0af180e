// The fetch stage: list the provider's source, pick the files for the dates (plus any never seen before: late
// deliveries and corrections), download them with bounded parallelism, and load each in its own transaction.
import type { ProviderName } from '../config/schema.js';
import type { StageContext } from '../jobs/context.js';
import { archiveDirFor, createSource } from '../sources/create.js';
import { downloadToArchive, PART_NAME, type ArchivedFile } from '../sources/archive.js';
import { removeStaleTemps } from '../shared/stale-temps.js';
import { printableName, unsafeNameReason } from '../sources/names.js';
import type { RemoteFile, SettlementSource } from '../sources/types.js';
import type { DateRange } from '../shared/dates.js';
import { ConfigError, FileUnavailableError, RunFailedError } from '../shared/errors.js';
import { loadSettlementFile, type LoadOutcome } from './load.js';
import { fileNameDate, resolveProfile } from './profiles/index.js';
import { replaceLeftFiles } from './left-files.js';
import { seenFiles, seenKey, seenPathKey, seenTimeKey } from './repository.js';
import { Limiter } from '../shared/concurrent.js';

/** Files loading at once: one parsing while the server finishes the one before. */
const LOADS_IN_FLIGHT = 2;

/** What every report of a file left for the next fetch ends with. */
const TAKEN_AGAIN = 'not loaded; the next fetch takes it again';

/** A listed file not loaded, and not recorded: the next fetch takes it again. */
interface NotLoaded {
  status: 'refused';
  loaded: 0;
  rejected: 0;
  reason: string;
  fileId?: undefined;
  supersededFileId?: undefined;
  copyOfFileId?: undefined;
}

interface Loaded {
  w: { file: RemoteFile; date: string | null };
  /** Null when nothing was downloaded (the file could not be read). */
  archived: ArchivedFile | null;
  out: LoadOutcome | NotLoaded;
}

export type FetchedStatus = 'loaded' | 'duplicate' | 'corrected' | 'rejected' | 'refused';

export interface FetchedFile {
  name: string;
  remotePath: string;
  /** Null when nothing was downloaded (a refused name, a file unreadable, too young). */
  sha256: string | null;
  settlementDate: string | null;
  status: FetchedStatus;
  loaded: number;
  rejected: number;
  reason?: string;
  /** settlement_files id (absent for refused names). */
  fileId?: number;
  supersededFileId?: number;
  /** The loaded file this one repeats byte for byte under another name (status 'duplicate'). */
  copyOfFileId?: number;
  /**
   * Set on a file refused for now and not recorded (gone or unreadable, modified too recently, not the size it was
   * listed with): the next fetch takes it again.
   */
  retryNextFetch?: true;
}

export interface FetchSummary {
  provider: ProviderName;
  files: FetchedFile[];
  loadedLines: number;
  rejectedLines: number;
}

export interface FetchDeps {
  source?: SettlementSource;
}

export async function fetchSettlement(
  ctx: StageContext,
  provider: ProviderName,
  range: DateRange,
  deps: FetchDeps = {},
): Promise<FetchSummary> {
  const pcfg = ctx.config.providers[provider];
  if (!pcfg) throw new ConfigError(`providers.${provider}: not configured`);
  const profile = resolveProfile(pcfg.settlement.profile);
  const log = ctx.log.child({ stage: 'fetch', provider });
  const source = deps.source ?? createSource(provider, pcfg.settlement, log);
  const archiveDir = archiveDirFor(ctx.config, provider);
  const summary: FetchSummary = { provider, files: [], loadedLines: 0, rejectedLines: 0 };
  // Ages are counted to when this fetch started, before the listing: what is older then had stopped changing.
  const startedAt = ctx.now();
  // Aborted when the run is interrupted or this stage fails, so no download keeps going behind our back.
  const downloads = new AbortController();
  const onAbort = () => downloads.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const abandoned = await removeStaleTemps(archiveDir, (name) => PART_NAME.test(name));
    if (abandoned.length > 0) log.warn({ archiveDir, files: abandoned }, 'removed downloads left unfinished');
    const listed = await source.list();
    const seen = await seenFiles(
      ctx.db,
      provider,
      listed.map((f) => f.path),
    );
    const wanted: { file: RemoteFile; date: string | null }[] = [];
    for (const file of listed) {
      const unsafe = unsafeNameReason(file.name);
      if (unsafe) {
        log.warn({ file: printableName(file.name), reason: unsafe }, 'remote file refused');
        summary.files.push({
          name: printableName(file.name),
          remotePath: printableName(file.path),
          sha256: null,
          settlementDate: null,
          status: 'refused',
          loaded: 0,
          rejected: 0,
          reason: unsafe,
        });
        continue;
      }
      const { matches, date, refused } = fileNameDate(profile, file.name);
      if (!matches) continue;
      if (refused !== undefined) {
        // Its date cannot be read, so no range would ever fetch it again once recorded: like an unsafe name, it is
        // refused by every fetch, said by every run, and loads once the profile's fileDateFormat reads it.
        log.warn({ file: file.name, reason: refused }, 'remote file refused');
        summary.files.push({
          name: file.name,
          remotePath: file.path,
          sha256: null,
          settlementDate: null,
          status: 'refused',
          loaded: 0,
          rejected: 0,
          reason: refused,
        });
        continue;
      }
      const inRange = date !== null && date >= range.from && date <= range.to;
      // Outside the range, a file is fetched unless its path, size and modification time were recorded before.
      // A file listed as unreadable has no size or time to compare: only its path tells it was loaded before.
      if (!inRange && seen.has(seenKeyOf(file, source.checksListedSize !== false))) continue;
      const later = notYet(file, startedAt, pcfg.settlement.minFileAgeSeconds, provider);
      if (later !== null) {
        // Listed but not to be read now: reported like any file refused, without downloading anything.
        const out = notLoaded(later);
        summary.files.push(reported({ file, date }, null, out));
        log.warn({ file: file.name, status: out.status, reason: later }, 'settlement file processed');
        continue;
      }
      wanted.push({ file, date });
    }
    log.info(
      { listed: listed.length, wanted: wanted.length, source: source.description },
      'settlement files selected',
    );

    const downloadSlots = new Limiter(Math.max(1, source.parallelism));
    const pending = wanted.map((w) =>
      downloadSlots.run(() => downloadToArchive(source, w.file, archiveDir, downloads.signal)),
    );
    // A later download may fail while an earlier file loads; it is reported when its turn comes, not as unhandled.
    for (const p of pending) p.catch(() => undefined);
    // Each file loads in its own transaction on its own connection; the next one starts while the server is still
    // writing the previous one's last rows, indexes and commit (for day-sized files that tail was about half of
    // the server's work, and the parser sat idle through it). Results are taken in file order. As before, a file
    // is started only while the run is not interrupted, and a started file whose download completes is loaded.
    const loadOne = async (w: (typeof wanted)[number], i: number): Promise<Loaded | null> => {
      let archived: ArchivedFile;
      try {
        archived = await pending[i]!;
      } catch (e) {
        // Interrupted: the downloads were aborted with the run.
        if (ctx.signal.aborted) return null;
        // This one file is gone or unreadable, the source is fine: the others load, this one is taken again.
        if (e instanceof FileUnavailableError)
          return { w, archived: null, out: notLoaded(`${e.reason}: ${TAKEN_AGAIN}`) };
        throw e;
      }
      // Not the size it was listed with: the file changed between the listing and the end of its download, most
      // likely because it was still being written (or replaced). Loading it could load half a file; it is left
      // unrecorded, so the next fetch takes it again, as it stands then.
      // A server whose listing does not give the size it serves (sftp.checkListedSize: false) is not asked this.
      if (source.checksListedSize !== false && archived.size !== w.file.size) {
        const reason = `changed while it was being fetched (listed at ${w.file.size} bytes, ${archived.size} read): still being written? Not loaded; the next fetch takes it again`;
        return { w, archived, out: notLoaded(reason) };
      }
      const out = await loadSettlementFile(ctx.pool, {
        provider,
        remotePath: w.file.path,
        fileName: w.file.name,
        size: archived.size,
        sha256: archived.sha256,
        modifiedAt: w.file.modifiedAt,
        settlementDate: w.date,
        localPath: archived.path,
        profile,
        runId: ctx.runId,
        signal: ctx.signal,
      });
      return { w, archived, out };
    };
    const inFlight: Promise<Loaded | null>[] = [];
    let next = 0;
    let done = 0;
    try {
      while (done < wanted.length) {
        while (next < wanted.length && next - done < LOADS_IN_FLIGHT && !ctx.signal.aborted) {
          const load = loadOne(wanted[next]!, next);
          // Its failure is reported when its turn comes (or waited for below), never as unhandled.
          load.catch(() => undefined);
          inFlight.push(load);
          next++;
        }
        // A stop inside a file rolls that file back (load.ts): it is one of those not committed, said below.
        const loaded =
          done < next
            ? await inFlight.shift()!.catch((e: unknown) => {
                if (ctx.signal.aborted) return null;
                throw e;
              })
            : null;
        if (!loaded) {
          // Loads already under way finish (each commits on its own) before the stage reports the interruption.
          const rest = await Promise.allSettled(inFlight.splice(0));
          const committed = done + rest.filter((r) => r.status === 'fulfilled' && r.value !== null).length;
          // Why it stopped (SIGTERM, the run lock lost, the other provider failing) belongs in the run's error.
          const reason: unknown = ctx.signal.reason;
          const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
          throw new RunFailedError(
            `fetch interrupted after ${committed} of ${wanted.length} files of ${provider}${why}`,
            { cause: reason },
          );
        }
        done++;
        const { w, archived, out } = loaded;
        summary.files.push(reported(w, archived, out));
        summary.loadedLines += out.loaded;
        summary.rejectedLines += out.rejected;
        // A file refused whole, or a copy not loaded, needs someone to look: a warning, not routine.
        const unloaded =
          out.status === 'rejected' || out.status === 'refused' || out.copyOfFileId !== undefined;
        log[unloaded ? 'warn' : 'info'](
          {
            file: w.file.name,
            status: out.status,
            loaded: out.loaded,
            rejected: out.rejected,
            reason: out.reason,
          },
          'settlement file processed',
        );
      }
    } finally {
      // A failed file fails the stage, but never with a load still running behind its back.
      await Promise.allSettled(inFlight);
    }
    // What this fetch left is the provider's left set now, for a match without a fetch of its own (`payrecon
    // match`). Only a fetch that went through every listed file replaces it: an interrupted one has thrown above.
    await replaceLeftFiles(
      ctx.db,
      provider,
      summary.files.flatMap((f) =>
        f.retryNextFetch
          ? [
              {
                remotePath: f.remotePath,
                name: f.name,
                settlementDate: f.settlementDate,
                reason: f.reason ?? 'not loaded',
              },
            ]
          : [],
      ),
      startedAt,
      ctx.runId,
    );
    return summary;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    downloads.abort();
    if (!deps.source) await source.close();
  }
}

/**
 * The key a listed file is known by in `seenFiles`. Where the listing's sizes are not trusted (0 or stale), the size
 * recorded is the one served, so a time alone tells the file; without a time, the size is compared (and differing,
 * the file is downloaded and hashed again).
 */
function seenKeyOf(file: RemoteFile, sizesTrusted: boolean): string {
  if (file.unavailable !== undefined) return seenPathKey(file.path);
  if (!sizesTrusted && file.modifiedAt !== null) return seenTimeKey(file.path, file.modifiedAt);
  return seenKey(file);
}

function notLoaded(reason: string): NotLoaded {
  return { status: 'refused', loaded: 0, rejected: 0, reason };
}

/** The fetch's line about one listed file. */
function reported(
  w: { file: RemoteFile; date: string | null },
  archived: ArchivedFile | null,
  out: LoadOutcome | NotLoaded,
): FetchedFile {
  return {
    name: w.file.name,
    remotePath: w.file.path,
    sha256: archived?.sha256 ?? null,
    settlementDate: w.date,
    status: out.status,
    loaded: out.loaded,
    rejected: out.rejected,
    fileId: out.fileId,
    ...(out.reason !== undefined ? { reason: out.reason } : {}),
    ...(out.supersededFileId !== undefined ? { supersededFileId: out.supersededFileId } : {}),
    ...(out.copyOfFileId !== undefined ? { copyOfFileId: out.copyOfFileId } : {}),
    ...(out.fileId === undefined ? { retryNextFetch: true as const } : {}),
  };
}

/**
 * Why a listed file is not to be read by this fetch, or null: the listing says it cannot be read, or it was modified
 * less than `minFileAgeSeconds` before the fetch started (an upload that stalled looks complete: same size twice).
 * A file listed without a time cannot be judged by age and is taken.
 */
function notYet(
  file: RemoteFile,
  startedAt: Date,
  minAgeSeconds: number,
  provider: ProviderName,
): string | null {
  if (file.unavailable !== undefined) return `${file.unavailable}: ${TAKEN_AGAIN}`;
  if (minAgeSeconds <= 0 || file.modifiedAt === null) return null;
  const ageMs = startedAt.getTime() - file.modifiedAt.getTime();
  if (ageMs >= minAgeSeconds * 1000) return null;
  // The server's time against ours: a server clock ahead shows a file modified "in the future", which waits too.
  const when =
    ageMs < 0
      ? `${Math.ceil(-ageMs / 1000)} s after the fetch started (is the server's clock ahead?)`
      : `${Math.floor(ageMs / 1000)} s before the fetch started`;
  return `modified ${when}, under providers.${provider}.settlement.minFileAgeSeconds (${minAgeSeconds}): its upload may still be under way; ${TAKEN_AGAIN}`;
}
