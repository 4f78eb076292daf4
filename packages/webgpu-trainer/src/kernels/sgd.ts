import { type BufferRef, cf, type Dispatch, elementwise } from '../wgsl.js';

export interface SgdSettings {
  /** Momentum m, 0 <= m < 1. */
  momentum: number;
  /** Coupled L2 weight decay added to every gradient, >= 0. */
  weightDecay: number;
  nesterov: boolean;
}

/**
 * One SGD-momentum update of `count` parameters, as torch.optim.SGD (dampening 0) and
 * @prunefuse/models' SgdMomentum: g' = g + wd·w; v = m·v + g'; w −= lr·v, or with Nesterov
 * w −= lr·(g' + m·v). The learning rate is read from hyper[0], written by the host when it
 * changes, so one compiled plan serves the whole schedule.
 */
export function sgdUpdate(options: {
  label: string;
  count: number;
  settings: SgdSettings;
  params: BufferRef;
  gradients: BufferRef;
  momentum: BufferRef;
  hyper: BufferRef;
}): Dispatch {
  const { momentum, weightDecay, nesterov } = options.settings;
  return elementwise({
    label: options.label,
    count: options.count,
    bindings: [
      { name: 'w', ref: options.params },
      { name: 'g', ref: options.gradients },
      { name: 'v', ref: options.momentum },
      { name: 'hyper', ref: options.hyper },
    ],
    constants: { MOMENTUM: cf(momentum), WEIGHT_DECAY: cf(weightDecay) },
    body: `
    let weight = w[idx];
    let grad = g[idx] + WEIGHT_DECAY * weight;
    let velocity = MOMENTUM * v[idx] + grad;
    v[idx] = velocity;
    w[idx] = weight - hyper[0] * ${nesterov ? '(grad + MOMENTUM * velocity)' : 'velocity'};`,
  });
}
