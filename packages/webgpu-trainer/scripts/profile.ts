/**
 * Host cost of the compiled trainer: dispatches per training step and host time to encode
 * one, for an architecture at CIFAR shape; with --steps N it also runs N steps and reports
 * images per second (meaningful on a GPU only).
 *
 *   npx tsx --conditions=source scripts/profile.ts [arch=resnet56] [batch=128] [--steps N]
 */
import { Rng, useBackend } from '@prunefuse/engine';
import { architecture, buildNetwork } from '@prunefuse/models';
import { compileTrainer, webgpuDevice } from '../src/index.js';

const args = process.argv.slice(2);
const stepsFlag = args.indexOf('--steps');
const steps = stepsFlag >= 0 ? Number(args.splice(stepsFlag, 2)[1]) : 0;
const [arch = 'resnet56', batchText = '128'] = args;
const batch = Number(batchText);

const device = await useBackend('webgpu');
const input = { height: 32, width: 32, channels: 3 };
const spec = architecture(arch, { input, classes: 10 });
let start = performance.now();
const trainer = await compileTrainer(spec, {
  batch,
  optimizer: { momentum: 0.9, weightDecay: 5e-4 },
});
const compileMs = performance.now() - start;
// Warm-up, then the measurement.
trainer.measureEncode(5);
const encode = trainer.measureEncode(50);
const report: Record<string, unknown> = {
  device,
  arch,
  batch,
  dispatchesPerStep: encode.dispatches,
  hostEncodeMsPerStep: Number(encode.msPerStep.toFixed(3)),
  hostEncodeCpuMsPerStep: Number(encode.cpuMsPerStep.toFixed(3)),
  pipelines: trainer.pipelineCount,
  compileMs: Math.round(compileMs),
  gpuMemoryMiB: Math.round(trainer.memoryBytes / 2 ** 20),
};
if (steps > 0) {
  const network = buildNetwork(spec, 1);
  await trainer.uploadWeights(network);
  network.dispose();
  const rng = new Rng(1);
  const images = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const labels = Int32Array.from({ length: batch }, () => rng.int(0, 9));
  trainer.step({ images, labels, lr: 0.01 });
  await webgpuDevice().queue.onSubmittedWorkDone();
  start = performance.now();
  for (let s = 0; s < steps; s++) trainer.step({ images, labels, lr: 0.01 });
  const metrics = await trainer.readMetrics();
  const seconds = (performance.now() - start) / 1000;
  report.steps = steps;
  report.msPerStep = Number(((seconds * 1000) / steps).toFixed(2));
  report.imagesPerSecond = Math.round((steps * batch) / seconds);
  report.meanLoss = metrics.loss;
}
trainer.dispose();
console.log(JSON.stringify(report, null, 2));
