import { ResultsStore } from '@prunefuse/results';
import { authHeadersFromEnv, MlflowClient, syncCommand, syncStore } from '@prunefuse/tracking';
import type { Command } from 'commander';
import { printJson, printText } from '../output.js';

export function registerMlflow(program: Command): void {
  const mlflow = program.command('mlflow').description('MLflow tracking of results stores');
  mlflow
    .command('sync')
    .description(
      'Upload the finished runs of a results store that are not yet in the MLflow server',
    )
    .argument('<store>', 'results store folder, e.g. results/quick')
    .option('--mlflow <uri>', 'MLflow tracking server (default: $MLFLOW_TRACKING_URI)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (root: string, options: { mlflow?: string; json?: boolean }) => {
      const trackingUri = options.mlflow ?? process.env.MLFLOW_TRACKING_URI;
      if (!trackingUri)
        throw new Error('no MLflow server: pass --mlflow URI or set MLFLOW_TRACKING_URI');
      const client = new MlflowClient({
        trackingUri,
        uriSource: options.mlflow ? '--mlflow' : '$MLFLOW_TRACKING_URI',
        headers: authHeadersFromEnv(),
      });
      if (!ResultsStore.exists(root))
        throw new Error(`${root}: not a results store (no runs/ folder)`);
      const summary = await syncStore(new ResultsStore(root), client, (id) =>
        process.stderr.write(`uploaded ${id}\n`),
      );
      if (summary.failed.length > 0) process.exitCode = 1;
      if (options.json) return printJson(summary);
      const lines = [
        `${trackingUri}: ${summary.uploaded.length} uploaded, ${summary.alreadySynced.length} already there, ` +
          `${summary.failed.length} failed${summary.notAttempted.length > 0 ? `, ${summary.notAttempted.length} not attempted` : ''}`,
        ...summary.failed.map((f) => `  failed ${f.id}: ${f.message}`),
      ];
      if (summary.failed.length > 0)
        lines.push(
          `rerun to retry: ${syncCommand(root, trackingUri)} (runs cut short are continued, never duplicated)`,
        );
      printText(lines.join('\n'));
    });
}
