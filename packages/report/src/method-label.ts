import type { MethodConfig, MethodName } from '@prunefuse/results';

/**
 * The paper's KD settings are unpublished; the harness defaults to these (see
 * paper-summary.md), so a label only mentions λ and T when a run departs from them.
 */
const DEFAULT_KD_LAMBDA = 0.5;
const DEFAULT_KD_TEMPERATURE = 4;

/**
 * The short name of a method with the options that set it apart from its siblings:
 * "prunefuse p=0.5", "prunefuse p=0.5 no-KD", "svp resnet20", "random". Options at the
 * paper's settings are left out so that the common case reads cleanly.
 */
export function methodLabel(method: MethodConfig, options: { omitPrune?: boolean } = {}): string {
  return [method.name, ...methodOptions(method, options.omitPrune ?? false)].join(' ');
}

function methodOptions(method: MethodConfig, omitPrune: boolean): string[] {
  switch (method.name) {
    case 'prunefuse': {
      const parts: string[] = [];
      if (!omitPrune) parts.push(`p=${method.prune}`);
      if (method.criterion !== 'magnitude') parts.push(method.criterion);
      if (!method.fusion) parts.push('no-fusion');
      else if (method.fill !== 'init') parts.push(`fill=${method.fill}`);
      if (!method.kd) parts.push('no-KD');
      else {
        if (method.kdLambda !== DEFAULT_KD_LAMBDA) parts.push(`λ=${method.kdLambda}`);
        if (method.kdTemperature !== DEFAULT_KD_TEMPERATURE)
          parts.push(`T=${method.kdTemperature}`);
      }
      return parts;
    }
    case 'svp':
      return [method.proxyArch];
    default:
      return [];
  }
}

/** random and full never consult the acquisition function, so it does not distinguish their runs. */
export function usesAcquisition(method: MethodName): boolean {
  return method !== 'random' && method !== 'full';
}

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
