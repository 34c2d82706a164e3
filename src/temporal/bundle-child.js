// Bundles the workflows in a process of its own and writes the code to a file: webpack's
// compilation (a few hundred MB) then never counts against the worker's memory.
//   node src/temporal/bundle-child.js <workflowsPath> <outFile> [<failureConverterPath>]
'use strict';
const { writeFileSync } = require('node:fs');
const { bundleWorkflowCode } = require('@temporalio/worker');

const [workflowsPath, outFile, failureConverterPath] = process.argv.slice(2);
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };
bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: quiet }).then(
  ({ code }) => writeFileSync(outFile, code),
  (e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  },
);
