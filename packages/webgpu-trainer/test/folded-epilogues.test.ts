import { Rng, relativeError, tf, useBackend } from '@prunefuse/engine';
import {
  architecture,
  INPUT,
  type ModelSpec,
  networkFromWeights,
  initialWeights,
  weightSpecs,
} from '@prunefuse/models';
import { describe, expect, it } from 'vitest';
import { ArenaLayout } from '../src/arena.js';
import { type GraphNode, graphNodes, inferenceNodes, nodeInputs } from '../src/graph.js';
import { compileTrainer } from '../src/index.js';
import { lowerInference } from '../src/lower.js';
import {
  cpuInference,
  preactStem,
  prunedResNet20,
  resnet18WithMaxPool,
  seededBatch,
  webgpuAvailable,
} from './reference.js';

const webgpu = await webgpuAvailable();
const count = (nodes: readonly GraphNode[], kind: GraphNode['kind']) =>
  nodes.filter((n) => n.kind === kind).length;

/** Every tensor a node reads is the model input or produced by an earlier node. */
function expectProducedBeforeRead(spec: ModelSpec, nodes: readonly GraphNode[]): void {
  const produced = new Set<string>([INPUT]);
  for (const node of nodes) {
    for (const name of nodeInputs(node))
      expect(produced, `${node.output} reads ${name}`).toContain(name);
    produced.add(node.output);
  }
  expect(produced).toContain(spec.logits);
  expect(produced).toContain(spec.features);
}

describe('inference graphs with folded conv epilogues', () => {
  const resnet20 = architecture('resnet20', {
    input: { height: 32, width: 32, channels: 3 },
    classes: 10,
  });

  it('fold every batch norm and residual addition of ResNet-20 into a convolution', () => {
    const plain = graphNodes(resnet20);
    const folded = inferenceNodes(resnet20);
    expect(count(folded, 'batchnorm')).toBe(0);
    expect(count(folded, 'add')).toBe(0);
    expect(count(folded, 'conv')).toBe(count(plain, 'conv'));
    expect(folded).toHaveLength(plain.length - count(plain, 'batchnorm') - count(plain, 'add'));
    // 9 blocks: each block's second conv carries its batch norm, the shortcut and the ReLU.
    const withResidual = folded.filter((n) => n.kind === 'conv' && n.epilogue?.residual);
    expect(withResidual).toHaveLength(9);
    for (const node of withResidual) {
      expect(node.kind === 'conv' && node.epilogue).toMatchObject({ relu: true });
    }
    expectProducedBeforeRead(resnet20, folded);
  });

  it('fold the addition of a pre-activation block into its last conv, which has no batch norm', () => {
    const spec = preactStem({ height: 8, width: 8, channels: 3 });
    const folded = inferenceNodes(spec);
    expect(count(folded, 'add')).toBe(0);
    const residual = folded.filter((n) => n.kind === 'conv' && n.epilogue?.residual);
    expect(residual.length).toBe(count(graphNodes(spec), 'add'));
    for (const node of residual) {
      expect(node.kind === 'conv' && node.epilogue).toMatchObject({ batchnorm: null, relu: false });
    }
    // Its batch norms read tensors with two readers (the block input feeds the shortcut too).
    expect(count(folded, 'batchnorm')).toBeGreaterThan(0);
    expectProducedBeforeRead(spec, folded);
  });

  it('leave a conv output alone when the model exposes it or another layer reads it', () => {
    // The stem's batch norm output is exposed as the features: it must be stored.
    const exposed: ModelSpec = { ...resnet20, features: 'stem.bn' };
    const stem = inferenceNodes(exposed).find(
      (n) => n.kind === 'conv' && n.layer.name === 'stem.conv',
    );
    expect(stem?.kind === 'conv' && stem.epilogue).toBeFalsy();
  });

  it('take one dispatch per folded node fewer in the inference plan', () => {
    const arena = new ArenaLayout(resnet20);
    const plain = lowerInference({ spec: resnet20, arena, batch: 4, foldEpilogues: false });
    const folded = lowerInference({ spec: resnet20, arena, batch: 4 });
    const graph = graphNodes(resnet20);
    expect(folded.dispatches.length).toBe(
      plain.dispatches.length - count(graph, 'batchnorm') - count(graph, 'add'),
    );
  });
});

/**
 * Initial weights with every batch norm's γ, β and moving statistics drawn away from the
 * identity (initialisation leaves γ = 1, β = 0, mean 0, variance 1, under which a wrong
 * channel index in the folded map would go unseen).
 */
function weightsWithLiveBatchNorms(spec: ModelSpec, seed: number): Map<string, tf.Tensor> {
  const weights = initialWeights(spec, seed);
  const rng = new Rng(seed);
  for (const weight of weightSpecs(spec)) {
    const draw: Record<string, (() => number) | undefined> = {
      gamma: () => 0.5 + rng.uniform(),
      beta: () => 0.3 * rng.normal(),
      movingMean: () => 0.3 * rng.normal(),
      movingVariance: () => 0.5 + 1.5 * rng.uniform(),
    };
    const value = draw[weight.kind];
    if (!value) continue;
    weights.get(weight.name)!.dispose();
    weights.set(
      weight.name,
      tf.tensor(Array.from({ length: weight.shape[0]! }, value), weight.shape),
    );
  }
  return weights;
}

describe.skipIf(!webgpu)('folded conv epilogues against the cpu backend', () => {
  const cases: { name: string; spec: ModelSpec }[] = [
    {
      name: 'pruned-width ResNet-20 (widths 3 to 21) at 8x8',
      spec: prunedResNet20({ height: 8, width: 8, channels: 3 }),
    },
    {
      name: 'ResNet-18 (quarter widths) with a max pool at 16x16',
      spec: resnet18WithMaxPool({ height: 16, width: 16, channels: 3 }),
    },
    {
      name: 'pre-activation ResNet-164 stem at 8x8',
      spec: preactStem({ height: 8, width: 8, channels: 3 }),
    },
  ];
  for (const { name, spec } of cases) {
    it(`${name}: logits and features of the cpu backend`, async () => {
      const examples = 3;
      const { images } = seededBatch(spec, examples, 11);
      const expected = await cpuInference(spec, weightsWithLiveBatchNorms(spec, 7), images);

      await useBackend('webgpu');
      const network = networkFromWeights(spec, weightsWithLiveBatchNorms(spec, 7));
      const trainer = await compileTrainer(spec, {
        batch: examples,
        optimizer: { momentum: 0.9, weightDecay: 5e-4 },
      });
      await trainer.uploadWeights(network);
      const predictions = await trainer.predict(images);
      trainer.dispose();
      network.dispose();
      expect(relativeError(predictions.logits, expected.logits)).toBeLessThan(1e-4);
      expect(relativeError(predictions.features, expected.features)).toBeLessThan(1e-4);
    }, 600_000);
  }
});
