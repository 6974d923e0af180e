// SFTP source over ssh2-sftp-client. The server's host key is pinned by its SHA-256 fingerprint; a dropped
// connection is re-established and a broken download resumes from the bytes already on disk, up to `retries`
// times (a server that stops answering counts as dropped). Authentication and host-key failures, a missing or
// unreadable folder, and a file gone or unreadable when opened are not retried: they will not fix themselves. The
// last is that one file's problem (FileUnavailableError): the fetch skips it and takes the others.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import type { SftpConfig } from '../config/schema.js';
import {
  causeChain,
  ConfigError,
  errorCode,
  FileUnavailableError,
  SourceError,
  unreadableReason,
} from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { Downloaded, RemoteFile, SettlementSource } from './types.js';
import { appendStream, freshProgress, progressFromDisk, type WriteProgress } from './write-file.js';

/** `SHA256:<base64 without padding>` of a public key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The bytes of a private key file; one that cannot be read is a configuration error (exit 2, never retried), named
 * by its key path (`configKey`.privateKeyPath). `config check` reads it the same way.
 */
export function readPrivateKey(file: string, configKey: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`${configKey}.privateKeyPath: ${file} ${unreadableReason(e)}`, { cause: e });
  }
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) of a request the server refused on a healthy connection. */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/** ssh2-sftp-client's code for a stat that found nothing (SFTP status 2, or 4 as servers answer a link loop). */
const LINK_LEADS_NOWHERE = 'ENOENT';

/** Unanswered keepalives, sent readyTimeoutSeconds / KEEPALIVE_PROBES apart, after which a connection is dead. */
const KEEPALIVE_PROBES = 3;

class FatalSourceError extends SourceError {
  override name = 'SourceError';
}

export interface SftpSourceOptions {
  log?: Logger;
  /** Called with each received chunk's size (tests use it to cut the connection mid-transfer). */
  onData?: (file: RemoteFile, bytes: number) => void;
  /** The configuration key of these settings, for messages that say what to check. */
  configKey?: string;
}

export class SftpSource implements SettlementSource {
  readonly description: string;
  readonly parallelism: number;
  readonly checksListedSize: boolean;
  private client: Promise<SftpClient> | null = null;
  /** Set by close(): no connection is opened after it (a retry still under way would keep the process alive). */
  private closed = false;
  private readonly remoteDir: string;

  constructor(
    private readonly cfg: SftpConfig,
    private readonly opts: SftpSourceOptions = {},
  ) {
    this.remoteDir = cfg.remoteDir.replace(/\/+$/, '') || '/';
    this.description = `sftp://${cfg.username}@${cfg.host}:${cfg.port}${this.remoteDir.startsWith('/') ? '' : '/'}${this.remoteDir}`;
    this.parallelism = cfg.parallelDownloads;
    this.checksListedSize = cfg.checkListedSize;
  }

