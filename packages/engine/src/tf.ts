// tfjs-core's Node entry carries neither the gradient definitions nor the chained
// tensor methods; the union package registers both against the same core
// instance, so it is imported once here for its side effects.
import '@tensorflow/tfjs';

export * as tf from '@tensorflow/tfjs-core';
