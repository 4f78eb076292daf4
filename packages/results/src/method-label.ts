import type { MethodName, RunConfig } from './record.js';

/**
 * PruneFuse's option defaults. The paper does not publish its KD λ and T (see
 * paper-summary.md): the harness defaults to λ = 0.5 (the weight on the hard-label
 * cross-entropy; 1 - λ weighs the distillation term) and T = 4.
 */
export const PRUNEFUSE_DEFAULTS = {
  prune: 0.5,
  criterion: 'magnitude',
  fusion: true,
  kd: true,
  fill: 'init',
  kdLambda: 0.5,
  kdTemperature: 4,
} as const;

/** What a method's label is made from: its config, and the target it selects for. */
export type LabelledMethod = Pick<RunConfig, 'method' | 'arch' | 'targetTraining'>;

/**
 * The options that tell a method's runs apart, e.g. ['p=0.5', 'snip', 'no-KD']. Options at
 * their defaults are left out so that the common case reads cleanly. SVP names which proxy
 * it is: a smaller architecture (the paper's setting, 'resnet20'), training truncated to
 * fewer epochs than the target's ('truncated 10 ep'), or both.
 */
export function methodOptions(
  run: LabelledMethod,
  options: { omitPrune?: boolean } = {},
): string[] {
  const { method } = run;
  switch (method.name) {
    case 'prunefuse': {
      const parts: string[] = [];
      if (!options.omitPrune) parts.push(`p=${method.prune}`);
      if (method.criterion !== PRUNEFUSE_DEFAULTS.criterion) parts.push(method.criterion);
      if (!method.fusion) parts.push('no-fusion');
      else if (method.fill !== PRUNEFUSE_DEFAULTS.fill) parts.push(`fill=${method.fill}`);
      if (!method.kd) parts.push('no-KD');
      else {
        if (method.kdLambda !== PRUNEFUSE_DEFAULTS.kdLambda) parts.push(`λ=${method.kdLambda}`);
        if (method.kdTemperature !== PRUNEFUSE_DEFAULTS.kdTemperature)
          parts.push(`T=${method.kdTemperature}`);
      }
      return parts;
    }
    case 'svp': {
      const parts: string[] = [];
      if (method.proxyArch !== run.arch) parts.push(method.proxyArch);
      const epochs = method.proxyTraining.epochs;
      if (epochs < run.targetTraining.epochs) parts.push(`truncated ${epochs} ep`);
      return parts;
    }
    default:
      return [];
  }
}

/** "prunefuse p=0.5", "prunefuse p=0.5 no-KD", "svp resnet20", "svp truncated 10 ep", "random". */
export function methodLabel(run: LabelledMethod, options: { omitPrune?: boolean } = {}): string {
  return [run.method.name, ...methodOptions(run, options)].join(' ');
}

/** random and full never consult the acquisition function, so it does not distinguish their runs. */
export function usesAcquisition(method: MethodName): boolean {
  return method !== 'random' && method !== 'full';
}

/** One line naming a run for people: method, options, arch, acquisition, seed. */
export function describeRun(config: RunConfig): string {
  const acquisition = usesAcquisition(config.method.name) ? ` ${config.acquisition}` : '';
  return `${methodLabel(config)} ${config.arch}${acquisition} seed ${config.seed}`;
}
