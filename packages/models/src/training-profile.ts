import { type KernelProfile, profileKernels } from '@prunefuse/engine';
import { type TrainingStepOptions, trainingStepFixture } from './training-step.js';

export interface TrainingProfile extends KernelProfile {
  /** Median wall time of an unprofiled step, after warm-up (shader compilation, caches). */
  stepMs: number;
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
    const times: number[] = [];
    for (let i = 0; i < (options.steps ?? 5); i++) {
      const start = performance.now();
      await once();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const stepMs = times[Math.floor(times.length / 2)]!;
    const profile = await profileKernels(once);
    return { ...profile, stepMs, imagesPerSec: (options.batch * 1000) / stepMs };
  } finally {
    fixture.dispose();
  }
}
