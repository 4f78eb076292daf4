import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '@prunefuse/engine';
import { architecture, countMacs, type InputShape, trainingStepFixture } from '@prunefuse/models';
import {
  type MacsByPhase,
  type RunConfig,
  TRAINING_MACS_PER_FORWARD,
  writeFileAtomic,
} from '@prunefuse/results';

/**
 * How fast this machine's backend trains and runs one architecture, in MACs per second
 * as the cost model counts them (a training example costs TRAINING_MACS_PER_FORWARD
 * forward passes), so that a run's estimated MACs turn into an estimated wall time.
 */
export interface StepRates {
  trainMacsPerSecond: number;
  inferMacsPerSecond: number;
}

/** What a calibration measured on: a rate holds only for the same of each. */
export interface Workload {
  backend: string;
  device: string;
  arch: string;
  input: InputShape;
  batch: number;
}

/** Where measured rates are kept, per machine: `$PRUNEFUSE_CACHE_DIR` or ~/.cache/prunefuse. */
export function calibrationFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.PRUNEFUSE_CACHE_DIR || path.join(os.homedir(), '.cache', 'prunefuse');
  return path.join(dir, 'step-rates.json');
}

/** The machine, backend, device and workload a cached rate belongs to. */
export function workloadKey(workload: Workload): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const { height, width, channels } = workload.input;
  return [
    os.hostname(),
    cpu,
    workload.backend,
    workload.device,
    workload.arch,
    `${height}x${width}x${channels}`,
    `batch ${workload.batch}`,
  ].join(' | ');
}

/** Rates from the cache file, measured (and written back) where it has none for `workload`. */
export async function cachedStepRates(
  workload: Workload,
  measure: (workload: Workload) => Promise<StepRates>,
  file = calibrationFile(),
): Promise<StepRates & { cached: boolean }> {
  const key = workloadKey(workload);
  const cache = readCache(file);
  const hit = cache[key];
  if (hit) return { ...hit, cached: true };
  const rates = await measure(workload);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify({ ...readCache(file), [key]: rates }, null, 2)}\n`);
  return { ...rates, cached: false };
}

function readCache(file: string): Record<string, StepRates> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, StepRates>;
  } catch {
    // Absent or unreadable: measured again and rewritten.
    return {};
  }
}

/** Seconds of each half of a calibration (training, then inference). */
const CALIBRATION_SECONDS = 2;

/**
 * Times training steps, then inference batches, of `workload.arch` on the active backend
 * for about CALIBRATION_SECONDS each, after one untimed warm-up of each (kernel
 * compilation, first allocation).
 */
export async function measureStepRates(workload: Workload): Promise<StepRates> {
  const { arch, input, batch } = workload;
  const forward = countMacs(architecture(arch, { input, classes: 10 })) * batch;
  const fixture = trainingStepFixture({ arch, input, batch });
  try {
    const trainSeconds = await timeRepeated(async () => {
      tf.dispose(fixture.step());
      await fixture.ready();
    });
    const inferSeconds = await timeRepeated(async () => {
      const logits = fixture.network.apply(fixture.images, { training: false }).logits;
      await logits.data();
      logits.dispose();
    });
    return {
      trainMacsPerSecond: (TRAINING_MACS_PER_FORWARD * forward) / trainSeconds,
      inferMacsPerSecond: forward / inferSeconds,
    };
  } finally {
    fixture.dispose();
  }
}

/** Mean seconds of `work` over as many repetitions as fit CALIBRATION_SECONDS (at least 2). */
async function timeRepeated(work: () => Promise<void>): Promise<number> {
  await work();
  const started = performance.now();
  let count = 0;
  while (count < 2 || performance.now() - started < CALIBRATION_SECONDS * 1000) {
    await work();
    count++;
  }
  return (performance.now() - started) / 1000 / count;
}

/** A run's wall time from its estimated MACs: training phases at the training rate, scoring at inference's. */
export function estimateSeconds(macs: MacsByPhase, rates: StepRates): number {
  return (
    (macs.selectorTraining + macs.targetTraining) / rates.trainMacsPerSecond +
    macs.poolScoring / rates.inferMacsPerSecond
  );
}

/** One calibration a dry run used, for its report. */
export interface Calibration extends Workload, StepRates {
  cached: boolean;
}

export type StepRatesFor = (workload: Workload) => Promise<StepRates & { cached: boolean }>;

/**
 * Estimated seconds of each run, from the rates of its target architecture at its
 * dataset's input and target batch size on the selected backend. Selectors (pruned or
 * proxy networks) are charged at their target's rate: smaller networks usually run
 * fewer MACs per second, so their share is an underestimate.
 */
export async function estimateWallTimes(options: {
  runs: readonly { id: string; config: RunConfig; macs: MacsByPhase }[];
  backend: { backend: string; device: string };
  inputOf: (config: RunConfig) => InputShape;
  stepRates: StepRatesFor;
}): Promise<{ seconds: Map<string, number>; calibrations: Calibration[] }> {
  const calibrations = new Map<string, Calibration>();
  const seconds = new Map<string, number>();
  for (const { id, config, macs } of options.runs) {
    const workload: Workload = {
      ...options.backend,
      arch: config.arch,
      input: options.inputOf(config),
      batch: config.targetTraining.batchSize,
    };
    const key = workloadKey(workload);
    let calibration = calibrations.get(key);
    if (!calibration) {
      calibration = { ...workload, ...(await options.stepRates(workload)) };
      calibrations.set(key, calibration);
    }
    seconds.set(id, estimateSeconds(macs, calibration));
  }
  return { seconds, calibrations: [...calibrations.values()] };
}

/** One line per calibration, on stderr beside a dry run's table. */
export function describeCalibration(c: Calibration): string {
  const { height, width, channels } = c.input;
  const rate = (macsPerSecond: number) => `${(macsPerSecond / 1e9).toPrecision(3)} GMAC/s`;
  return (
    `${c.arch} ${height}x${width}x${channels}, batch ${c.batch}, on ${c.backend} (${c.device}): ` +
    `training ${rate(c.trainMacsPerSecond)}, inference ${rate(c.inferMacsPerSecond)} ` +
    `(${c.cached ? `cached in ${calibrationFile()}` : 'measured now'})`
  );
}
