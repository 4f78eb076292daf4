// tfjs-core's Node entry carries neither the gradient definitions nor the chained
// tensor methods; the union package registers both against the same core
// instance, so it is imported once here for its side effects.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';

// Production mode silences tfjs's console advice (e.g. the cpu backend's banner about
// tfjs-node), which would otherwise interleave with our own output.
tf.enableProdMode();

export { tf };
