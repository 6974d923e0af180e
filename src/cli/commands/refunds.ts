import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { ProviderName } from '../../config/schema.js';
import { createGatewayClient } from '../../gateways/index.js';
import type { GatewayClient } from '../../gateways/types.js';
import type { StageContext } from '../../jobs/context.js';
import {
  executeRefunds,
  formatExecution,
  formatPlan,
  formatToSend,
  planRefunds,
  type Approval,
} from '../../refunds/index.js';
import { formatHolds, formatRelease } from '../../refunds/hold-format.js';
import { listHolds, releaseHold } from '../../refunds/hold-releases.js';
import { PayreconError, UsageError } from '../../shared/errors.js';
import type { CommandContext } from '../context.js';
import { common, parseRunId, type Registrar } from '../program.js';

interface PlanOptions {
  run: string;
}
interface HoldsOptions {
  all?: boolean;
}
interface ReleaseOptions {
  reason: string;
  by?: string;
}
interface ExecuteOptions extends PlanOptions {
  approve?: string[];
  approvedBy?: string;
  approvalFile?: string;
}

export function registerRefunds(program: Command, r: Registrar): void {
  const refunds = program
    .command('refunds')
    .description(
      'corrective refunds: plan, then execute with approval; the holds rejected gateway records put on them',
    );
  common(
    refunds
      .command('plan')
      .description('propose corrective refunds for the discrepancies of a run (sends nothing)')
      .requiredOption('--run <id>', 'run id'),
  ).action(
    r.action<PlanOptions>(async (ctx, opts) => {
      const runId = parseRunId(opts.run);
      await withStage(ctx, runId, async (stage) => {
        const plan = await planRefunds(stage, runId);
        ctx.result(plan, () => formatPlan(plan));
      });
    }),
  );
  common(
    refunds
      .command('execute')
      .description('send approved refunds, exactly once')
      .requiredOption('--run <id>', 'run id')
      .option('--approve <ids...>', 'discrepancy ids to approve')
      .option('--approval-file <file>', 'the report workbook with REFUND chosen in the Action column')
      .option('--approved-by <name>', 'who approves, recorded with the approval (default: the system user)'),
  ).action(
    r.action<ExecuteOptions>(async (ctx, opts) => {
      const runId = parseRunId(opts.run);
      const approval = parseApproval(opts);
      const approvedBy = person(opts.approvedBy, '--approved-by');
      await withStage(ctx, runId, async (stage) => {
        const clients = new Map<ProviderName, GatewayClient>();
        const result = await executeRefunds(stage, runId, approval, {
          approvedBy,
          clientFor(provider) {
            let c = clients.get(provider);
            if (!c)
              clients.set(provider, (c = createGatewayClient(provider, stage.config, { log: stage.log })));
            return c;
          },
          // What will be sent is printed before the first gateway call (stdout carries only the JSON with --json).
          announce: (toSend) => {
            if (!ctx.opts.json) ctx.result(null, formatToSend(toSend));
          },
        });
        ctx.result(result, () => formatExecution(result));
        if (result.interrupted)
          throw new PayreconError('refund execution interrupted; run the same command again to finish');
        if (result.counts.unknown > 0) {
          throw new PayreconError(
            `${result.counts.unknown} refund(s) in an unknown state; run the same command again to look them up at the gateway before anything is resent`,
          );
        }
        if (result.actions.some((a) => a.how === 'sent' && a.state === 'failed')) {
          throw new PayreconError(
            `${result.actions.filter((a) => a.how === 'sent' && a.state === 'failed').length} refund(s) were declined by the gateway; their discrepancies now suggest INVESTIGATE`,
          );
        }
      });
    }),
  );
  registerHolds(refunds, r);
}

function registerHolds(refunds: Command, r: Registrar): void {
  common(
    refunds
      .command('holds')
      .description(
        'list the rejected gateway records that hold refunds: which payments, since when, which planned refunds, and any release',
      )
      .option('--all', 'also list the records a later pull resolved'),
  ).action(
    r.action<HoldsOptions>(async (ctx, opts) => {
      const loaded = ctx.loadConfig();
      const holds = await ctx.withDatabase(loaded, (db) => listHolds(db.db, { all: opts.all === true }));
      ctx.result({ holds }, () => formatHolds(holds));
    }),
  );
  common(
    refunds
      .command('release-hold')
      .description(
        'record that a rejected gateway record holds no refunds (the gateway keeps sending it unreadable, or a lookup nobody repeats rejected it); a new rejection of the record holds again',
      )
      .argument('<rejection>', 'the rejected record id (`payrecon refunds holds`)')
      .requiredOption('--reason <text>', 'why it holds no refunds, recorded with the release')
      .option('--by <name>', 'who releases, recorded with the release (default: the system user)'),
  ).action(
    r.action<ReleaseOptions>(async (ctx, opts, cmd) => {
      const text = cmd.args[0] ?? '';
      if (!/^[1-9]\d*$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim())))
        throw new UsageError(
          `release-hold expects a rejected record id (a positive whole number, see \`payrecon refunds holds\`), got "${text}"`,
        );
      const reason = opts.reason.trim();
      if (reason === '') throw new UsageError('--reason: say why this record holds no refunds');
      const by = person(opts.by, '--by');
      const loaded = ctx.loadConfig();
      const result = await ctx.withDatabase(loaded, (db) =>
        releaseHold(db.db, Number(text.trim()), { by, reason, at: ctx.now() }),
      );
      if (result.released)
        ctx.log.warn(
          { release: result.hold.release, rejectionId: result.hold.rejectionId },
          'refund hold released by hand',
        );
      ctx.result(result, () => formatRelease(result));
    }),
  );
}

/** Who acts (approves, releases): as given, else the system user running the command (recorded, so never empty). */
function person(given: string | undefined, option: string): string {
  if (given !== undefined) {
    const name = given.trim();
    if (name === '') throw new UsageError(`${option}: give a name`);
    return name;
  }
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME; // no entry in the user database (some containers)
  }
  return user ? `system user ${user}` : 'an unknown system user';
}

function parseApproval(opts: ExecuteOptions): Approval {
  const ids = opts.approve ?? [];
  if (ids.length > 0 && opts.approvalFile)
    throw new UsageError('give either --approve or --approval-file, not both');
  if (opts.approvalFile) {
    const workbook = path.resolve(opts.approvalFile);
    // Said before any database is started; the file is read, and its hash recorded, under the refunds lock.
    if (!existsSync(workbook)) throw new UsageError(`approval file ${workbook} not found`);
    return { workbook };
  }
  if (ids.length > 0) return { ids: ids.flatMap((s) => s.split(',')).filter((s) => s.trim() !== '') };
  throw new UsageError('nothing is sent without approval: give --approve ID… or --approval-file FILE.xlsx');
}

async function withStage(
  ctx: CommandContext,
  runId: number,
  fn: (stage: StageContext) => Promise<void>,
): Promise<void> {
  const loaded = ctx.loadConfig();
  await ctx.withDatabase(loaded, async (db) => {
    const run = await db.db.selectFrom('runs').select('id').where('id', '=', runId).executeTakeFirst();
    if (!run) throw new UsageError(`run ${runId} does not exist (see \`payrecon runs\`)`);
    await fn(ctx.stageContext(db, loaded.config, runId));
  });
}
