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
import { PayreconError, UsageError } from '../../shared/errors.js';
import type { CommandContext } from '../context.js';
import { common, parseRunId, type Registrar } from '../program.js';

interface PlanOptions {
  run: string;
}
interface ExecuteOptions extends PlanOptions {
  approve?: string[];
  approvedBy?: string;
  approvalFile?: string;
}

export function registerRefunds(program: Command, r: Registrar): void {
  const refunds = program
    .command('refunds')
    .description('corrective refunds: plan, then execute with approval');
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
      const approvedBy = approver(opts.approvedBy);
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
}

/** Who approves: as given, else the system user running the command (recorded, so never empty). */
function approver(given: string | undefined): string {
  if (given !== undefined) {
    const name = given.trim();
    if (name === '') throw new UsageError('--approved-by: give a name');
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
    if (!run) throw new UsageError(`run ${runId} not found (see \`payrecon runs\`)`);
    await fn(ctx.stageContext(db, loaded.config, runId));
  });
}
