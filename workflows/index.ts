// Workflow types registered with the worker. Their names are part of history.
export { precheckWorkflow } from './precheck';
export { migrationWorkflow, migrateDatabaseWorkflow } from './migration';
export { verifyWorkflow } from './verify';
