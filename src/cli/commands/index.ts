// Every command of interface.md, one file each.
export { registerConfig } from './config-check.js';
export { registerDecisions } from './decisions.js';
export { registerDemo } from './demo.js';
export { registerFetch } from './fetch.js';
export { registerMatch } from './match.js';
export { registerMigrate } from './migrate.js';
export { registerPull } from './pull.js';
export { registerRefunds } from './refunds.js';
export { registerReport } from './report.js';
export { registerRun } from './run.js';
export { registerRuns } from './runs.js';
export { registerSandbox } from './sandbox.js';
export { registerSchedule } from './schedule.js';
