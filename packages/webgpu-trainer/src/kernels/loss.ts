import {
  type Binding,
  type BufferRef,
  type Constants,
  cf,
  cu,
  type Dispatch,
  ELEMENTWISE_THREADS,
  kernelSource,
  u,
  WORKGROUP_SUM,
} from '../wgsl.js';

/**
 * Knowledge distillation (Hinton et al.) as PruneFuse fine-tunes: λ·CE(y, z) +
 * (1 − λ)·T²·KL(softmax(t/T) ‖ softmax(z/T)), each term averaged over the batch.
 */
export interface DistillationLoss {
  kind: 'distillation';
  /** Weight of the hard-label cross-entropy, in [0, 1]. */
  lambda: number;
  temperature: number;
}

export type LossSpec = { kind: 'crossEntropy' } | DistillationLoss;

/** Metrics slots the loss kernel adds to: summed loss, correct predictions, examples. */
export const METRICS = { loss: 0, correct: 1, examples: 2, length: 4 } as const;

/**
 * The batch-mean loss and its gradient with respect to the logits in one kernel (one
 * workgroup; threads stride over the examples), and the step's summed loss, correct
 * count and example count added to `metrics` on the GPU, read back once per epoch.
 * Accuracy counts the first maximal logit as the prediction (tfjs's argMax).
 */
export function lossAndGradient(options: {
  label: string;
  loss: LossSpec;
  batch: number;
  classes: number;
  logits: BufferRef;
  labels: BufferRef;
  teacher: BufferRef | null;
  dLogits: BufferRef;
  metrics: BufferRef;
}): Dispatch {
  const kd = options.loss.kind === 'distillation' ? options.loss : null;
  if (kd && !options.teacher) throw new Error('a distillation loss needs teacher logits');
  const bindings: Binding[] = [
    { name: 'logits', ref: options.logits },
    { name: 'labels', ref: options.labels, type: 'i32' },
    { name: 'dlogits', ref: options.dLogits },
    { name: 'metrics', ref: options.metrics },
  ];
  if (kd) bindings.push({ name: 'teacher', ref: options.teacher! });
  const lambda = kd ? kd.lambda : 1;
  const temperature = kd ? kd.temperature : 1;
  const soft = kd
    ? `
    // Softened distributions of teacher and student, as log-probabilities.
    var tTop = teacher[base] / T;
    for (var c = 1u; c < CLASSES; c++) { tTop = max(tTop, teacher[base + c] / T); }
    var tTotal = 0.0f;
    var sTotal = 0.0f;
    for (var c = 0u; c < CLASSES; c++) {
      tTotal += exp(teacher[base + c] / T - tTop);
      sTotal += exp(logits[base + c] / T - top / T);
    }
    let tLog = log(tTotal) + tTop;
    let sLog = log(sTotal) + top / T;
    var kl = 0.0f;
    for (var c = 0u; c < CLASSES; c++) {
      let lpt = teacher[base + c] / T - tLog;
      let lps = logits[base + c] / T - sLog;
      kl += exp(lpt) * (lpt - lps);
    }
    lossSum += LAMBDA * ce + (1.0f - LAMBDA) * T * T * kl;`
    : `
    lossSum += ce;`;
  const softGradient = kd
    ? ` + (1.0f - LAMBDA) * T * (exp(logits[base + c] / T - sLog) - exp(teacher[base + c] / T - tLog))`
    : '';
  const constants: Constants = {
    B: cu(options.batch),
    CLASSES: cu(options.classes),
    LAMBDA: cf(lambda),
    T: cf(temperature),
  };
  const code = kernelSource(
    bindings,
    constants,
    `${WORKGROUP_SUM}
@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(local_invocation_index) li : u32) {
  loadConstants();
  var lossSum = 0.0f;
  var correct = 0.0f;
  for (var n = li; n < B; n += ${u(ELEMENTWISE_THREADS)}) {
    let base = n * CLASSES;
    var top = logits[base];
    var predicted = 0u;
    for (var c = 1u; c < CLASSES; c++) {
      if (logits[base + c] > top) { top = logits[base + c]; predicted = c; }
    }
    var total = 0.0f;
    for (var c = 0u; c < CLASSES; c++) { total += exp(logits[base + c] - top); }
    let label = u32(labels[n]);
    let ce = log(total) + top - logits[base + label];
    correct += select(0.0f, 1.0f, predicted == label);
    ${soft}
    for (var c = 0u; c < CLASSES; c++) {
      let p = exp(logits[base + c] - top) / total;
      let hard = p - select(0.0f, 1.0f, c == label);
      dlogits[base + c] = (LAMBDA * hard${softGradient}) / f32(B);
    }
  }
  let stepLoss = workgroupSum(li, lossSum);
  let stepCorrect = workgroupSum(li, correct);
  if (li == 0u) {
    metrics[${METRICS.loss}] += stepLoss;
    metrics[${METRICS.correct}] += stepCorrect;
    metrics[${METRICS.examples}] += f32(B);
  }
}`,
  );
  return { label: options.label, code, bindings, constants, workgroups: [1, 1, 1] };
}
