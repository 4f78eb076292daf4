import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What installs PyTorch for Debian's /usr/bin/python3 (version 1.13, CPU). */
export const PYTORCH_INSTALL_COMMAND = 'apt-get install python3-torch';

/**
 * A script of the PyTorch twins of models code. torch/ sits beside src/ and dist/ in the
 * package, and beside the file itself in the single-file bundle.
 */
function torchScript(file: string): string {
  const candidates = [
    new URL(`../torch/${file}`, import.meta.url),
    new URL(`./torch/${file}`, import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(url));
  if (!found) {
    throw new Error(
      `the PyTorch script was not found at ${candidates.map((u) => fileURLToPath(u)).join(' or ')}`,
    );
  }
  return fileURLToPath(found);
}

export interface TorchScriptRun {
  /** The script's file name in torch/. */
  script: string;
  args?: readonly string[];
  /** Written to the script's stdin. */
  input?: string;
  python: string;
  /** Prefixes every error, e.g. '--pytorch' or 'verify'. */
  purpose: string;
}

/**
 * Runs a torch/ script with `python` and parses the one JSON document it prints. Its
 * stderr goes to ours; a missing interpreter or torch is an error that says which and
 * what installs it (the scripts exit 3 when torch cannot be imported).
 */
export async function runTorchScript<T>({
  script,
  args = [],
  input,
  python,
  purpose,
}: TorchScriptRun): Promise<T> {
  const argv = [torchScript(script), ...args];
  const child = spawn(python, argv, {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new Error(`${purpose}: could not start '${python}': ${error.message}`)),
    );
    child.on('close', resolve);
    if (input !== undefined) child.stdin!.end(input);
  });
  if (code === 3) {
    throw new Error(
      `${purpose}: '${python}' cannot import torch (see above); install it with ` +
        `\`${PYTORCH_INSTALL_COMMAND}\` (as root, on Debian or Ubuntu) or name an ` +
        'interpreter that has it',
    );
  }
  if (code !== 0) throw new Error(`${purpose}: '${python} ${argv[0]}' exited with code ${code}`);
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`${purpose}: '${python}' printed no JSON document: ${stdout.slice(0, 200)}`);
  }
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
 * PyTorch sees a GPU.
 */
export async function runPytorchReference(
  cases: readonly string[],
  { python = 'python3', seconds = 1 }: { python?: string; seconds?: number } = {},
): Promise<PytorchReference> {
  return runTorchScript<PytorchReference>({
    script: 'resnet_bench.py',
    args: ['--cases', cases.join(','), '--time', String(seconds)],
    python,
    purpose: '--pytorch',
  });
}

/** PyTorch's time for one operation of a kernel case (kernel_bench.py). */
export interface PytorchKernelRow {
  name: string;
  meanMs: number;
  medianMs: number;
  samples: number;
}

export interface PytorchKernelReference {
  device: string;
  rows: PytorchKernelRow[];
}

/**
 * Times kernel cases (`kernel/conv/...`, `kernel/batchnorm/...` names of the compiled
 * trainer's bench) in PyTorch, each repeated between synchronisations as often as the
 * WebGPU case repeats it in one submission; on CUDA when PyTorch sees a GPU.
 */
export async function runPytorchKernelReference(
  cases: readonly { name: string; repeats: number }[],
  { python = 'python3', seconds = 1 }: { python?: string; seconds?: number } = {},
): Promise<PytorchKernelReference> {
  return runTorchScript<PytorchKernelReference>({
    script: 'kernel_bench.py',
    args: [
      '--cases',
      cases.map((c) => `${c.name}@${c.repeats}`).join(','),
      '--time',
      String(seconds),
    ],
    python,
    purpose: '--pytorch',
  });
}
