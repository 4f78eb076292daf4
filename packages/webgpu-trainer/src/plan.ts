import type { DispatchList } from './lower.js';
import type { SlotPool } from './memory.js';
import { BUFFER_LABEL, type BufferRef, type IoBuffer } from './wgsl.js';

/** Compute pipelines by WGSL source: shapes are baked into the code, so equal code is equal work. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get(code: string, label: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: this.device.createShaderModule({ label, code }), entryPoint: 'main' },
      });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }

  get size(): number {
    return this.pipelines.size;
  }
}

interface Encoded {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/**
 * A dispatch list made concrete once: every pipeline and bind group created, every tensor
 * placed in a pool slot. Replaying it is only setPipeline / setBindGroup / dispatch per
 * entry, into a pass the caller owns.
 */
export class CompiledPlan {
  private readonly entries: Encoded[];
  /** Every dispatch's constants, each block at a 256-byte-aligned offset. */
  private readonly uniforms: GPUBuffer | null;
  /** The list's kept tensors: where each lies after a replay, until another plan runs. */
  readonly kept = new Map<string, { buffer: GPUBuffer; floats: number }>();

  constructor(options: {
    device: GPUDevice;
    list: DispatchList;
    pool: SlotPool;
    pipelines: PipelineCache;
    arena: GPUBuffer;
    io: Partial<Record<IoBuffer, GPUBuffer>>;
  }) {
    const { device, list, pool, pipelines, arena, io } = options;
    const slots = pool.place(list);
    for (const [name, id] of list.kept) {
      this.kept.set(name, { buffer: slots[id]!, floats: list.tensorSizes[id]! });
    }
    const resource = (ref: BufferRef): GPUBufferBinding => {
      switch (ref.kind) {
        case 'arena':
          return { buffer: arena, offset: ref.offset * 4, size: ref.length * 4 };
        case 'tensor':
          return { buffer: slots[ref.id]!, offset: 0, size: list.tensorSizes[ref.id]! * 4 };
        case 'io': {
          const buffer = io[ref.name];
          if (!buffer) throw new Error(`the plan binds '${ref.name}', which it was not given`);
          return { buffer };
        }
      }
    };
    const blocks = packConstants(list);
    this.uniforms =
      blocks.data.byteLength > 0
        ? device.createBuffer({
            label: `${BUFFER_LABEL} constants`,
            size: blocks.data.byteLength,
            usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
          })
        : null;
    if (this.uniforms) device.queue.writeBuffer(this.uniforms, 0, blocks.data);
    this.entries = list.dispatches.map((dispatch, d) => {
      const pipeline = pipelines.get(dispatch.code, dispatch.label);
      const entries: GPUBindGroupEntry[] = dispatch.bindings.map((binding, index) => ({
        binding: index,
        resource: resource(binding.ref),
      }));
      const block = blocks.ranges[d]!;
      if (block.size > 0) {
        entries.push({
          binding: dispatch.bindings.length,
          resource: { buffer: this.uniforms!, offset: block.offset, size: block.size },
        });
      }
      const bindGroup = device.createBindGroup({
        label: dispatch.label,
        layout: pipeline.getBindGroupLayout(0),
        entries,
      });
      return { label: dispatch.label, pipeline, bindGroup, workgroups: dispatch.workgroups };
    });
  }

  get dispatchCount(): number {
    return this.entries.length;
  }

  /** The dispatch labels in order (for profiles and tests). */
  get labels(): string[] {
    return this.entries.map((e) => e.label);
  }

  dispose(): void {
    this.uniforms?.destroy();
  }

  /** Each dispatch's label and pipeline, in order (pipelines are shared across plans). */
  get dispatches(): { label: string; pipeline: GPUComputePipeline }[] {
    return this.entries.map(({ label, pipeline }) => ({ label, pipeline }));
  }

  /**
   * Each dispatch in a compute pass of its own whose beginning and end write the
   * timestamps `timestamps(i)` names (for profiles: Dawn orders the dispatches of one pass
   * anyway, so separate passes add no waiting of their own).
   */
  encodeTimed(
    encoder: GPUCommandEncoder,
    timestamps: (dispatch: number) => GPUComputePassTimestampWrites,
  ): void {
    this.entries.forEach(({ label, pipeline, bindGroup, workgroups }, i) => {
      const pass = encoder.beginComputePass({ label, timestampWrites: timestamps(i) });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
      pass.end();
    });
  }

  encode(pass: GPUComputePassEncoder): void {
    // Each call crosses into Dawn (and, in Node, the N-API boundary): skip repeated pipelines.
    let current: GPUComputePipeline | null = null;
    for (const { pipeline, bindGroup, workgroups } of this.entries) {
      if (pipeline !== current) pass.setPipeline(pipeline);
      current = pipeline;
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
  }
}

/** WebGPU's minUniformBufferOffsetAlignment on every adapter we target. */
const UNIFORM_ALIGN = 256;

/** Every dispatch's constants as one byte array, each block 256-aligned, 16-byte padded. */
function packConstants(list: DispatchList): {
  data: Uint8Array;
  ranges: { offset: number; size: number }[];
} {
  let offset = 0;
  const ranges = list.dispatches.map((dispatch) => {
    const count = Object.keys(dispatch.constants).length;
    const size = Math.ceil((count * 4) / 16) * 16;
    const range = { offset, size };
    if (size > 0) offset += Math.ceil(size / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    return range;
  });
  const data = new Uint8Array(offset);
  const view = new DataView(data.buffer);
  list.dispatches.forEach((dispatch, d) => {
    Object.values(dispatch.constants).forEach((constant, k) => {
      const at = ranges[d]!.offset + 4 * k;
      if (constant.type === 'f32') view.setFloat32(at, constant.value, true);
      else if (constant.type === 'i32') view.setInt32(at, constant.value, true);
      else view.setUint32(at, constant.value, true);
    });
  });
  return { data, ranges };
}
