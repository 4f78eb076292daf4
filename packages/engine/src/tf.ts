import * as tf from '@tensorflow/tfjs-core';
// Gradients and chained tensor methods, registered against the core imported above (see
// scripts/bundle-tfjs-gradients.mjs, run by `pnpm install`): tfjs-core's Node entry
// carries neither, and the `@tensorflow/tfjs` union package that does would load
// layers, converter, data and the WebGL backend along with them.
import '../generated/tfjs-gradients.mjs';
// The chained methods' types (Tensor.reshape, ...), which the bundle above implements.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
// The reference backend, registered on import as the union package did: every other
// backend is checked against it, and tfjs falls back to it before one is chosen.
import '@tensorflow/tfjs-backend-cpu';

// Production mode silences tfjs's console advice (e.g. the cpu backend's banner about
// tfjs-node), which would otherwise interleave with our own output.
tf.enableProdMode();

export { tf };
