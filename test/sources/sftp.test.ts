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

  it('reads a settlement file published as a symbolic link, and warns of a link that leads nowhere', async () => {
    const dir = linkedFile('links', 'PAYUNITY_SETTLEMENT_L1_20261121.csv', 'l1');
    symlinkSync(path.join(dir, 'missing'), path.join(dir, 'PAYUNITY_SETTLEMENT_L2_20261121.csv'));
    symlinkSync(sshd.dataDir, path.join(dir, 'PAYUNITY_SETTLEMENT_L3_20261121.csv'));
    const warnings: unknown[] = [];
    const s = config('links', { remoteDir: dir });
    const source = new SftpSource(s.cfg.providers.payunity!.settlement.sftp!, {
      log: { warn: (o: unknown) => warnings.push(o) } as unknown as Logger,
    });
    try {
      const out = await fetchSettlement(
        s.ctx,
        'payunity',
        { from: '2026-11-21', to: '2026-11-21' },
        { source },
      );
      expect(out.files).toMatchObject([
        { name: 'PAYUNITY_SETTLEMENT_L1_20261121.csv', status: 'loaded', loaded: 1 },
      ]);
      expect(warnings).toMatchObject([{ file: 'PAYUNITY_SETTLEMENT_L2_20261121.csv' }]);
    } finally {
      await source.close();
    }
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
    await new Promise((r) => setTimeout(r, 500));
    // A connection left open keeps the process alive after the command has failed.
    expect(sshd.sessionProcesses()).toBe(0);
  });

  it('names a file that is unreadable or gone when downloaded, without breaking the downloads beside it', async () => {
    const dir = path.posix.join(sshd.dataDir, 'unreadable');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++)
      lines.push(
        payunityLine({ id: `u${i}`, order: `ORD-U-${i}`, amount: '1.00', fee: '0.00', net: '1.00' }),
      );
    const ok = 'PAYUNITY_SETTLEMENT_U1_20261121.csv';
    const denied = 'PAYUNITY_SETTLEMENT_U2_20261121.csv';
    writeFile(dir, ok, payunityFile(lines));
    chmodSync(
      writeFile(
        dir,
        denied,
        payunityFile([payunityLine({ id: 'u-denied', amount: '1.00', fee: '0.00', net: '1.00' })]),
      ),
      0,
    );
    const s = config('unreadable', { remoteDir: dir, parallelDownloads: 2, retries: 3 });
    const err = await fetchSettlement(s.ctx, 'payunity', { from: '2026-11-21', to: '2026-11-21' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect(oneLine(err)).toMatch(
      new RegExp(
        `: permission denied reading ${dir}/${denied}; ask the server's operator to let \\S+ read it`,
      ),
    );
    // The file downloading beside it on the same connection was not cut off: it loaded, and only once.
    const rows = await db.db
      .selectFrom('settlement_files')
      .select(['file_name', 'status', 'loaded_count'])
      .where('remote_path', 'like', `${dir}/%`)
      .execute();
    expect(rows).toEqual([{ file_name: ok, status: 'loaded', loaded_count: 20_000 }]);

    const source = new SftpSource(sftpCfg({ retries: 3 }));
    const gone = await source
      .download(
        { name: 'gone.csv', path: `${dir}/gone.csv`, size: 10, modifiedAt: null },
        path.join(tmp, 'gone.part'),
        new AbortController().signal,
      )
      .catch((e: unknown) => e)
      .finally(() => source.close());
    expect(oneLine(gone)).toMatch(
      new RegExp(
        `: ${dir}/gone.csv was listed but is gone \\(removed or renamed on the server since\\); run the fetch again`,
      ),
    );
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
