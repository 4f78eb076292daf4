import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { tf } from '../tf.js';
import { DATA_MOVEMENT_WASM, DATA_MOVEMENT_WASM_SHARED } from './data-movement-binary.js';

/** The exports of data-movement.wat; addresses in bytes, sizes and strides in floats. */
interface DataMovementExports {
  transpose(
    input: number,
    output: number,
    batch: number,
    rows: number,
    cols: number,
    inBatch: number,
    inRow: number,
    outBatch: number,
    outCol: number,
  ): void;
  copyRows(
    input: number,
    output: number,
    batch: number,
    rows: number,
    length: number,
    inBatch: number,
    inRow: number,
    outBatch: number,
    outRow: number,
  ): void;
}

/** out[b, j, i] = in[b, i, j]; strides in floats, offsets in floats from each tensor's start. */
export interface TransposeGeometry {
  batch: number;
  rows: number;
  cols: number;
  inBatch: number;
  inRow: number;
  outBatch: number;
  outCol: number;
  inOffset?: number;
  outOffset?: number;
}

/** Rows of `length` floats from in[b, i] to out[b, i]; strides and offsets in floats. */
export interface RowCopyGeometry {
  batch: number;
  rows: number;
  length: number;
  inBatch: number;
  inRow: number;
  outBatch: number;
  outRow: number;
  inOffset?: number;
  outOffset?: number;
}

/** The part of the WebAssembly API used here (the project's TypeScript libs omit the DOM's). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { exports: unknown };
  };
};

/** tfjs-backend-wasm's Emscripten module exposes its memory here (threaded) or on asm (plain). */
interface EmscriptenMemory {
  wasmMemory?: WasmMemory;
  asm?: { memory?: WasmMemory };
}

const instances = new WeakMap<WasmMemory, DataMovementExports>();

function exportsFor(backend: BackendWasm): DataMovementExports {
  const module = backend.wasm as unknown as EmscriptenMemory;
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!memory)
    throw new Error('tfjs-backend-wasm exposes no WebAssembly memory to run data movement on');
  let instance = instances.get(memory);
  if (!instance) {
    const shared =
      typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = Buffer.from(shared ? DATA_MOVEMENT_WASM_SHARED : DATA_MOVEMENT_WASM, 'base64');
    const compiled = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    instance = compiled.exports as unknown as DataMovementExports;
    instances.set(memory, instance);
  }
  return instance;
}

function address(backend: BackendWasm, info: tf.TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

export function transposeInto(
  backend: BackendWasm,
  input: tf.TensorInfo,
  output: tf.TensorInfo,
  g: TransposeGeometry,
): void {
  exportsFor(backend).transpose(
    address(backend, input) + 4 * (g.inOffset ?? 0),
    address(backend, output) + 4 * (g.outOffset ?? 0),
    g.batch,
    g.rows,
    g.cols,
    g.inBatch,
    g.inRow,
    g.outBatch,
    g.outCol,
  );
}

export function copyRowsInto(
  backend: BackendWasm,
  input: tf.TensorInfo,
  output: tf.TensorInfo,
  g: RowCopyGeometry,
): void {
  exportsFor(backend).copyRows(
    address(backend, input) + 4 * (g.inOffset ?? 0),
    address(backend, output) + 4 * (g.outOffset ?? 0),
    g.batch,
    g.rows,
    g.length,
    g.inBatch,
    g.inRow,
    g.outBatch,
    g.outRow,
  );
}
