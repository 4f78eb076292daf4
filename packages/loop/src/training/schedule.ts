import type { ScheduleName } from '@prunefuse/results';

/**
 * SVP's CIFAR schedule (the one PruneFuse trains with): epochs at lr/10, lr, lr/10, lr/100
 * for 1, 90, 45 and 45 of its 181 epochs.
 */
const SVP_SEGMENTS = [
  { epochs: 1, factor: 0.1 },
  { epochs: 90, factor: 1 },
  { epochs: 45, factor: 0.1 },
  { epochs: 45, factor: 0.01 },
] as const;
const SVP_EPOCHS = 181;

/**
 * PyTorch's OneCycleLR as the issue-18 setting uses it: the rate climbs from lr/25 to lr
 * over the first 15% of the steps and anneals to lr/(25·10⁴) over the rest, both halves
 * cosine (anneal_strategy 'cos', not three-phase). 15% rather than PyTorch's default 30%.
 */
const ONE_CYCLE = { peakAt: 0.15, divFactor: 25, finalDivFactor: 1e4 } as const;

/** Where a step of a run is: its epoch and its step within the epoch (both 0-based). */
export interface SchedulePosition {
  epoch: number;
  step: number;
  /** The run's epochs. */
  epochs: number;
  /** Steps (batches) of every epoch; needed by the per-step 'one-cycle' only. */
  stepsPerEpoch?: number;
}

/**
 * The learning rate of one step, for a peak rate `peakLr`. All but 'one-cycle' set the
 * rate per epoch, so every step of an epoch shares it:
 *
 * - 'constant': peakLr throughout.
 * - 'cosine': peakLr · (1 + cos(π · epoch / epochs)) / 2, PyTorch's CosineAnnealingLR
 *   with T_max = epochs and eta_min = 0, stepped once per epoch.
 * - 'svp-step': SVP's four segments scaled to epochs. Segment s ends (exclusive) at the
 *   nearest integer to epochs · C_s / 181, C = 1, 91, 136, 181 (never a half: 181 is
 *   prime), clamped so that every segment keeps at least one epoch: at 181 epochs this is
 *   SVP's schedule exactly, at 10 epochs 1, 4, 3, 2 epochs. With fewer than 4 epochs the
 *   warm-up is dropped and the epochs go one each to lr, lr/10, lr/100.
 * - 'one-cycle': PyTorch's OneCycleLR over epochs · stepsPerEpoch steps, stepped once per
 *   step (see ONE_CYCLE).
 */
export function learningRateAt(
  schedule: ScheduleName,
  position: SchedulePosition,
  peakLr: number,
): number {
  const { epoch, step, epochs, stepsPerEpoch } = position;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= epochs) {
    throw new RangeError(`epoch must be an integer in 0..${epochs - 1}, got ${epoch}`);
  }
  if (!(peakLr > 0 && Number.isFinite(peakLr))) {
    throw new RangeError(`the learning rate must be a finite number > 0, got ${peakLr}`);
  }
  switch (schedule) {
    case 'constant':
      return peakLr;
    case 'cosine':
      return (peakLr * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
    case 'svp-step': {
      const ends = svpSegmentEnds(epochs);
      const segment = ends.findIndex((end) => epoch < end);
      return peakLr * SVP_SEGMENTS[segment]!.factor;
    }
    case 'one-cycle': {
      if (stepsPerEpoch === undefined || !Number.isInteger(stepsPerEpoch) || stepsPerEpoch < 1) {
        throw new RangeError(
          `'one-cycle' sets the rate per step: it needs stepsPerEpoch, a positive integer, got ${stepsPerEpoch}`,
        );
      }
      if (!Number.isInteger(step) || step < 0 || step >= stepsPerEpoch) {
        throw new RangeError(`step must be an integer in 0..${stepsPerEpoch - 1}, got ${step}`);
      }
      return oneCycleRate(epoch * stepsPerEpoch + step, epochs * stepsPerEpoch, peakLr);
    }
  }
}

/**
 * torch.optim.lr_scheduler.OneCycleLR's rate at step `step` of `total` (its get_lr, in
 * the same double arithmetic). The climb ends at step peakAt·total − 1, which is never 0
 * for a whole `total` (it would need total = 20/3), so neither phase divides by zero.
 */
function oneCycleRate(step: number, total: number, peakLr: number): number {
  const initial = peakLr / ONE_CYCLE.divFactor;
  const final = initial / ONE_CYCLE.finalDivFactor;
  const peakStep = ONE_CYCLE.peakAt * total - 1;
  const lastStep = total - 1;
  const anneal = (from: number, to: number, progress: number) =>
    to + ((from - to) / 2) * (Math.cos(Math.PI * progress) + 1);
  return step <= peakStep
    ? anneal(initial, peakLr, step / peakStep)
    : anneal(peakLr, final, (step - peakStep) / (lastStep - peakStep));
}

/** The exclusive end epoch of each SVP segment, scaled to totalEpochs. */
function svpSegmentEnds(totalEpochs: number): number[] {
  const segments = SVP_SEGMENTS.length;
  if (totalEpochs < segments) {
    // No warm-up: the first totalEpochs of the three main segments get one epoch each.
    return SVP_SEGMENTS.map((_, s) => Math.min(totalEpochs, Math.max(0, s)));
  }
  const ends: number[] = [];
  let cumulative = 0;
  SVP_SEGMENTS.forEach(({ epochs }, s) => {
    cumulative += epochs;
    const proportional = Math.round((totalEpochs * cumulative) / SVP_EPOCHS);
    const earliest = (ends[s - 1] ?? 0) + 1;
    const latest = totalEpochs - (segments - 1 - s);
    ends.push(Math.min(latest, Math.max(earliest, proportional)));
  });
  return ends;
}
