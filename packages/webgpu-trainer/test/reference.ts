import { tf, useBackend } from '@prunefuse/engine';
import {
  architecture,
  type LayerSpec,
  type ModelSpec,
  networkFromWeights,
} from '@prunefuse/models';
import { type CompiledStepAgreement, compareCompiledStep, type StepCase } from '../src/index.js';

export { seededBatch } from '../src/index.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
export async function webgpuAvailable(): Promise<boolean> {
  try {
    await useBackend('webgpu');
    return true;
  } catch (error) {
    console.warn(`skipping compiled-trainer tests: ${(error as Error).message}`);
    return false;
  }
}

/** The largest relative error of a case's updates, and its loss error, for assertions. */
export function worst(agreement: CompiledStepAgreement): {
  name: string;
  relativeError: number;
  loss: number;
} {
  return { ...agreement.updates[0]!, loss: agreement.loss.relativeError };
}

/** One case on the tfjs cpu backend and through the compiled trainer, compared update by update. */
export function compareWithCpu(c: StepCase): Promise<CompiledStepAgreement> {
  return compareCompiledStep({ ...c, reference: 'cpu' });
}

/**
 * `spec` with other conv widths: `filters(layer, current)` gives each conv's output
 * channels (shapes downstream follow, as in a pruned network).
 */
export function withConvWidths(
  spec: ModelSpec,
  filters: (layer: string, current: number) => number,
): ModelSpec {
  return {
    ...spec,
    layers: spec.layers.map((layer) =>
      layer.kind === 'conv' ? { ...layer, filters: filters(layer.name, layer.filters) } : layer,
    ),
  };
}

/** Counts the GPU buffers the trainer creates and has not destroyed (by their label). */
export function countTrainerBuffers(device: GPUDevice): {
  live: () => number;
  restore: () => void;
} {
  const live = new Set<GPUBuffer>();
  const create = device.createBuffer;
  device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    if (descriptor.label?.startsWith('webgpu-trainer')) {
      live.add(buffer);
      const destroy = buffer.destroy;
      buffer.destroy = function (this: GPUBuffer) {
        live.delete(buffer);
        destroy.call(this);
      };
    }
    return buffer;
  };
  return { live: () => live.size, restore: () => Object.assign(device, { createBuffer: create }) };
}

/**
 * ResNet-18 with torchvision's max pool (3x3, stride 2, 'same') after the stem, at a quarter
 * of its widths (16 to 128: the last stage still spans two 64-wide GEMM tiles) so that the
 * cpu reference stays quick.
 */
export function resnet18WithMaxPool(input: ModelSpec['input']): ModelSpec {
  const spec = withConvWidths(architecture('resnet18', { input, classes: 10 }), (_, f) => f / 4);
  const pool: LayerSpec = {
    kind: 'maxpool',
    name: 'stem.pool',
    input: 'stem.relu',
    size: 3,
    stride: 2,
    padding: 'same',
  };
  const layers = spec.layers.flatMap((layer): LayerSpec[] => {
    if (layer.name === 'stem.relu') return [layer, pool];
    if (layer.kind !== 'add' && layer.input === 'stem.relu')
      return [{ ...layer, input: pool.name }];
    if (layer.kind === 'add') {
      return [{ ...layer, inputs: layer.inputs.map((n) => (n === 'stem.relu' ? pool.name : n)) }];
    }
    return [layer];
  });
  return { ...spec, layers };
}

/** ResNet-20 as pruning leaves it: odd widths, none a multiple of 4. */
export function prunedResNet20(input: ModelSpec['input']): ModelSpec {
  const spec = architecture('resnet20', { input, classes: 10 });
  const outer = [5, 11, 21];
  const inner = [3, 7, 13];
  return withConvWidths(spec, (name) => {
    const stage = /^stage(\d)/.exec(name);
    if (!stage) return outer[0]!;
    const s = Number(stage[1]) - 1;
    return name.endsWith('.conv1') && !name.includes('shortcut') ? inner[s]! : outer[s]!;
  });
}

/**
 * The first two blocks of pre-activation ResNet-164 and its head: a batch norm whose input
 * also feeds the identity shortcut (so its input gradient adds to another), a ReLU output
 * read by two convs, residual additions without a ReLU. The full depth at a small input is
 * too ill-conditioned to compare (the wasm and cpu backends already disagree by 12% on
 * deep-stage updates there).
 */
export function preactStem(input: ModelSpec['input']): ModelSpec {
  const spec = architecture('preact-resnet164', { input, classes: 10 });
  const end = spec.layers.findIndex((l) => l.name === 'stage1.block2.add');
  const head = spec.layers.slice(spec.layers.findIndex((l) => l.name === 'final.bn1'));
  const layers = [
    ...spec.layers.slice(0, end + 1),
    ...head.map((l) => (l.name === 'final.bn1' ? { ...l, input: 'stage1.block2.add' } : l)),
  ];
  return { ...spec, layers };
}

/**
 * Logits and features of `spec` with `weights` on `images` (NHWC, whole examples) in
 * inference mode on the cpu backend, which is left selected; the network built from
 * `weights` is disposed.
 */
export async function cpuInference(
  spec: ModelSpec,
  weights: Map<string, tf.Tensor>,
  images: Float32Array,
): Promise<{ logits: Float32Array; features: Float32Array }> {
  await useBackend('cpu');
  const { height, width, channels } = spec.input;
  const reference = networkFromWeights(spec, weights);
  const x = tf.tensor4d(images, [
    images.length / (height * width * channels),
    height,
    width,
    channels,
  ]);
  const output = reference.apply(x, { training: false });
  try {
    return {
      logits: (await output.logits.data()) as Float32Array,
      features: (await output.features.data()) as Float32Array,
    };
  } finally {
    tf.dispose([x, output.logits, output.features]);
    reference.dispose();
  }
}
