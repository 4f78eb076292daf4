export {
  type ChannelMap,
  type ChannelMapGroup,
  keptCount,
  prunedSpec,
} from './pruning/channel-map.js';
export {
  type PruningCriterion,
  magnitudeCriterion,
  snipCriterion,
  criterionByName,
} from './pruning/criteria.js';
export { type PrunedNetwork, pruneAtInit } from './pruning/prune-at-init.js';
export { type FuseOptions, fuseInto } from './fusion/fuse-into.js';
export { pruneFuseBenchCases } from './pruning/bench.js';
export {
  type PruneFuseOptions,
  pruneFuseMethod,
  SNIP_BATCH_LIMIT,
} from './methods/prunefuse-method.js';
