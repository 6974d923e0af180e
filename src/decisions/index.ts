export { formatDecisionImport } from './format.js';
export { importDecisions, type DecisionAction, type DecisionImport } from './import.js';
