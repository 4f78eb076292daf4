import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The PyTorch twin of the model bench cases. torch/ sits beside src/ and dist/ in the
 * package, and beside the file itself in the single-file bundle.
 */
function pytorchBenchScript(): string {
  const candidates = [
    new URL('../torch/resnet_bench.py', import.meta.url),
    new URL('./torch/resnet_bench.py', import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(
      `the PyTorch bench script was not found at ${candidates.map((u) => fileURLToPath(u)).join(' or ')}`,
    );
  }
  return fileURLToPath(found);
}

export interface PytorchRow {
  name: string;
  meanMs: number;
  medianMs: number;
  imagesPerSec: number;
  samples: number;
}

export interface PytorchReference {
  /** The device PyTorch ran on, with its version, e.g. "NVIDIA H100 (PyTorch 2.4.0, eager)". */
  device: string;
  rows: PytorchRow[];
}

/**
 * Times `cases` (model bench case names) in PyTorch eager with `python`, on CUDA when
 * PyTorch sees a GPU. Its progress goes to our stderr; a missing interpreter or torch
 * is an error that says which.
 */
export async function runPytorchReference(
  cases: readonly string[],
  { python = 'python3', seconds = 1 }: { python?: string; seconds?: number } = {},
): Promise<PytorchReference> {
  const args = [pytorchBenchScript(), '--cases', cases.join(','), '--time', String(seconds)];
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new Error(`--pytorch: could not start '${python}': ${error.message}`)),
    );
    child.on('close', resolve);
  });
  if (code === 3) throw new Error(`--pytorch: '${python}' cannot import torch (see above)`);
  if (code !== 0) throw new Error(`--pytorch: '${python} ${args[0]}' exited with code ${code}`);
  try {
    return JSON.parse(stdout) as PytorchReference;
  } catch {
    throw new Error(`--pytorch: '${python}' printed no JSON document: ${stdout.slice(0, 200)}`);
  }
}
