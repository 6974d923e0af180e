// A real OpenSSH sshd for SFTP tests: a free loopback port, a temporary host key, an authorized client key, and
// (when we are root) a password login for a dedicated test user. internal-sftp only. If sshd is not installed the
// caller skips its tests loudly, unless PAYRECON_REQUIRE_SSHD=1 makes that a failure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serverPort } from '../../src/shared/free-port.js';

export const SSHD = '/usr/sbin/sshd';
const USER = 'payrecon-sftp';

export interface SshdServer {
  host: string;
  port: number;
  username: string;
  /** SHA256:… of the server's host key, as ssh-keygen -l prints it. */
  hostKeySha256: string;
  privateKeyPath: string;
  /** An encrypted copy of the client key and its passphrase. */
  encryptedKeyPath: string;
  passphrase: string;
  /** Null when password login could not be set up (not root). */
  password: string | null;
  /** The folder the SFTP user sees (absolute path on this machine, also the remote path). */
  dataDir: string;
  /** Kills the processes serving current connections; the listener stays up to accept reconnections. */
  killSessions(): number;
  /** Freezes (SIGSTOP) the processes serving current connections: a server that stops answering. */
  freezeSessions(): number;
  /** How many processes serve connections right now (0: no client is connected). */
  sessionProcesses(): number;
  stop(): Promise<void>;
}

/** Why SFTP tests cannot run here, or null when they can. */
export function sshdUnavailable(): string | null {
  if (!existsSync(SSHD)) return `${SSHD} not found (install openssh-server)`;
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'ssh-keygen not found';
  }
  return null;
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'payrecon-test', '-f', file], {
    stdio: 'ignore',
  });
}

function fingerprint(pubFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(out);
  if (!m) throw new Error(`unexpected ssh-keygen -l output: ${out}`);
  return m[0];
}

function ensureUser(password: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', USER], { stdio: 'ignore' });
  }
  execFileSync('chpasswd', [], { input: `${USER}:${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  return true;
}

function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null)
        return reject(new Error(`sshd exited with ${child.exitCode}: ${stderr()}`));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('data', (d) => {
        sock.destroy();
        if (d.toString().startsWith('SSH-')) resolve();
        else reject(new Error(`unexpected banner ${d.toString()}`));
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port}: ${stderr()}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Child processes of `pid`, recursively (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export async function startSshd(): Promise<SshdServer> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'payrecon-sshd-'));
  chmodSync(tmp, 0o755);
  const dataDir = path.join(tmp, 'outgoing');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  keygen(path.join(tmp, 'host_ed25519'));
  keygen(path.join(tmp, 'client_ed25519'));
  const passphrase = randomBytes(6).toString('hex');
  keygen(path.join(tmp, 'client_enc_ed25519'), passphrase);
  writeFileSync(
    path.join(tmp, 'authorized_keys'),
    readFileSync(path.join(tmp, 'client_ed25519.pub'), 'utf8') +
      readFileSync(path.join(tmp, 'client_enc_ed25519.pub'), 'utf8'),
    { mode: 0o644 },
  );
  const password = randomBytes(9).toString('base64url');
  const root = ensureUser(password);
  const username = root ? USER : os.userInfo().username;
  const port = await serverPort();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(tmp, 'host_ed25519')}`,
    `PidFile ${path.join(tmp, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(tmp, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    `PasswordAuthentication ${root ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    `AllowUsers ${username}`,
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'MaxStartups 50',
    'LogLevel ERROR',
  ].join('\n');
  writeFileSync(path.join(tmp, 'sshd_config'), config + '\n');
  const child = spawn(SSHD, ['-D', '-e', '-f', path.join(tmp, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForBanner(port, child, () => stderr);
  return {
    host: '127.0.0.1',
    port,
    username,
    hostKeySha256: fingerprint(path.join(tmp, 'host_ed25519.pub')),
    privateKeyPath: path.join(tmp, 'client_ed25519'),
    encryptedKeyPath: path.join(tmp, 'client_enc_ed25519'),
    passphrase,
    password: root ? password : null,
    dataDir,
    killSessions() {
      const pids = child.pid ? descendants(child.pid) : [];
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return pids.length;
    },
    freezeSessions() {
      const pids = child.pid ? descendants(child.pid) : [];
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      return pids.length;
    },
    sessionProcesses() {
      return child.pid ? descendants(child.pid).length : 0;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
