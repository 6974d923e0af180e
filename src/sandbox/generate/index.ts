// The sandbox world generator: see world.ts. Other parts (sandbox command, demo, tests, benchmark) import from here.
export { generateWorld } from './world.js';
export { writeAnswerKey, writeSettlementFile, writeSettlementFiles } from './write.js';
export { DEFAULT_FEES, configSnippet, expectedFeeMinor, compileRule, type FeeSchedule } from './fees.js';
export { discrepancyId } from './ledger.js';
export { addBusinessDays, isBusinessDay } from './calendar.js';
export { payunityFileName, useepayFileName, sumOfNet } from './files.js';
export * from './types.js';
export { answerKeyAt, awaitingAt, type KeyAtOptions } from './key-at.js';
