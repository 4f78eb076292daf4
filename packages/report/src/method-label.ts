import type { MethodConfig, MethodName } from '@prunefuse/results';

export { methodLabel, usesAcquisition } from '@prunefuse/results';

/** Table and legend order: the cheap baselines, the expensive reference, the proxies, the upper bound. */
export const METHOD_ORDER: readonly MethodName[] = [
  'random',
  'active-learning',
  'svp',
  'prunefuse',
  'full',
];

/** The init a method's own target starts from: fused from θp* only for PruneFuse with fusion on. */
export function expectedTargetInit(method: MethodConfig): 'fused' | 'scratch' {
  return method.name === 'prunefuse' && method.fusion ? 'fused' : 'scratch';
}
