/**
 * Per-channel mean and standard deviation of NHWC uint8 images on the 0..1 scale,
 * exact in double precision: a per-channel histogram of byte values is counted in one
 * pass, then the moments come from 256 bins rather than from millions of additions.
 */
export function channelMeanStd(
  images: Uint8Array,
  channels: number,
): { mean: number[]; std: number[] } {
  const histogram = new Float64Array(channels * 256);
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) histogram[c * 256 + images[i + c]!]!++;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let count = 0;
    let sum = 0;
    let squares = 0;
    for (let v = 0; v < 256; v++) {
      const n = histogram[c * 256 + v]!;
      const x = v / 255;
      count += n;
      sum += n * x;
      squares += n * x * x;
    }
    const m = count === 0 ? 0 : sum / count;
    mean.push(m);
    std.push(count === 0 ? 0 : Math.sqrt(Math.max(0, squares / count - m * m)));
  }
  return { mean, std };
}

/** How many labels of each class 0..classes-1. */
export function classCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
