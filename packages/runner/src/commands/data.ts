import type { Command } from 'commander';
import {
  DATASET_NAMES,
  type DatasetInfo,
  datasetInfo,
  fetchDataset,
  loadDataset,
  parseDatasetName,
} from '@prunefuse/data';
import { formatTable, printJson, printText } from '../output.js';

const DATA_DIR_HELP =
  'folder holding the files (default: /usr/share/datasets/fashion-mnist for fashion-mnist, ' +
  '$PRUNEFUSE_DATA_DIR or ~/.cache/prunefuse/datasets/<official folder> for the others)';

export function registerData(program: Command): void {
  const data = program.command('data').description(`Datasets: ${DATASET_NAMES.join(', ')}`);

  data
    .command('info')
    .description(
      'Read a dataset, validating every file, and show its splits, classes and image shape',
    )
    .argument('<name>', DATASET_NAMES.join(' | '))
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print the description as one JSON document on stdout')
    .action(async (name: string, options: { dataDir?: string; json?: boolean }) => {
      const dataset = await loadDataset(parseDatasetName(name, 'data info'), {
        dataDir: options.dataDir ?? null,
        seed: 0,
      });
      const info = datasetInfo(dataset);
      if (options.json) return printJson(info);
      printText(formatInfo(info));
    });

  data
    .command('fetch')
    .description('Download a dataset from its official source, verify its MD5 and unpack it')
    .argument('<name>', DATASET_NAMES.join(' | '))
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print {name, location, downloaded} as one JSON document on stdout')
    .action(async (name: string, options: { dataDir?: string; json?: boolean }) => {
      const report = await fetchDataset(parseDatasetName(name, 'data fetch'), {
        dataDir: options.dataDir ?? null,
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      if (options.json) return printJson(report);
      if (report.downloaded.length === 0) {
        printText(`${report.name}: already available at ${report.location}; nothing downloaded`);
        return;
      }
      const megabytes = report.downloaded.reduce((n, d) => n + d.bytes, 0) / 1e6;
      printText(
        `${report.name}: ${report.downloaded.length} file(s), ${megabytes.toFixed(1)} MB, ` +
          `MD5 verified, now in ${report.location}`,
      );
    });
}

function formatInfo(info: DatasetInfo): string {
  const { height, width, channels } = info.shape;
  const perChannel = (values: readonly number[]) => values.map((v) => v.toFixed(4)).join(' ');
  const summary = [
    `${info.name}: read from ${info.source}`,
    `images ${height}x${width}x${channels} (uint8), ${info.classes} classes, augmentation ${info.augmentation}`,
    `train ${info.splits.train.size}, test ${info.splits.test.size}`,
    `mean ${perChannel(info.mean)}, std ${perChannel(info.std)} (per channel, training images, 0..1 scale)`,
  ];
  const rows = info.classNames.map((className, c) => [
    String(c),
    className,
    String(info.splits.train.perClass[c] ?? 0),
    String(info.splits.test.perClass[c] ?? 0),
  ]);
  return `${summary.join('\n')}\n\n${formatTable(['label', 'class', 'train', 'test'], rows)}`;
}
