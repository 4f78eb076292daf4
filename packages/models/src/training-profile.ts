import { type KernelProfile, profileKernels } from '@prunefuse/engine';
import { type TrainingStepOptions, trainingStepFixture } from './training-step.js';

export interface TrainingProfile extends KernelProfile {
  /** Median wall time of an unprofiled step, after warm-up (shader compilation, caches). */
  stepMs: number;
  /**
   * Median host time to issue a step (the synchronous part: autodiff, kernel set-up and
   * GPU command recording), before waiting for the device. Where it is close to stepMs,
   * the host, not the GPU, bounds the step.
   */
  issueMs: number;
  imagesPerSec: number;
}

/**
 * Where a training step's time goes on the active backend: the unprofiled step time, and
 * one profiled step broken down by kernel and GPU program. The gap between stepMs and
 * the summed kernel time is host-side cost: dispatch, uploads, synchronisation.
 */
export async function profileTrainingStep(
  options: TrainingStepOptions & { steps?: number },
): Promise<TrainingProfile> {
  const fixture = trainingStepFixture(options);
  try {
    const once = async () => {
      fixture.step().dispose();
      await fixture.ready();
    };
    await once();
    const steps: number[] = [];
    const issues: number[] = [];
    for (let i = 0; i < (options.steps ?? 5); i++) {
      const start = performance.now();
      fixture.step().dispose();
      issues.push(performance.now() - start);
      await fixture.ready();
      steps.push(performance.now() - start);
    }
    const stepMs = median(steps);
    const profile = await profileKernels(once);
    return {
      ...profile,
      stepMs,
      issueMs: median(issues),
      imagesPerSec: (options.batch * 1000) / stepMs,
    };
  } finally {
    fixture.dispose();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
