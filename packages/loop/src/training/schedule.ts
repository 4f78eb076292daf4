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
 * The learning rate of `epoch` (0-based) out of `totalEpochs`, for a peak rate `peakLr`.
 *
 * - 'constant': peakLr throughout.
 * - 'cosine': peakLr · (1 + cos(π · epoch / totalEpochs)) / 2, PyTorch's CosineAnnealingLR
 *   with T_max = totalEpochs and eta_min = 0, stepped once per epoch.
 * - 'svp-step': SVP's four segments scaled to totalEpochs. Segment s ends (exclusive) at
 *   the nearest integer to totalEpochs · C_s / 181, C = 1, 91, 136, 181 (never a half:
 *   181 is prime), clamped so that every segment keeps at least one epoch: at 181 epochs
 *   this is SVP's schedule exactly, at 10 epochs 1, 4, 3, 2 epochs. With fewer than 4
 *   epochs the warm-up is dropped and the epochs go one each to lr, lr/10, lr/100.
 */
export function learningRateAt(
  schedule: ScheduleName,
  epoch: number,
  totalEpochs: number,
  peakLr: number,
): number {
  if (!Number.isInteger(totalEpochs) || totalEpochs < 1) {
    throw new RangeError(`totalEpochs must be a positive integer, got ${totalEpochs}`);
  }
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= totalEpochs) {
    throw new RangeError(`epoch must be an integer in 0..${totalEpochs - 1}, got ${epoch}`);
  }
  if (!(peakLr > 0 && Number.isFinite(peakLr))) {
    throw new RangeError(`the learning rate must be a finite number > 0, got ${peakLr}`);
  }
  switch (schedule) {
    case 'constant':
      return peakLr;
    case 'cosine':
      return (peakLr * (1 + Math.cos((Math.PI * epoch) / totalEpochs))) / 2;
    case 'svp-step': {
      const ends = svpSegmentEnds(totalEpochs);
      const segment = ends.findIndex((end) => epoch < end);
      return peakLr * SVP_SEGMENTS[segment]!.factor;
    }
  }
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
