import { DispatchList } from './lower.js';
import { SlotPool } from './memory.js';
import { CompiledPlan, PipelineCache } from './plan.js';
import { BUFFER_LABEL, type BufferRef } from './wgsl.js';

/** 256-byte alignment of storage binding offsets, in floats. */
const ALIGN = 64;

/**
 * One or a few kernels outside a model, over named operands: what the per-kernel
 * benchmarks, the tile tuner and the kernel tests run. Operands live in one buffer bound
 * at aligned offsets (as the trainer's parameter arena is); scratch space the kernels ask
 * for (split-K slices, partial sums) comes from the plan's tensors.
 */
export class KernelHarness {
  private readonly buffer: GPUBuffer;
  private readonly offsets = new Map<string, { offset: number; floats: number }>();
  private readonly pool: SlotPool;
  private readonly pipelines: PipelineCache;
  private plan: CompiledPlan | null = null;

  constructor(
    private readonly device: GPUDevice,
    operands: Readonly<Record<string, number>>,
  ) {
    let offset = 0;
    for (const [name, floats] of Object.entries(operands)) {
      this.offsets.set(name, { offset, floats });
      offset += Math.ceil(Math.max(floats, 1) / ALIGN) * ALIGN;
    }
    this.buffer = device.createBuffer({
      label: `${BUFFER_LABEL} kernel operands`,
      size: offset * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    this.pool = new SlotPool(device, Math.floor(device.limits.maxStorageBufferBindingSize / 4));
    this.pipelines = new PipelineCache(device);
  }

  /** The operand as a kernel binds it. */
  ref(name: string): BufferRef {
    const { offset, floats } = this.operand(name);
    return { kind: 'arena', offset, length: floats };
  }

  /** Creates the pipelines and bind groups of the dispatches `build` pushes. */
  compile(build: (list: DispatchList) => void): void {
    const list = new DispatchList();
    build(list);
    this.plan?.dispose();
    this.plan = new CompiledPlan({
      device: this.device,
      list,
      pool: this.pool,
      pipelines: this.pipelines,
      arena: this.buffer,
      io: {},
    });
  }

  get dispatchCount(): number {
    return this.plan?.dispatchCount ?? 0;
  }

  write(name: string, values: Float32Array): void {
    const { offset, floats } = this.operand(name);
    if (values.length !== floats) {
      throw new RangeError(`operand '${name}' holds ${floats} floats, given ${values.length}`);
    }
    this.device.queue.writeBuffer(this.buffer, offset * 4, values);
  }

  async read(name: string): Promise<Float32Array> {
    const { offset, floats } = this.operand(name);
    const staging = this.device.createBuffer({
      label: `${BUFFER_LABEL} kernel readback`,
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.buffer, offset * 4, staging, 0, floats * 4);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  /**
   * Runs the compiled dispatches `repeats` times in one compute pass and one submission,
   * and resolves when the GPU has finished: with enough repeats, the time per repeat is
   * the kernels' own, not the submission's.
   */
  async run(repeats = 1): Promise<void> {
    if (!this.plan) throw new Error('KernelHarness.run: compile the kernels first');
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let r = 0; r < repeats; r++) this.plan.encode(pass);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  dispose(): void {
    this.plan?.dispose();
    this.plan = null;
    this.pool.dispose();
    this.buffer.destroy();
  }

  private operand(name: string): { offset: number; floats: number } {
    const found = this.offsets.get(name);
    if (!found) {
      throw new Error(`no operand '${name}'; operands: ${[...this.offsets.keys()].join(', ')}`);
    }
    return found;
  }
}
