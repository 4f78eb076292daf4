import type { InputShape, ModelSpec } from '../spec.js';
import { SpecBuilder } from './spec-builder.js';

/**
 * Pre-activation ResNet with bottleneck blocks (He et al., "Identity Mappings in Deep
 * Residual Networks"), the CIFAR target of SVP: depth 9n+2, three stages of n blocks
 * with bottleneck widths 16/32/64 and outputs 64/128/256. Each block is
 * BN-ReLU-conv1x1, BN-ReLU-conv3x3 (stride), BN-ReLU-conv1x1; a 1x1 projection on the
 * pre-activated input replaces the identity where the shape changes. A final BN-ReLU
 * precedes pooling.
 */
export function preactBottleneckResNet(
  arch: string,
  depth: number,
  input: InputShape,
  classes: number,
): ModelSpec {
  const n = (depth - 2) / 9;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${arch}: pre-activation bottleneck depth must be 9n+2, got ${depth}`);
  const b = new SpecBuilder();
  const bnRelu = (prefix: string, index: number, from: string) =>
    b.relu(`${prefix}.relu${index}`, b.batchnorm(`${prefix}.bn${index}`, from));

  let x = b.conv('stem.conv1', 'input', 16, 3);
  let channels = 16;
  [16, 32, 64].forEach((width, s) => {
    const outChannels = width * 4;
    for (let i = 0; i < n; i++) {
      const prefix = `stage${s + 1}.block${i + 1}`;
      const stride = i === 0 && s > 0 ? 2 : 1;
      const preactivated = bnRelu(prefix, 1, x);
      let y = b.conv(`${prefix}.conv1`, preactivated, width, 1);
      y = b.conv(`${prefix}.conv2`, bnRelu(prefix, 2, y), width, 3, stride);
      y = b.conv(`${prefix}.conv3`, bnRelu(prefix, 3, y), outChannels, 1);
      const shortcut =
        stride !== 1 || channels !== outChannels
          ? b.conv(`${prefix}.shortcut.conv1`, preactivated, outChannels, 1, stride)
          : x;
      x = b.add(`${prefix}.add`, [y, shortcut]);
      channels = outChannels;
    }
  });
  const features = b.globalAvgPool('pool', bnRelu('final', 1, x));
  const logits = b.dense('fc', features, classes);
  return b.build(arch, input, classes, features, logits);
}
