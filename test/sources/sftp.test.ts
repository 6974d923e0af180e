// SFTP against a real OpenSSH sshd on loopback: key, encrypted key and password logins, host key pinning,
// a connection killed mid-download, and untrusted remote names.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SftpConfig } from '../../src/config/schema.js';
import { fetchSettlement } from '../../src/settlement/fetch.js';
import { oneLine } from '../../src/cli/exit-codes.js';
import { ConfigError, SourceError } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/log.js';
import { serverPort } from '../../src/shared/free-port.js';
import { SftpSource, sshFingerprint } from '../../src/sources/sftp.js';
import { testDbPerSuite } from '../helpers/db.js';
import { sshdUnavailable, startSshd, type SshdServer } from '../helpers/sshd.js';
import { payunityFile, payunityLine, stageContext, testConfig, writeFile } from '../settlement/builders.js';

const unavailable = sshdUnavailable();
if (unavailable) {
  const msg = `SFTP TESTS SKIPPED: ${unavailable}. Set PAYRECON_REQUIRE_SSHD=1 to make this a failure.`;
  if (process.env.PAYRECON_REQUIRE_SSHD === '1') throw new Error(msg.replace('SKIPPED', 'CANNOT RUN'));
  process.stderr.write(`\n*** ${msg} ***\n\n`);
}

