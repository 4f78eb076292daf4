import type { tf } from '../tf.js';

/**
 * The structural interface tfjs-backend-webgpu compiles and dispatches (its
 * WebGPUProgram, which the package does not export): the backend writes the bindings
 * (`result`, one read-only array per variable name), a `uniforms` struct with each
 * input's and the output's shape and strides plus `uniforms`, and the entry point that
 * calls the program's `main`.
 */
export interface WebgpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Extra uniform fields, WGSL struct syntax ending in commas. */
  uniforms?: string;
  /** Adds a `size` uniform (the output's element count). */
  size?: boolean;
  getUserCode(): string;
}

export type ProgramUniform = { type: 'int32' | 'float32' | 'uint32'; data: number[] }[];

/** The methods of tfjs's WebGPUBackend that our kernels call. */
export interface WebgpuBackend {
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: ProgramUniform,
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * One thread per element of an output of any rank: tfjs then calls `main(index)` with the
 * flat index (guard it with `uniforms.size`; tfjs spreads large dispatches over y).
 */
const flatLayout = (shape: readonly number[]): { x: number[] } => ({
  x: shape.map((_, i) => i),
});

const ELEMENTWISE_THREADS = 256;

/** A program with one thread per output element (see runElementwise). */
class ElementwiseProgram implements WebgpuProgram {
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ELEMENTWISE_THREADS, 1, 1];
  size = true;

  constructor(
    public shaderKey: string,
    readonly variableNames: string[],
    shape: readonly number[],
    private readonly body: string,
    readonly uniforms?: string,
  ) {
    this.outputShape = [...shape];
    this.dispatchLayout = flatLayout(shape);
    this.dispatch = [Math.ceil(sizeOf(shape) / ELEMENTWISE_THREADS), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${this.body}
          setOutputAtIndex(index, value);
        }
      }
    `;
  }
}

export interface ElementwiseSpec {
  /** Names the body: tfjs caches compiled pipelines by it (and by the bindings' ranks). */
  key: string;
  /** The bindings by the names the body reads them by, as flat arrays; undefined ones are left out. */
  inputs: Readonly<Record<string, tf.TensorInfo | undefined>>;
  /** The output's shape, rank >= 1; float32. */
  shape: readonly number[];
  /** WGSL that sets `value` from the flat `index`, the bindings and `uniforms.NAME`. */
  body: string;
  uniforms?: Readonly<Record<string, readonly ['i32' | 'f32', number]>>;
}

/** Runs one thread per element of the output, computing `body` at each. */
export function runElementwise(backend: WebgpuBackend, spec: ElementwiseSpec): tf.TensorInfo {
  const bound = Object.entries(spec.inputs).filter(
    (entry): entry is [string, tf.TensorInfo] => entry[1] !== undefined,
  );
  const uniforms = Object.entries(spec.uniforms ?? {});
  const program = new ElementwiseProgram(
    spec.key,
    bound.map(([name]) => name),
    spec.shape,
    spec.body,
    uniforms.length > 0
      ? uniforms.map(([name, [type]]) => `${name} : ${type},`).join(' ')
      : undefined,
  );
  return backend.runWebGPUProgram(
    program,
    bound.map(([, tensor]) => tensor),
    'float32',
    uniforms.map(([, [type, value]]) => ({
      type: type === 'i32' ? 'int32' : 'float32',
      data: [value],
    })),
  );
}
