import type { MethodConfig, RunConfig } from '@prunefuse/results';
import { PRUNEFUSE_DEFAULTS } from './config/schema.js';

/** The options that tell a method's runs apart, e.g. `p=0.5 snip no-kd`; defaults are left out. */
export function methodOptions(method: MethodConfig): string {
  switch (method.name) {
    case 'prunefuse': {
      const parts = [`p=${method.prune}`];
      if (method.criterion !== PRUNEFUSE_DEFAULTS.criterion) parts.push(method.criterion);
      if (!method.fusion) parts.push('no-fusion');
      else if (method.fill !== PRUNEFUSE_DEFAULTS.fill) parts.push(`fill=${method.fill}`);
      if (!method.kd) parts.push('no-kd');
      else {
        if (method.kdLambda !== PRUNEFUSE_DEFAULTS.kdLambda) parts.push(`λ=${method.kdLambda}`);
        if (method.kdTemperature !== PRUNEFUSE_DEFAULTS.kdTemperature)
          parts.push(`T=${method.kdTemperature}`);
      }
      return parts.join(' ');
    }
    case 'svp':
      return `proxy=${method.proxyArch} ${method.proxyTraining.epochs} epochs`;
    default:
      return '';
  }
}

/** One line naming a run for people: method, options, arch, acquisition, seed. */
export function describeRun(config: RunConfig): string {
  const options = methodOptions(config.method);
  const acquisition =
    config.method.name === 'random' || config.method.name === 'full'
      ? ''
      : ` ${config.acquisition}`;
  return `${config.method.name}${options ? ` ${options}` : ''} ${config.arch}${acquisition} seed ${config.seed}`;
}
