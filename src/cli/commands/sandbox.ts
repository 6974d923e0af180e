import path from 'node:path';
import type { Command } from 'commander';
import { generateWorld, writeSettlementFiles } from '../../sandbox/generate/index.js';
import { startSandboxServers } from '../../sandbox/server/index.js';
import { addDays, isIsoDate, todayIn } from '../../shared/dates.js';
import { UsageError } from '../../shared/errors.js';
import { common, type Registrar } from '../program.js';

interface SandboxOptions {
  from?: string;
  to?: string;
  seed?: string;
  perDay?: string;
  out?: string;
  host?: string;
  payunityPort?: string;
  useepayPort?: string;
}

function int(name: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

export function registerSandbox(program: Command, r: Registrar): void {
  common(
    program
      .command('sandbox')
      .description(
        'start the gateway simulators (and write their settlement files) for trying the tool without accounts',
      ),
  )
    .option('--from <date>', 'first day of generated transactions (default: 14 days ago, UTC)')
    .option('--to <date>', 'last day of generated transactions (default: yesterday, UTC)')
    .option('--seed <n>', 'seed of the generated world (same seed, same world)', '1')
    .option('--per-day <n>', 'root payments per gateway per day', '50')
    .option('--out <dir>', 'write the settlement files here (payunity/ and useepay/ folders)')
    .option('--host <host>', 'interface to listen on (loopback by default)', '127.0.0.1')
    .option('--payunity-port <port>', 'PayUnity simulator port (0 = any free port)', '0')
    .option('--useepay-port <port>', 'UseePay simulator port (0 = any free port)', '0')
    .action(
      r.action<SandboxOptions>(async (ctx, opts) => {
        const today = todayIn('UTC');
        const to = opts.to ?? addDays(today, -1);
        const from = opts.from ?? addDays(to, -13);
        for (const [k, v] of [
          ['--from', from],
          ['--to', to],
        ] as const)
          if (!isIsoDate(v)) throw new UsageError(`${k} ${v}: expected YYYY-MM-DD`);
        if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
        const world = generateWorld({
          seed: int('--seed', opts.seed, 1, 0, 2 ** 31),
          from,
          to,
          asOf: to > today ? to : today,
          paymentsPerDay: int('--per-day', opts.perDay, 50, 1, 100_000),
        });
        let written: string[] = [];
        const out = opts.out ? path.resolve(opts.out) : undefined;
        if (out)
          written = await writeSettlementFiles(world, {
            payunity: path.join(out, 'payunity'),
            useepay: path.join(out, 'useepay'),
          });
        const servers = await startSandboxServers(world.data, {
          host: opts.host,
          payunityPort: int('--payunity-port', opts.payunityPort, 0, 0, 65535),
          useepayPort: int('--useepay-port', opts.useepayPort, 0, 0, 65535),
          log: ctx.log,
        });
        const unregister = ctx.onShutdown(() => servers.close());
        try {
          const c = world.data.credentials;
          ctx.result(
            {
              payunityUrl: servers.payunityUrl,
              useepayUrl: servers.useepayUrl,
              credentials: c,
              from,
              to,
              stats: world.stats,
              settlementDir: out ?? null,
              settlementFiles: written,
            },
            () =>
              [
                `PayUnity simulator: ${servers.payunityUrl}  (entityId ${c.payunity.entityId}, accessToken ${c.payunity.accessToken})`,
                `UseePay simulator:  ${servers.useepayUrl}  (merchantNo ${c.useepay.merchantNo}, appId ${c.useepay.appId}, apiKey ${c.useepay.apiKey})`,
                `world: ${from} to ${to}, ${world.stats.payunityRecords} PayUnity records, ${world.stats.useepayIntents} UseePay intents, ${world.stats.useepayRefunds} refunds`,
                out
                  ? `settlement files: ${written.length} written under ${out}`
                  : 'settlement files: not written (use --out DIR)',
                'press Ctrl+C to stop',
              ].join('\n'),
          );
          // Serve until SIGINT/SIGTERM: these are sandbox credentials, printed on purpose.
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) return resolve();
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        } finally {
          unregister();
          await servers.close();
        }
      }),
    );
}