  async list(): Promise<RemoteFile[]> {
    return this.withRetry('list', async (c) => {
      const entries = await c.list(this.remoteDir).catch((e: unknown) => {
        // SFTP status 2 (no such file): the folder is missing, which retrying will not change.
        const status = (e as { code?: unknown }).code;
        if (status === SFTP_NO_SUCH_FILE || /no such file/i.test((e as Error).message))
          throw new FatalSourceError(
            `${this.description}: the remote folder ${this.remoteDir} does not exist; check ${this.key}.remoteDir`,
          );
        // Not retried either: the server's permissions do not change within seconds.
        if (status === SFTP_PERMISSION_DENIED)
          throw new FatalSourceError(
            `${this.description}: permission denied listing the remote folder ${this.remoteDir}; check ${this.key}.remoteDir, or ask the server's operator to let ${this.cfg.username} read it`,
          );
        throw e;
      });
      const files: RemoteFile[] = [];
      for (const e of entries) {
        const remote = path.posix.join(this.remoteDir, e.name);
        let attrs: { size: number; modifyTime: number } = e;
        if (e.type === 'l') {
          // A symbolic link (some servers publish files this way) is read through: the file it points to is the
          // one downloaded, with that file's size and time. One request per link; plain files need none.
          // A link that leads nowhere (the library reports it, and a loop, as ENOENT) or to a target we may not see
          // is listed as unavailable: the fetch reports it if it wants the file, and the others go ahead. Any other
          // failure, the connection dropping under the request above all, fails the listing and is retried.
          const target = await c.stat(remote).catch((err: unknown) => {
            const code = (err as { code?: unknown }).code;
            if (code === LINK_LEADS_NOWHERE) return 'a symbolic link that leads nowhere';
            if (code === SFTP_PERMISSION_DENIED)
              return `a symbolic link to a file ${this.cfg.username} may not see (permission denied)`;
            throw err;
          });
          if (typeof target === 'string') {
            files.push({ name: e.name, path: remote, size: 0, modifiedAt: null, unavailable: target });
            continue;
          }
          if (!target.isFile) continue; // a folder, like the folders listed beside the files
          attrs = target;
        } else if (e.type !== '-') continue;
        files.push({
          name: e.name,
          path: remote,
          size: attrs.size,
          // Whole seconds; none when the server's attributes leave the time out.
          modifiedAt: Number.isFinite(attrs.modifyTime) ? new Date(attrs.modifyTime) : null,
        });
      }
      return files.sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async download(file: RemoteFile, destPath: string, signal: AbortSignal): Promise<Downloaded> {
    let progress: WriteProgress = freshProgress();
    let first = true;
    await this.withRetry(
      `download ${file.path}`,
      async (c) => {
        if (!first) progress = await progressFromDisk(destPath);
        first = false;
        // The file changed under us: start over. (Without trusted listed sizes, a resume cannot tell.)
        if (this.checksListedSize && progress.bytes > file.size) progress = freshProgress();
        const stream = c.createReadStream(file.path, { start: progress.bytes }) as Readable;
        // ssh2 can report the dead channel again after our loop has stopped listening; that late echo is not news.
        stream.on('error', () => undefined);
        await this.opened(stream, file);
        await appendStream(
          stream,
          destPath,
          progress,
          signal,
          this.opts.onData && ((n) => this.opts.onData?.(file, n)),
        );
        // ssh2 may end a stream quietly when the connection goes: a short file is a dropped transfer, not success.
        // A server whose listing does not give the size it serves leaves nothing to compare with.
        if (this.checksListedSize && progress.bytes < file.size)
          throw new SourceError(`transfer ended at ${progress.bytes} of ${file.size} bytes`);
      },
      signal,
    );
    return { size: progress.bytes, sha256: progress.hash.digest('hex') };
  }

  /**
   * Waits until the remote file is open. ssh2 reports a failed open as an 'error' and then destroys the stream
   * without it, so a loop that starts reading later only sees "Premature close". A file that is gone or unreadable
   * will not change by retrying at once, and says so; the connection itself is fine and stays in use.
   */
  private opened(stream: Readable, file: RemoteFile): Promise<void> {
    return new Promise((resolve, reject) => {
      const onReady = () => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        stream.off('ready', onReady);
        const status = (e as { code?: unknown }).code;
        if (status === SFTP_NO_SUCH_FILE)
          reject(
            new FileUnavailableError(
              `${this.description}: ${file.path} was listed but is gone (removed or renamed on the server since); run the fetch again`,
              'listed, but gone when downloaded (removed or renamed on the server since)',
              { cause: e },
            ),
          );
        else if (status === SFTP_PERMISSION_DENIED)
          reject(
            new FileUnavailableError(
              `${this.description}: permission denied reading ${file.path}; ask the server's operator to let ${this.cfg.username} read it`,
              `permission denied reading it; ask the server's operator to let ${this.cfg.username} read it`,
              { cause: e },
            ),
          );
        else reject(e);
      };
      stream.once('ready', onReady);
      stream.once('error', onError);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = null;
    if (c) await c.then((x) => x.end()).catch(() => undefined);
  }

  private async withRetry<T>(
    what: string,
    fn: (c: SftpClient) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      // Aborted during the pause before a retry: do not open a connection that nobody would close.
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      let conn: Promise<SftpClient> | null = null;
      try {
        conn = this.connection();
        return await fn(await conn);
      } catch (e) {
        if (e instanceof FatalSourceError || e instanceof FileUnavailableError || e instanceof ConfigError)
          throw e;
        if (signal?.aborted) throw e;
        // Drop the connection this attempt used (others may already have replaced it) so the next one reconnects.
        if (conn && this.client === conn) {
          this.client = null;
          void conn.then((x) => x.end()).catch(() => undefined);
        }
        if (attempt >= this.cfg.retries) {
          const hint = unreachable(e)
            ? `; check ${this.key}.host and ${this.key}.port, and that this machine can reach them`
            : '';
          throw new SourceError(
            `${this.description}: ${what} failed after ${attempt + 1} attempt(s): ${(e as Error).message}${hint}`,
            { cause: e },
          );
        }
        const delay = Math.min(200 * 2 ** attempt, 5000);
        this.opts.log?.warn(
          { source: this.description, what, attempt: attempt + 1, err: (e as Error).message },
          'sftp operation failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The warning that the host key is not checked is given once per source, not per reconnection. */
  private warnedUnchecked = false;

  private get key(): string {
    return this.opts.configKey ?? 'settlement.sftp';
  }

  private connection(): Promise<SftpClient> {
    if (this.closed) return Promise.reject(new FatalSourceError(`${this.description}: the source is closed`));
    this.client ??= this.connect();
    return this.client;
  }

  private async connect(): Promise<SftpClient> {
    const cfg = this.cfg;
    // Library default listeners print to the console; ours stay silent (errors surface through the promises).
    const quiet = () => undefined;
    const client = new SftpClient('payrecon', { error: quiet, end: quiet, close: quiet });
    let seen: string | null = null;
    const pinned = cfg.hostKeySha256?.replace(/=+$/, '');
    const privateKey =
      cfg.privateKeyPath === undefined ? undefined : readPrivateKey(cfg.privateKeyPath, this.key);
    try {
      await client.connect({
        host: cfg.host,
        port: cfg.port,
        username: cfg.username,
        password: cfg.password,
        privateKey,
        passphrase: cfg.passphrase,
        readyTimeout: cfg.readyTimeoutSeconds * 1000,
        // A server that stops answering after the handshake (hung, or a firewall dropping the flow) would otherwise
        // leave a read waiting forever: unanswered keepalives for about readyTimeoutSeconds end the connection, and
        // the operation is retried like any dropped connection.
        keepaliveInterval: Math.max(250, Math.round((cfg.readyTimeoutSeconds * 1000) / KEEPALIVE_PROBES)),
        keepaliveCountMax: KEEPALIVE_PROBES,
        hostVerifier: (key: Buffer) => {
          seen = sshFingerprint(key);
          return cfg.insecureSkipHostKeyCheck || seen === pinned;
        },
      });
    } catch (e) {
      await client.end().catch(() => undefined);
      const msg = (e as Error).message;
      if (seen !== null && !cfg.insecureSkipHostKeyCheck && seen !== pinned) {
        // Complete as it stands: the library's "Host denied (verification failed)" would only repeat it.
        throw new FatalSourceError(
          `host key of ${cfg.host}:${cfg.port} is ${seen as string} but the configuration pins ${cfg.hostKeySha256 ?? '(none)'}; refusing to connect (check the server's fingerprint with its operator, then update ${this.key}.hostKeySha256)`,
        );
      }
      if (/authentication/i.test(msg)) {
        throw new FatalSourceError(
          `${this.description}: authentication failed (${msg}); check username, password or privateKeyPath`,
          { cause: e },
        );
      }
      // The key file was read above: what is left is a key the library cannot parse or decrypt.
      if (/privateKey|passphrase|Cannot parse/i.test(msg)) {
        throw new FatalSourceError(
          `${this.description}: cannot use the private key ${cfg.privateKeyPath ?? ''}: ${msg}; check ${this.key}.privateKeyPath and ${this.key}.passphrase`,
          { cause: e },
        );
      }
      throw e;
    }
    if (cfg.insecureSkipHostKeyCheck && !this.warnedUnchecked) {
      this.warnedUnchecked = true;
      this.opts.log?.warn(
        { host: cfg.host, port: cfg.port, hostKey: seen },
        `host key of ${cfg.host}:${cfg.port} not checked (insecureSkipHostKeyCheck): anyone between here and the server could pose as it; once its operator confirms ${seen ?? 'its fingerprint'}, set it as ${this.key}.hostKeySha256`,
      );
    }
    return client;
  }
}

/** A connection that never got through: refused, unresolvable, unreachable or timed out before the handshake. */
function unreachable(e: unknown): boolean {
  const code = errorCode(e);
  if (code !== undefined && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code))
    return true;
  // ssh2-sftp-client words some of these into its own messages, without a code.
  return causeChain(e).some((c) =>
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|Timed out while waiting for handshake/.test(c.message),
  );
}
