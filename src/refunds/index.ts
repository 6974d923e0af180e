// Corrective refunds: plan, execute with approval, verify. The only part of payrecon that moves money.
export { planRefunds } from './plan.js';
export { executeRefunds } from './execute.js';
export { verifyRefunds } from './verify.js';
export { formatPlan, formatExecution, formatToSend } from './format.js';
export type * from './types.js';
