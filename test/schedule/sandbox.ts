// `payrecon sandbox` as a subprocess: both gateway simulators and their settlement files, for tests whose runs
// must succeed end to end.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';

export interface Sandbox {
  payunityUrl: string;
  useepayUrl: string;
  credentials: {
    payunity: { entityId: string; accessToken: string };
    useepay: { merchantNo: string; appId: string; apiKey: string };
  };
  /** Settlement files: `<dir>/payunity`, `<dir>/useepay`. */
  settlementDir: string;
  stop(): void;
}

export async function startSandbox(dir: string, to: string): Promise<Sandbox> {
  const out = path.join(dir, 'settle');
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'sandbox', '--json', '--out', out, '--to', to, '--per-day', '5', '--seed', '7'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const info = await new Promise<Omit<Sandbox, 'settlementDir' | 'stop'>>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      const line = text.split('\n').find((l, i, all) => l.startsWith('{') && i < all.length - 1);
      if (line) resolve(JSON.parse(line) as Omit<Sandbox, 'settlementDir' | 'stop'>);
    });
    child.on('close', (code) => reject(new Error(`payrecon sandbox exited ${code}: ${stderr}`)));
  });
  return { ...info, settlementDir: out, stop: () => void child.kill('SIGTERM') };
}

/** The providers section of a configuration pointing at the sandbox. */
export function sandboxProviders(s: Sandbox, extra: { payunityToken?: string } = {}) {
  const c = s.credentials;
  return {
    payunity: {
      baseUrl: s.payunityUrl,
      entityId: c.payunity.entityId,
      accessToken: extra.payunityToken ?? c.payunity.accessToken,
      settlement: { source: 'local', profile: 'payunity', localDir: path.join(s.settlementDir, 'payunity') },
    },
    useepay: {
      baseUrl: s.useepayUrl,
      merchantNo: c.useepay.merchantNo,
      appId: c.useepay.appId,
      apiKey: c.useepay.apiKey,
      settlement: { source: 'local', profile: 'useepay', localDir: path.join(s.settlementDir, 'useepay') },
    },
  };
}
