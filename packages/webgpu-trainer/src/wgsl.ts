/**
 * What a compiled plan binds: a range of the parameter arena, a plan tensor (an activation,
 * gradient or scratch buffer placed by liveness), or one of the plan's own host-written or
 * host-read buffers.
 */
export type BufferRef =
  | { kind: 'arena'; offset: number; length: number }
  | { kind: 'tensor'; id: number }
  | { kind: 'io'; name: IoBuffer };

/** Buffers a plan owns outright: written or read by the host, never reused by liveness. */
export type IoBuffer =
  | 'images'
  | 'labels'
  | 'teacher'
  | 'metrics'
  | 'hyper'
  | 'logits'
  | 'probabilities'
  | 'features';

/** A binding's element: vec4<f32> for operands a kernel reads four floats at a time. */
export type ElementType = 'f32' | 'i32' | 'u32' | 'vec4<f32>';

export interface Binding {
  /** The WGSL name the kernel body uses. */
  name: string;
  ref: BufferRef;
  type?: ElementType;
}

/** A scalar a kernel reads from its plan's uniform buffer. */
export interface Constant {
  type: 'u32' | 'i32' | 'f32';
  value: number;
}

export type Constants = Record<string, Constant>;

export const cu = (value: number): Constant => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`not a u32: ${value}`);
  }
  return { type: 'u32', value };
};
export const ci = (value: number): Constant => {
  if (!Number.isInteger(value)) throw new RangeError(`not an i32: ${value}`);
  return { type: 'i32', value };
};
export const cf = (value: number): Constant => {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite float: ${value}`);
  return { type: 'f32', value };
};

/**
 * One dispatch of a plan: its WGSL, what it binds, its workgroup grid, and the shape
 * values and hyper-parameters it reads. Those values are written once, when the plan is
 * compiled, into the plan's uniform buffer, so that the code (and its pipeline, keyed by
 * the code) is shared by every layer of the same kind whatever its widths or batch size:
 * a ResNet needs a few dozen pipelines, not one per layer, which matters most where
 * shaders are compiled on the CPU (Mesa's llvmpipe JIT-compiles each for seconds).
 */
export interface Dispatch {
  label: string;
  code: string;
  bindings: Binding[];
  constants: Constants;
  workgroups: [number, number, number];
}

/**
 * Module-scope WGSL giving each constant as a private variable of its name, filled from
 * the uniform block (binding after the storage bindings) by `loadConstants()`, which every
 * entry point calls first.
 */
export function constantDeclarations(constants: Constants, binding: number): string {
  const entries = Object.entries(constants);
  if (entries.length === 0) return 'fn loadConstants() {}';
  return `struct Constants { ${entries.map(([name, c]) => `${name} : ${c.type}`).join(', ')} }
@group(0) @binding(${binding}) var<uniform> constantBlock : Constants;
${entries.map(([name, c]) => `var<private> ${name} : ${c.type};`).join('\n')}
fn loadConstants() {
  ${entries.map(([name]) => `${name} = constantBlock.${name};`).join('\n  ')}
}`;
}

/** The full WGSL of a kernel: storage bindings, the constants block, then `body`. */
export function kernelSource(
  bindings: readonly Binding[],
  constants: Constants,
  body: string,
): string {
  return `${declarations(bindings)}
${constantDeclarations(constants, bindings.length)}
${body}`;
}

/**
 * Every binding is read_write storage: a buffer bound read-only and writable in one
 * dispatch is a usage conflict in WebGPU, and parameters, gradients and momentum share
 * one arena buffer (in disjoint ranges, which writable bindings may).
 */
export function declarations(bindings: readonly Binding[]): string {
  return bindings
    .map(
      (b, i) =>
        `@group(0) @binding(${i}) var<storage, read_write> ${b.name} : array<${b.type ?? 'f32'}>;`,
    )
    .join('\n');
}

/** A WGSL u32 literal. */
export const u = (value: number): string => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`not a u32: ${value}`);
  }
  return `${value}u`;
};

/** The label prefix of every GPU buffer the trainer creates (tests count them by it). */
export const BUFFER_LABEL = 'webgpu-trainer';

/** Threads per workgroup of the one-thread-per-element kernels. */
export const ELEMENTWISE_THREADS = 256;
/** Workgroups an elementwise dispatch is capped at; threads then loop over the rest. */
const MAX_ELEMENTWISE_GROUPS = 16_384;

/**
 * A kernel over `count` elements: `body` runs once per index `idx` (a u32), grid-stride
 * so that any count fits the workgroup-count limit.
 */
export function elementwise(options: {
  label: string;
  count: number;
  bindings: Binding[];
  constants?: Constants;
  body: string;
  /** Module-scope WGSL (helper functions). */
  prelude?: string;
}): Dispatch {
  const groups = Math.min(Math.ceil(options.count / ELEMENTWISE_THREADS), MAX_ELEMENTWISE_GROUPS);
  const constants: Constants = {
    COUNT: cu(options.count),
    GRID: cu(Math.max(groups, 1) * ELEMENTWISE_THREADS),
    ...options.constants,
  };
  const code = kernelSource(
    options.bindings,
    constants,
    `${options.prelude ?? ''}
@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  loadConstants();
  for (var idx = gid.x; idx < COUNT; idx += GRID) {
    ${options.body}
  }
}`,
  );
  return {
    label: options.label,
    code,
    bindings: options.bindings,
    constants,
    workgroups: [Math.max(groups, 1), 1, 1],
  };
}

/**
 * Module-scope helper for kernels with one workgroup of ELEMENTWISE_THREADS threads
 * cooperating on a reduction: `workgroupSum(li, v)` returns the sum of every thread's `v`
 * (call it from uniform control flow).
 */
export const WORKGROUP_SUM = `
var<workgroup> partials : array<f32, ${ELEMENTWISE_THREADS}>;
fn workgroupSum(li : u32, value : f32) -> f32 {
  partials[li] = value;
  workgroupBarrier();
  for (var s = ${u(ELEMENTWISE_THREADS / 2)}; s > 0u; s = s >> 1u) {
    if (li < s) { partials[li] = partials[li] + partials[li + s]; }
    workgroupBarrier();
  }
  let total = partials[0];
  workgroupBarrier();
  return total;
}`;
