// Workflow types registered with the worker. Their names are part of history.
export { precheckWorkflow } from './precheck';
export { migrationWorkflow } from './migration';
export { migrateDatabaseWorkflow } from './database';
export { verifyWorkflow } from './verify';
export { planDiffWorkflow } from './plan-diff';
