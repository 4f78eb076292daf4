export { compiledTrainerChosen } from './choice.js';
export {
  compiledKernelBenchCases,
  type KernelBenchOptions,
  kernelBenchCase,
  kernelOps,
  type NamedKernelOp,
  seedKernelOperands,
} from './kernel-bench.js';
export { KernelHarness } from './kernel-harness.js';
export { type KernelOp, kernelOperands, kernelResult, pushKernelOp } from './kernel-ops.js';
export { type GemmTile, tileLabel } from './kernels/gemm.js';
export type { DistillationLoss, LossSpec } from './kernels/loss.js';
export { type TileTable, tileKey } from './kernels/tiles.js';
export { compiledModelBenchCases } from './model-bench.js';
export { type CompiledProfile, type GpuStepTimes, profileCompiledStep } from './profile.js';
export {
  type CompiledStepAgreement,
  compareCompiledStep,
  compiledSteps,
  type StepCase,
  type StepData,
  type StepOutcome,
  seededBatch,
  tfjsSteps,
  type WeightAgreement,
} from './step-check.js';
export {
  CompiledTrainer,
  compileTrainer,
  type DispatchTime,
  type Predictions,
  type TrainerOptions,
  type TrainingBatch,
  type TrainingMetrics,
  webgpuDevice,
} from './trainer.js';
export { TILE_GRID, type TuneResult, tuneConvTiles } from './tune.js';
