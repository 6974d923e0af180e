export { notifyRun, backoffMs, type NotifyDeps, type NotifyOutcome } from './webhook.js';
export { summaryText, type RunSummary, type RunSummaryLateFile } from './summary.js';