describe.skipIf(unavailable !== null)('SFTP source against a real sshd', () => {
  const db = testDbPerSuite();
  let sshd: SshdServer;
  let tmp: string;
  beforeAll(async () => {
    sshd = await startSshd();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-sftp-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const sftpCfg = (over: Partial<SftpConfig> = {}): SftpConfig => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    hostKeySha256: sshd.hostKeySha256,
    insecureSkipHostKeyCheck: false,
    remoteDir: sshd.dataDir,
    readyTimeoutSeconds: 10,
    parallelDownloads: 2,
    retries: 3,
    checkListedSize: true,
    ...over,
  });

  function config(name: string, sftp: Partial<SftpConfig> = {}) {
    const archive = path.join(tmp, name, 'archive');
    const cfg = testConfig(path.join(tmp, name), {
      payunity: { source: 'sftp', archiveDir: archive, sftp: { ...sftpCfg(), ...sftp } },
    });
    return { archive, cfg, ctx: stageContext(db, cfg) };
  }

  /**
   * A folder `dirName` of the server holding `name` as a symbolic link to a one-line PayUnity file (transaction `id`)
   * published in a folder of its own, as some servers publish files. Returns the folder.
   */
  function linkedFile(dirName: string, name: string, id: string): string {
    const dir = path.posix.join(sshd.dataDir, dirName);
    const real = writeFile(
      path.posix.join(sshd.dataDir, `published-${dirName}`),
      name,
      payunityFile([payunityLine({ id, amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    mkdirSync(dir);
    symlinkSync(real, path.join(dir, name));
    return dir;
  }

  /** A PayUnity file of 60,000 lines (a few MB: long enough to interrupt) in the server's folder. */
  function largeFile(name: string, idPrefix: string, money: { amount: string; fee: string; net: string }) {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(payunityLine({ id: `${idPrefix}${i}`, ...money }));
    writeFile(sshd.dataDir, name, payunityFile(lines));
  }

  it('logs in with a key, pins the host key, downloads and loads through the fetch stage', async () => {
    writeFile(
      sshd.dataDir,
      'PAYUNITY_SETTLEMENT_K1_20261121.csv',
      payunityFile([payunityLine({ id: 'k1', amount: '12.34', fee: '0.34', net: '12.00' })]),
    );
    writeFile(
      sshd.dataDir,
      'PAYUNITY_SETTLEMENT_K1_20261122.csv.gz',
      payunityFile([
        payunityLine({ id: 'k2', date: '2026-11-22', amount: '1.00', fee: '0.00', net: '1.00' }),
      ]),
      { gzip: true },
    );
    const s = config('key');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-22' });
    const mine = out.files.filter((f) => f.name.includes('_K1_'));
    expect(mine.map((f) => [f.name, f.status, f.loaded])).toEqual([
      ['PAYUNITY_SETTLEMENT_K1_20261121.csv', 'loaded', 1],
      ['PAYUNITY_SETTLEMENT_K1_20261122.csv.gz', 'loaded', 1],
    ]);
    expect(mine[0]!.remotePath).toBe(path.posix.join(sshd.dataDir, 'PAYUNITY_SETTLEMENT_K1_20261121.csv'));
    const local = readFileSync(path.join(sshd.dataDir, 'PAYUNITY_SETTLEMENT_K1_20261121.csv'));
    expect(mine[0]!.sha256).toBe(createHash('sha256').update(local).digest('hex'));
    const line = await db.db
      .selectFrom('settlement_lines')
      .selectAll()
      .where('transaction_id', '=', 'k1')
      .executeTakeFirstOrThrow();
    expect([line.gross_minor, line.fee_minor, line.net_minor]).toEqual([1234, 34, 1200]);
  });

  it('logs in with an encrypted key and its passphrase', async () => {
    const src = new SftpSource(
      sftpCfg({ privateKeyPath: sshd.encryptedKeyPath, passphrase: sshd.passphrase }),
    );
    try {
      expect((await src.list()).map((f) => f.name)).toContain('PAYUNITY_SETTLEMENT_K1_20261121.csv');
    } finally {
      await src.close();
    }
  });

  it('logs in with a password', async (t) => {
    if (sshd.password === null) t.skip(); // password login needs a system user, which needs root
    const src = new SftpSource(sftpCfg({ privateKeyPath: undefined, password: sshd.password! }));
    try {
      expect((await src.list()).length).toBeGreaterThan(0);
    } finally {
      await src.close();
    }
    const wrong = new SftpSource(
      sftpCfg({ privateKeyPath: undefined, password: 'not-the-password', retries: 5 }),
    );
    await expect(wrong.list()).rejects.toThrow(/authentication failed/);
    await wrong.close();
  });

  it('refuses a server whose host key does not match the pinned fingerprint, naming host and both fingerprints', async () => {
    const other = sshFingerprint(Buffer.from('some other key'));
    const src = new SftpSource(sftpCfg({ hostKeySha256: other, retries: 5 }));
    const started = Date.now();
    const err = await src.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${sshd.host}:${sshd.port}`);
    expect(msg).toContain(sshd.hostKeySha256);
    expect(msg).toContain(other);
    expect(Date.now() - started).toBeLessThan(5000); // not retried five times with back-off
    await src.close();
    // The escape hatch connects whatever the key, and says so once, with the key to pin.
    const warnings: string[] = [];
    const insecure = new SftpSource(sftpCfg({ hostKeySha256: undefined, insecureSkipHostKeyCheck: true }), {
      log: { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger,
    });
    expect((await insecure.list()).length).toBeGreaterThan(0);
    expect((await insecure.list()).length).toBeGreaterThan(0);
    await insecure.close();
    expect(warnings).toEqual([
      `host key of ${sshd.host}:${sshd.port} not checked (insecureSkipHostKeyCheck): anyone between here and the server could pose as it; once its operator confirms ${sshd.hostKeySha256.replace(/=+$/, '')}, set it as settlement.sftp.hostKeySha256`,
    ]);
  });

  it('reconnects and resumes when the connection drops mid-download, loading the file once and whole', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 120_000; i++)
      lines.push(
        payunityLine({
          id: `d${i}x${'0'.repeat(20)}`,
          order: `ORD-DROP-${i}`,
          amount: '10.00',
          fee: '0.30',
          net: '9.70',
        }),
      );
    const name = 'PAYUNITY_SETTLEMENT_D1_20261121.csv';
    writeFile(sshd.dataDir, name, payunityFile(lines));
    const size = readFileSync(path.join(sshd.dataDir, name)).length;
    const s = config('drop');
    let received = 0;
    let kills = 0;
    const source = new SftpSource(s.cfg.providers.payunity!.settlement.sftp!, {
      onData: (f, bytes) => {
        if (f.name !== name) return;
        received += bytes;
        if (kills === 0 && received > size / 4) kills += sshd.killSessions() > 0 ? 1 : 0;
      },
    });
    try {
      const out = await fetchSettlement(
        s.ctx,
        'payunity',
        { from: '2026-11-21', to: '2026-11-21' },
        { source },
      );
      expect(kills).toBe(1);
      const f = out.files.find((x) => x.name === name)!;
      expect(f, f.reason).toMatchObject({ status: 'loaded', loaded: 120_000, rejected: 0 });
      expect(f.sha256).toBe(
        createHash('sha256')
          .update(readFileSync(path.join(sshd.dataDir, name)))
          .digest('hex'),
      );
      expect(readdirSync(s.archive).filter((n) => n.endsWith('.part'))).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('gives up on a server that stops answering mid-download, reconnects and resumes', async () => {
    const name = 'PAYUNITY_SETTLEMENT_H1_20261121.csv';
    largeFile(name, 'h', { amount: '10.00', fee: '0.30', net: '9.70' });
    const bytes = readFileSync(path.join(sshd.dataDir, name));
    let received = 0;
    let frozen = 0;
    const source = new SftpSource(sftpCfg({ readyTimeoutSeconds: 1 }), {
      onData: (f, n) => {
        received += n;
        if (frozen === 0 && received > bytes.length / 4) frozen = sshd.freezeSessions();
      },
    });
    try {
      const got = await source.download(
        { name, path: `${sshd.dataDir}/${name}`, size: bytes.length, modifiedAt: null },
        path.join(tmp, 'hung.part'),
        new AbortController().signal,
      );
      expect(frozen).toBeGreaterThan(0);
      expect(got.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      await source.close();
      sshd.killSessions(); // the frozen ones too
    }
  }, 30_000);

  it('reads a settlement file published as a symbolic link, and reports one it cannot follow without failing the fetch', async () => {
    const dir = linkedFile('links', 'PAYUNITY_SETTLEMENT_L1_20261121.csv', 'l1');
    const dangling = 'PAYUNITY_SETTLEMENT_L2_20261121.csv';
    const hidden = 'PAYUNITY_SETTLEMENT_L4_20261121.csv';
    symlinkSync(path.join(dir, 'missing'), path.join(dir, dangling));
    symlinkSync(sshd.dataDir, path.join(dir, 'PAYUNITY_SETTLEMENT_L3_20261121.csv'));
    // A link into a folder the SFTP user may not enter (as root, the tests log in as a user of their own).
    const closed = path.posix.join(sshd.dataDir, 'links-closed');
    const hiddenTarget = writeFile(
      closed,
      hidden,
      payunityFile([payunityLine({ id: 'l4', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    chmodSync(closed, 0o700);
    symlinkSync(hiddenTarget, path.join(dir, hidden));
    const s = config('links', { remoteDir: dir });
    const day = { from: '2026-11-21', to: '2026-11-21' };
    const out = await fetchSettlement(s.ctx, 'payunity', day);
    const taken = ': not loaded; the next fetch takes it again';
    // Reported as the listing finds them, before the downloads.
    expect(out.files).toMatchObject([
      {
        name: dangling,
        status: 'refused',
        reason: `a symbolic link that leads nowhere${taken}`,
        retryNextFetch: true,
      },
      ...(sshd.password !== null // a user other than the owner of the files
        ? [
            {
              name: hidden,
              status: 'refused',
              reason: `a symbolic link to a file ${sshd.username} may not see (permission denied)${taken}`,
              retryNextFetch: true,
            },
          ]
        : []),
      { name: 'PAYUNITY_SETTLEMENT_L1_20261121.csv', status: 'loaded', loaded: 1 },
      ...(sshd.password !== null ? [] : [{ name: hidden, status: 'loaded' }]),
    ]);
    const recorded = await db.db
      .selectFrom('settlement_files')
      .select('file_name')
      .where('remote_path', 'like', `${dir}/%`)
      .execute();
    expect(recorded.map((r) => r.file_name)).toEqual(['PAYUNITY_SETTLEMENT_L1_20261121.csv']);
    // Once the link leads somewhere, and the folder opens, the next fetch loads them.
    writeFile(
      dir,
      'missing',
      payunityFile([payunityLine({ id: 'l2', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    chmodSync(closed, 0o755);
    const again = await fetchSettlement(s.ctx, 'payunity', day);
    expect(again.files.filter((f) => f.status === 'loaded').map((f) => f.name)).toEqual([dangling, hidden]);
  });

  it('retries a listing whose look through a symbolic link fails for another reason than a missing target', async () => {
    const dir = linkedFile('links-retry', 'PAYUNITY_SETTLEMENT_R1_20261121.csv', 'r1');
    // The connection drops under the first stat, as ssh2 reports a request it will get no answer to.
    const stat = vi
      .spyOn(SftpClient.prototype, 'stat')
      .mockRejectedValueOnce(
        Object.assign(new Error('_xstat: No response from server'), { code: 'ERR_GENERIC_CLIENT' }),
      );
    const warnings: unknown[] = [];
    const source = new SftpSource(sftpCfg({ remoteDir: dir }), {
      log: { warn: (o: unknown) => warnings.push(o) } as unknown as Logger,
    });
    try {
      expect((await source.list()).map((f) => f.name)).toEqual(['PAYUNITY_SETTLEMENT_R1_20261121.csv']);
      expect(stat).toHaveBeenCalledTimes(2);
      expect(warnings).toMatchObject([{ what: 'list', attempt: 1 }]);
    } finally {
      stat.mockRestore();
      await source.close();
    }
  });

  it('says what to check: a missing remote folder, an unreachable server, a key file that is not there', async () => {
    const key = 'providers.payunity.settlement.sftp';
    const missing = new SftpSource(sftpCfg({ remoteDir: `${sshd.dataDir}/nothere`, retries: 3 }), {
      configKey: key,
    });
    const started = Date.now();
    const noDir = await missing.list().catch((e: unknown) => e);
    await missing.close();
    expect(oneLine(noDir)).toBe(
      `${missing.description}: the remote folder ${sshd.dataDir}/nothere does not exist; check ${key}.remoteDir`,
    );
    expect(Date.now() - started).toBeLessThan(3000); // not retried: it will not appear by waiting
    // Nothing listens on this port (below the ephemeral range, free right now).
    const port = await serverPort();
    const down = new SftpSource(sftpCfg({ port, retries: 1 }), { configKey: key });
    const refused = await down.list().catch((e: unknown) => e);
    await down.close();
    expect(oneLine(refused)).toMatch(
      new RegExp(
        `list failed after 2 attempt\\(s\\): .*ECONNREFUSED.*; check ${key}\\.host and ${key}\\.port, and that this machine can reach them$`,
      ),
    );
    const closedDir = path.posix.join(sshd.dataDir, 'closed');
    mkdirSync(closedDir, { mode: 0 });
    const denied = new SftpSource(sftpCfg({ remoteDir: closedDir, retries: 3 }), { configKey: key });
    const deniedStarted = Date.now();
    const deniedErr = await denied.list().catch((e: unknown) => e);
    await denied.close();
    expect(oneLine(deniedErr)).toBe(
      `${denied.description}: permission denied listing the remote folder ${closedDir}; check ${key}.remoteDir, or ask the server's operator to let ${sshd.username} read it`,
    );
    expect(Date.now() - deniedStarted).toBeLessThan(3000);
    const noKey = new SftpSource(sftpCfg({ privateKeyPath: path.join(tmp, 'no-such-key') }), {
      configKey: key,
    });
    const keyErr = await noKey.list().catch((e: unknown) => e);
    await noKey.close();
    expect(keyErr).toBeInstanceOf(ConfigError); // exit 2, as config check says
    expect(oneLine(keyErr)).toBe(`${key}.privateKeyPath: ${path.join(tmp, 'no-such-key')} not found`);
  });

  it('gives up after its retries with a SourceError, leaving no partial file and nothing loaded', async () => {
    const name = 'PAYUNITY_SETTLEMENT_N1_20261121.csv';
    largeFile(name, 'n', { amount: '1.00', fee: '0.00', net: '1.00' });
    const s = config('noretry', { retries: 0 });
    const source = new SftpSource(s.cfg.providers.payunity!.settlement.sftp!, {
      onData: (f) => {
        if (f.name === name) sshd.killSessions();
      },
    });
    try {
      const err = await fetchSettlement(
        s.ctx,
        'payunity',
        { from: '2026-11-21', to: '2026-11-21' },
        { source },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as Error).message).toMatch(/failed after 1 attempt/);
    } finally {
      await source.close();
    }
    const rows = await db.db
      .selectFrom('settlement_files')
      .select('id')
      .where('file_name', '=', name)
      .execute();
    expect(rows).toEqual([]);
    expect(existsSync(s.archive) ? readdirSync(s.archive).filter((n) => n.includes('_N1_')) : []).toEqual([]);
  });

  it('opens no connection for a retry after the download was aborted and the source closed', async () => {
    const name = 'PAYUNITY_SETTLEMENT_A1_20261121.csv';
    writeFile(
      sshd.dataDir,
      name,
      payunityFile([payunityLine({ id: 'a1', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    const downloads = new AbortController();
    let source: SftpSource | null = null;
    source = new SftpSource(sftpCfg({ retries: 3 }), {
      // The first attempt loses its connection ...
      onData: () => void sshd.killSessions(),
      log: {
        // ... and while it waits to retry, the stage gives up and closes its source.
        warn: () => {
          downloads.abort(new Error('stage failed'));
          void source?.close();
        },
      } as unknown as Logger,
    });
    const file = { name, path: `${sshd.dataDir}/${name}`, size: 1_000_000, modifiedAt: null };
    const err = await source
      .download(file, path.join(tmp, 'aborted.part'), downloads.signal)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('stage failed');
    // A retry that wrongly went ahead would connect within this time.
    await new Promise((r) => setTimeout(r, 500));
    // A connection left open keeps the process alive after the command has failed. The killed sessions' processes
    // may take a moment to be reaped on a busy machine: the count must reach 0, and stay there.
    for (let waited = 0; sshd.sessionProcesses() > 0 && waited < 10_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    expect(sshd.sessionProcesses()).toBe(0);
  });

  it('skips a file that is unreadable or gone when downloaded, loads the others, and takes it next time', async () => {
    const dir = path.posix.join(sshd.dataDir, 'unreadable');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++)
      lines.push(
        payunityLine({ id: `u${i}`, order: `ORD-U-${i}`, amount: '1.00', fee: '0.00', net: '1.00' }),
      );
    const ok = 'PAYUNITY_SETTLEMENT_U1_20261121.csv';
    const denied = 'PAYUNITY_SETTLEMENT_U2_20261121.csv';
    const gone = 'PAYUNITY_SETTLEMENT_U3_20261121.csv';
    writeFile(dir, ok, payunityFile(lines));
    const deniedPath = writeFile(
      dir,
      denied,
      payunityFile([payunityLine({ id: 'u-denied', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    chmodSync(deniedPath, 0);
    const goneBytes = payunityFile([
      payunityLine({ id: 'u-gone', amount: '1.00', fee: '0.00', net: '1.00' }),
    ]);
    writeFile(dir, gone, goneBytes);
    const s = config('unreadable', { remoteDir: dir, parallelDownloads: 2, retries: 3 });
    const sftp = new SftpSource(s.cfg.providers.payunity!.settlement.sftp!);
    // The real server's listing; the sender removes one file right after it.
    const source = {
      description: sftp.description,
      parallelism: sftp.parallelism,
      close: () => sftp.close(),
      download: sftp.download.bind(sftp),
      list: async () => {
        const listed = await sftp.list();
        rmSync(path.join(dir, gone));
        return listed;
      },
    };
    const day = { from: '2026-11-21', to: '2026-11-21' };
    const started = Date.now();
    try {
      const out = await fetchSettlement(s.ctx, 'payunity', day, { source });
      const taken = ': not loaded; the next fetch takes it again';
      expect(out.files).toMatchObject([
        { name: ok, status: 'loaded', loaded: 20_000 },
        ...(sshd.password !== null // a user other than the owner of the files
          ? [
              {
                name: denied,
                status: 'refused',
                sha256: null,
                loaded: 0,
                retryNextFetch: true,
                reason: `permission denied reading it; ask the server's operator to let ${sshd.username} read it${taken}`,
              },
            ]
          : [{ name: denied, status: 'loaded' }]),
        {
          name: gone,
          status: 'refused',
          sha256: null,
          retryNextFetch: true,
          reason: `listed, but gone when downloaded (removed or renamed on the server since)${taken}`,
        },
      ]);
      expect(Date.now() - started).toBeLessThan(5000); // neither was retried with back-off
    } finally {
      await source.close();
    }
    // The file downloading beside them on the same connection was not cut off: it loaded, and only once; the
    // two others are not recorded.
    const rows = await db.db
      .selectFrom('settlement_files')
      .select(['file_name', 'status', 'loaded_count'])
      .where('remote_path', 'like', `${dir}/%`)
      .execute();
    expect(rows.filter((r) => r.file_name !== denied)).toEqual([
      { file_name: ok, status: 'loaded', loaded_count: 20_000 },
    ]);

    // Readable again, and back: the next fetch takes both.
    chmodSync(deniedPath, 0o644);
    writeFile(dir, gone, goneBytes);
    const again = await fetchSettlement(s.ctx, 'payunity', day);
    expect(again.files.map((f) => [f.name, f.status])).toEqual([
      [ok, 'duplicate'],
      [denied, sshd.password !== null ? 'loaded' : 'duplicate'],
      [gone, 'loaded'],
    ]);

    const direct = new SftpSource(sftpCfg({ retries: 3 }));
    const err = await direct
      .download(
        { name: 'gone.csv', path: `${dir}/gone.csv`, size: 10, modifiedAt: null },
        path.join(tmp, 'gone.part'),
        new AbortController().signal,
      )
      .catch((e: unknown) => e)
      .finally(() => direct.close());
    expect(err).toBeInstanceOf(SourceError);
    expect(oneLine(err)).toMatch(
      new RegExp(
        `: ${dir}/gone.csv was listed but is gone \\(removed or renamed on the server since\\); run the fetch again`,
      ),
    );
  });

  it('still fails the fetch, in one line, when the folder itself cannot be read', async () => {
    const dir = path.posix.join(sshd.dataDir, 'closed-folder');
    writeFile(dir, 'PAYUNITY_SETTLEMENT_C1_20261121.csv', payunityFile([]));
    chmodSync(dir, 0);
    const s = config('closed-folder', { remoteDir: dir });
    const err = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' }).catch(
      (e: unknown) => e,
    );
    chmodSync(dir, 0o755);
    if (sshd.password === null) return; // the owner of the folder reads it whatever its mode
    expect(err).toBeInstanceOf(SourceError);
    expect(oneLine(err)).toMatch(/: permission denied listing the remote folder .*closed-folder; check /);
  });

  it("leaves a file modified less than minFileAgeSeconds before the fetch, by the server's time", async () => {
    const dir = path.posix.join(sshd.dataDir, 'young');
    const name = 'PAYUNITY_SETTLEMENT_Y1_20261121.csv';
    const file = writeFile(
      dir,
      name,
      payunityFile([payunityLine({ id: 'y1', amount: '1.00', fee: '0.00', net: '1.00' })]),
    );
    // The test clock starts the fetch at 08:00:00; the upload's last write was 10 s before.
    utimesSync(file, new Date('2026-11-22T07:59:50Z'), new Date('2026-11-22T07:59:50Z'));
    const archive = path.join(tmp, 'young', 'archive');
    const cfg = testConfig(path.join(tmp, 'young'), {
      payunity: {
        source: 'sftp',
        archiveDir: archive,
        minFileAgeSeconds: 300,
        sftp: sftpCfg({ remoteDir: dir }),
      },
    });
    const day = { from: '2026-11-21', to: '2026-11-21' };
    const out = await fetchSettlement(stageContext(db, cfg), 'payunity', day);
    expect(out.files).toMatchObject([
      {
        name,
        status: 'refused',
        retryNextFetch: true,
        reason:
          'modified 10 s before the fetch started, under providers.payunity.settlement.minFileAgeSeconds (300): its upload may still be under way; not loaded; the next fetch takes it again',
      },
    ]);
    expect(existsSync(archive) ? readdirSync(archive) : []).toEqual([]);
    // Old enough by the next fetch: loaded.
    utimesSync(file, new Date('2026-11-22T07:50:00Z'), new Date('2026-11-22T07:50:00Z'));
    expect((await fetchSettlement(stageContext(db, cfg), 'payunity', day)).files).toMatchObject([
      { name, status: 'loaded', loaded: 1 },
    ]);
  });

  it('loads files from a server that lists other sizes than it serves when checkListedSize is false', async () => {
    const dir = path.posix.join(sshd.dataDir, 'virtual');
    const small = 'PAYUNITY_SETTLEMENT_Z1_20261121.csv';
    const large = 'PAYUNITY_SETTLEMENT_Z2_20261121.csv';
    const lines = (id: string) =>
      payunityFile([payunityLine({ id, amount: '1.00', fee: '0.00', net: '1.00' })]);
    writeFile(dir, small, lines('z1'));
    writeFile(dir, large, lines('z2'));
    const day = { from: '2026-11-21', to: '2026-11-21' };
    // A virtual server: one file listed at 0 bytes, the other at a stale size larger than it serves.
    const virtual = (sftp: SftpSource) => ({
      description: sftp.description,
      parallelism: sftp.parallelism,
      checksListedSize: sftp.checksListedSize,
      close: () => sftp.close(),
      download: sftp.download.bind(sftp),
      list: async () =>
        (await sftp.list()).map((f) => ({ ...f, size: f.name === small ? 0 : f.size + 4096 })),
    });
    const checked = config('virtual-checked', { remoteDir: dir, retries: 0 });
    const strict = virtual(new SftpSource(checked.cfg.providers.payunity!.settlement.sftp!));
    try {
      // By default the listing is the check: the 0-byte one is refused, the stale one cannot be downloaded whole.
      const err = await fetchSettlement(checked.ctx, 'payunity', day, { source: strict }).catch(
        (e: unknown) => e,
      );
      expect(oneLine(err)).toMatch(/transfer ended at \d+ of \d+ bytes/);
    } finally {
      await strict.close();
    }
    const trusting = config('virtual', { remoteDir: dir, checkListedSize: false });
    const source = virtual(new SftpSource(trusting.cfg.providers.payunity!.settlement.sftp!));
    try {
      const out = await fetchSettlement(trusting.ctx, 'payunity', day, { source });
      expect(out.files).toMatchObject([
        { name: small, status: 'loaded', loaded: 1 },
        { name: large, status: 'loaded', loaded: 1 },
      ]);
    } finally {
      await source.close();
    }
  });

  it('loads a same-size correction of a file dated outside the range, found by its new modification time', async () => {
    // A folder of its own: the shared one holds other tests' files, never loaded, which any range would fetch.
    const dir = path.posix.join(sshd.dataDir, 'redelivered');
    const name = 'PAYUNITY_SETTLEMENT_R1_20261110.csv';
    const version = (amount: string) =>
      payunityFile([
        payunityLine({
          id: 'r1',
          ref: 'r0',
          paymentType: 'RF',
          date: '2026-11-10',
          amount,
          fee: '0.00',
          net: amount,
        }),
      ]);
    const file = writeFile(dir, name, version('-10.00'));
    // SFTP lists whole seconds.
    utimesSync(file, new Date('2026-11-10T06:00:00Z'), new Date('2026-11-10T06:00:00Z'));
    const s = config('redelivered', { remoteDir: dir });
    const first = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-10', to: '2026-11-10' });
    expect(first.files).toMatchObject([{ name, status: 'loaded', loaded: 1 }]);
    expect(
      (await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' })).files,
    ).toEqual([]);

    writeFile(dir, name, version('-15.00'));
    utimesSync(file, new Date('2026-11-21T06:00:00Z'), new Date('2026-11-21T06:00:00Z'));
    const second = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    expect(second.files).toMatchObject([
      { name, status: 'corrected', loaded: 1, supersededFileId: first.files[0]!.fileId },
    ]);
    const line = await db.db
      .selectFrom('settlement_lines')
      .select('gross_minor')
      .where('file_id', '=', second.files[0]!.fileId!)
      .executeTakeFirstOrThrow();
    expect(line.gross_minor).toBe(-1500);
  });

  it('refuses unsafe remote names without writing them to disk', async () => {
    writeFile(sshd.dataDir, 'PAYUNITY_SETTLEMENT_U1_20261121.csv\nINJECTED log line', 'x');
    writeFile(sshd.dataDir, 'PAYUNITY_SETTLEMENT_U1..20261121.csv', 'x');
    const s = config('unsafe');
    const out = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' });
    const refused = out.files.filter((f) => f.status === 'refused');
    expect(refused.map((f) => [f.name, f.reason]).sort()).toEqual([
      ['PAYUNITY_SETTLEMENT_U1..20261121.csv', 'file name contains ".."'],
      ['PAYUNITY_SETTLEMENT_U1_20261121.csv\\nINJECTED log line', 'file name contains a control character'],
    ]);
    expect(readdirSync(s.archive).some((n) => n.includes('_U1'))).toBe(false);
  });
});
