export { entropy, leastConfidence, margin } from './uncertainty.js';
export { topK } from './top-k.js';
export { randomSelection } from './random-selection.js';
export { type KCenterOptions, kCenterGreedy } from './k-center-greedy.js';
export { spearman, topKOverlap } from './rank-agreement.js';
export { type AcquisitionInput, acquire } from './acquire.js';
export { selectionBenchCases } from './bench.js';
