import { deriveSeed } from '@prunefuse/engine';
import { architecture, buildNetwork } from '@prunefuse/models';
import { FrozenWeights, type MethodFactory, scratchTarget } from '@prunefuse/loop';
import type { TrainingConfig } from '@prunefuse/results';

export interface SvpOptions {
  /** The proxy architecture, e.g. 'resnet20' for a resnet56 target. */
  proxyArch: string;
  /** The proxy's own, shorter schedule. */
  proxyTraining: TrainingConfig;
}

/**
 * Selection via proxy (Coleman et al. 2020): a smaller architecture with a shortened
 * schedule selects, retrained from the same initial weights every round; the target is
 * trained from scratch on the selected set and the proxy's weights are thrown away.
 */
export function svpMethod(options: SvpOptions): MethodFactory {
  return ({ dataset, seed }) => {
    const spec = architecture(options.proxyArch, {
      input: dataset.shape,
      classes: dataset.classes,
    });
    const proxy = buildNetwork(spec, deriveSeed(seed, 'proxy-init'));
    const proxyInitial = FrozenWeights.of(proxy);
    proxy.dispose();
    return {
      name: 'svp',
      selector: { spec, training: options.proxyTraining, fresh: () => proxyInitial.network() },
      buildTarget: scratchTarget,
      dispose: () => proxyInitial.dispose(),
    };
  };
}
