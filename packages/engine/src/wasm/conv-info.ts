import { tf } from '../tf.js';

type Shape4 = [number, number, number, number];

/** Convolution geometry for the gradient kernels, which support NHWC and unit dilation only. */
export function channelsLastConvInfo(
  kernelName: string,
  inputShape: Shape4,
  filterShape: Shape4,
  attrs: {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  },
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(
      `wasm ${kernelName}: dataFormat '${attrs.dataFormat}' is not supported; use 'NHWC' (channels last)`,
    );
  }
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
