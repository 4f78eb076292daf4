import type { BuiltTarget, TargetContext } from './method.js';

/** The baselines' target: θ from its initial weights, trained on the labelled set. */
export async function scratchTarget(context: TargetContext): Promise<BuiltTarget> {
  const network = context.freshTarget();
  try {
    const outcome = await context.train(network);
    return { ...outcome, network, init: 'scratch', kd: false };
  } catch (error) {
    network.dispose();
    throw error;
  }
}
