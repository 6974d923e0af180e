export { formatDecisionImport } from './format.js';
export {
  importDecisions,
  type ChangedFigures,
  type DecisionAction,
  type DecisionImport,
  type ImportOptions,
  type ReplacedDecision,
} from './import.js';
