// The benchmark's gateway side, in a process of its own so that the run's memory is measured alone: generates N
// payments' worth of activity, writes the settlement files, serves the APIs, and reports back over IPC.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { generateWorld, writeSettlementFiles } from '../sandbox/generate/index.js';
import { startSandboxServers } from '../sandbox/server/index.js';

interface Args {
  payments: number;
  dir: string;
  from: string;
  to: string;
  asOf: string;
  days: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const started = Date.now();
const perDay = Math.max(1, Math.round(args.payments / 2 / args.days));
const world = generateWorld({
  seed: 20261121,
  from: args.from,
  to: args.to,
  asOf: args.asOf,
  paymentsPerDay: perDay,
});
const dirs = {
  payunity: path.join(args.dir, 'inbox', 'payunity'),
  useepay: path.join(args.dir, 'inbox', 'useepay'),
};
mkdirSync(dirs.payunity, { recursive: true });
mkdirSync(dirs.useepay, { recursive: true });
await writeSettlementFiles(world, dirs);
const generateMs = Date.now() - started;
const servers = await startSandboxServers(world.data);
const counts = {
  payunityRecords: world.data.payunity.length,
  useepayIntents: world.data.useepay.intents.length,
  useepayRefunds: world.data.useepay.refunds.length,
  settlementFiles: world.settlementFiles.length,
  settlementBytes: world.settlementFiles.reduce((a, f) => a + f.content.length, 0),
  plantedDiscrepancies: world.answerKey.length,
};
process.send?.({
  type: 'ready',
  payunityUrl: servers.payunityUrl,
  useepayUrl: servers.useepayUrl,
  credentials: world.data.credentials,
  worldConfig: world.config,
  dirs,
  generateMs,
  counts,
  perDay,
});
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') void servers.close().then(() => process.exit(0));
});
