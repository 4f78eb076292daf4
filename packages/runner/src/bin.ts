#!/usr/bin/env node
import { buildCli } from './cli.js';
import { routeConsoleToStderr } from './output.js';

routeConsoleToStderr();
try {
  await buildCli().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`prunefuse: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.PRUNEFUSE_DEBUG && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  process.exitCode = process.exitCode || 1;
}
