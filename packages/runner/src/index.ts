export { buildCli } from './cli.js';
