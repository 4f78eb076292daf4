import { relativeError, tf, useBackend } from '@prunefuse/engine';
import { describe, expect, it } from 'vitest';
import {
  architecture,
  buildNetwork,
  compareTrainingStep,
  compareWithFloat64,
  profileTrainingStep,
  trainingStepFixture,
} from '../src/index.js';
import { DEBIAN_PYTHON, ensurePytorch } from './pytorch-setup.js';

/** Where Dawn finds an adapter (a GPU, or Mesa's llvmpipe on a dev machine). */
const webgpu = await useBackend('webgpu').then(
  () => true,
  () => false,
);

const INPUT = { height: 8, width: 8, channels: 3 };

describe.skipIf(!webgpu)(
  'training on webgpu (fused batch-norm, residual-ReLU and SGD kernels)',
  () => {
    it('a ResNet-20 step gives the cpu backend loss and updated weights', async () => {
      const agreement = await compareTrainingStep({
        arch: 'resnet20',
        input: INPUT,
        batch: 4,
        backend: 'webgpu',
        reference: 'cpu',
      });
      expect(agreement.loss.relativeError).toBeLessThan(1e-5);
      const worst = agreement.updates[0]!;
      expect(worst.relativeError, `worst-matching weight: ${worst.name}`).toBeLessThan(1e-3);
    });

    it('a ResNet-20 step, batch 8 at CIFAR shape, agrees with PyTorch in float64 (ReLUs fixed to its decisions)', async () => {
      ensurePytorch();
      const agreement = await compareWithFloat64({
        arch: 'resnet20',
        input: { height: 32, width: 32, channels: 3 },
        batch: 8,
        backend: 'webgpu',
        python: DEBIAN_PYTHON,
      });
      expect(agreement.loss.relativeError).toBeLessThan(1e-6);
      const worst = agreement.updates[0]!;
      // verify's default tolerance
      expect(worst.relativeError, `worst-matching weight: ${worst.name}`).toBeLessThan(1e-3);
    }, 900_000);

    it('a ResNet-20 step launches under 500 GPU programs (tfjs ops alone: about 1,150)', async () => {
      await useBackend('webgpu');
      const profile = await profileTrainingStep({
        arch: 'resnet20',
        input: INPUT,
        batch: 2,
        steps: 1,
      });
      const calls = new Map(profile.kernels.map((k) => [k.name, k.calls]));
      // 21 batch-norm layers and 65 trainable variables, each on its fused kernels; the 10
      // ReLUs that follow a batch norm run inside it, the 9 after a residual addition with it.
      expect(calls.get('PrunefuseBatchNormMoments')).toBe(21);
      expect(calls.get('PrunefuseSgdDescend')).toBe(65);
      expect(calls.get('PrunefuseAddRelu')).toBe(9);
      expect(calls.get('PrunefuseReluGradient')).toBe(9);
      expect(calls.has('Relu')).toBe(false);
      // 480 on Mesa's llvmpipe at this input size; tfjs's conv programs vary a little with shape.
      expect(profile.dispatches).toBeLessThanOrEqual(490);
    });

    it('leaves no tensor behind across steps', async () => {
      await useBackend('webgpu');
      const fixture = trainingStepFixture({ arch: 'resnet20', input: INPUT, batch: 2 });
      fixture.step().dispose();
      await fixture.ready();
      const tensors = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) fixture.step().dispose();
      await fixture.ready();
      expect(tf.memory().numTensors).toBe(tensors);
      fixture.dispose();
    });

    it('ResNet-20 inference (folded conv + batch norm, fused residual ReLU) gives the cpu logits', async () => {
      const logits: Float32Array[] = [];
      for (const backend of ['cpu', 'webgpu'] as const) {
        await useBackend(backend);
        const network = buildNetwork(architecture('resnet20', { input: INPUT, classes: 10 }), 3);
        const x = tf.tidy(() => tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 5)) as tf.Tensor4D;
        const first = network.apply(x, { training: false });
        tf.dispose([first.logits, first.features]);
        const tensors = tf.memory().numTensors;
        const output = network.apply(x, { training: false });
        logits.push((await output.logits.data()) as Float32Array);
        tf.dispose([output.logits, output.features]);
        expect(tf.memory().numTensors).toBe(tensors);
        x.dispose();
        network.dispose();
      }
      expect(relativeError(logits[1]!, logits[0]!)).toBeLessThan(1e-4);
    });
  },
);
