import type { InputShape, ModelSpec } from '../spec.js';
import { preactBottleneckResNet } from './preact-resnet.js';
import { cifarResNetDesign, imagenetResNetDesign, resnet } from './resnet.js';

export interface ArchitectureOptions {
  input: InputShape;
  classes: number;
}

type Factory = (name: string, options: ArchitectureOptions) => ModelSpec;

const cifar =
  (depth: number, widths?: [number, number, number]): Factory =>
  (name, { input, classes }) =>
    resnet(cifarResNetDesign(name, depth, widths), input, classes);

const ARCHITECTURES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  // ResNet-8: one basic block per stage at 16/32/64, the smallest member of the CIFAR family
  // and the SVP proxy that shares ResNet-20's stem, stage widths and projection shortcuts.
  ['resnet8', cifar(8)],
  ['resnet20', cifar(20)],
  ['resnet32', cifar(32)],
  ['resnet44', cifar(44)],
  ['resnet56', cifar(56)],
  ['resnet110', cifar(110)],
  [
    'preact-resnet164',
    (name, { input, classes }) => preactBottleneckResNet(name, 164, input, classes),
  ],
  [
    'resnet18',
    (name, { input, classes }) =>
      resnet(imagenetResNetDesign(name, 'basic', [2, 2, 2, 2]), input, classes),
  ],
  [
    'resnet50',
    (name, { input, classes }) =>
      resnet(imagenetResNetDesign(name, 'bottleneck', [3, 4, 6, 3]), input, classes),
  ],
  // ResNet-8 at widths 8/16/32 (~20k parameters, ~2.4 M MACs at 28x28): small enough that
  // an MNIST active-learning run retrains it many times on two CPU cores, yet every
  // stage has a residual addition, one of them through a projection.
  ['resnet8-digits', cifar(8, [8, 16, 32])],
]);

/** Names `architecture` accepts. */
export function architectureNames(): string[] {
  return [...ARCHITECTURES.keys()];
}

/** The spec of a named architecture for the given input shape and class count. */
export function architecture(name: string, options: ArchitectureOptions): ModelSpec {
  const factory = ARCHITECTURES.get(name);
  if (!factory) {
    throw new Error(`unknown architecture '${name}'; known: ${architectureNames().join(', ')}`);
  }
  if (!Number.isInteger(options.classes) || options.classes < 1) {
    throw new Error(`${name}: classes must be a positive integer, got ${options.classes}`);
  }
  return factory(name, options);
}
