#!/usr/bin/env node
// Runs the TypeScript CLI directly; no build step between a clone and a command.
require('tsx/cjs');
require('../src/cli/main.ts').cli();
