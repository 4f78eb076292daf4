import { tf } from '@prunefuse/engine';
import { activationShapes, type ModelSpec, type Network } from '@prunefuse/models';
import { ArenaLayout } from './arena.js';
import { type LossSpec, METRICS } from './kernels/loss.js';
import type { SgdSettings } from './kernels/sgd.js';
import { lowerInference, lowerTrainingStep } from './lower.js';
import { SlotPool } from './memory.js';
import { CompiledPlan, PipelineCache } from './plan.js';
import { BUFFER_LABEL, type IoBuffer } from './wgsl.js';

export interface TrainerOptions {
  /** The full batch size; smaller (last, partial) batches get plans of their own. */
  batch: number;
  /** Cross-entropy unless given. */
  loss?: LossSpec;
  optimizer: { momentum: number; weightDecay: number; nesterov?: boolean };
  /**
   * With a distillation loss: the teacher, compiled too, whose inference then runs inside
   * every step on the same images, in the same submission; steps take no teacherLogits and
   * nothing is read back. Dispose the student before the teacher.
   */
  teacher?: CompiledTrainer;
  /**
   * Layer outputs (activation names, e.g. ReLU layers) that a training step keeps to its
   * end, for readKept: what a numerical check needs of the step's forward pass. Costs
   * memory (they no longer share slots after their last use); leave it out for training.
   */
  keep?: readonly string[];
}

export interface TrainingBatch {
  /** NHWC pixels, [examples, height, width, channels] flattened. */
  images: Float32Array;
  /** Class per example, in [0, classes). */
  labels: Int32Array;
  /** [examples, classes] teacher logits: a distillation loss needs them unless a teacher was compiled in. */
  teacherLogits?: Float32Array;
  /** Learning rate of this step. */
  lr: number;
}

/** Means over the examples trained on since the last read. */
export interface TrainingMetrics {
  loss: number;
  accuracy: number;
  examples: number;
}

export interface Predictions {
  /** [examples, classes]. */
  logits: Float32Array;
  /** [examples, classes], softmax of the logits. */
  probabilities: Float32Array;
  /** [examples, features]: the spec's penultimate layer (k-centres embeddings). */
  features: Float32Array;
}

/** GPU time of one dispatch of a profiled step. */
export interface DispatchTime {
  /** The dispatch's label: '<layer>:<what>', 'loss', 'sgd'. */
  label: string;
  /** Which compute pipeline ran it, numbered by first use in the step. */
  pipeline: number;
  ms: number;
}

/** Queries in one timestamp query set: WebGPU's limit. */
const QUERY_SET_SIZE = 4096;

/** Storage the host writes and copies from (a function: GPUBufferUsage exists once Dawn is loaded). */
const storageUsage = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/**
 * The GPUDevice of the active tfjs webgpu backend, so that weights move between tfjs
 * variables and the trainer's arena by GPU copies.
 */
export function webgpuDevice(): GPUDevice {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (tf.getBackend() !== 'webgpu' || !device) {
    throw new Error(
      `the compiled trainer runs on the webgpu backend, but the active backend is '${tf.getBackend()}': ` +
        "call useBackend('webgpu') first",
    );
  }
  return device;
}

/**
 * A ModelSpec compiled for the webgpu backend: training steps and inference replayed from
 * fixed dispatch lists over persistent GPU memory (see compileTrainer).
 */
export class CompiledTrainer {
  readonly arena: ArenaLayout;
  private readonly device: GPUDevice;
  private readonly arenaBuffer: GPUBuffer;
  private readonly metrics: GPUBuffer;
  private readonly hyper: GPUBuffer;
  private readonly pool: SlotPool;
  private readonly pipelines: PipelineCache;
  private readonly trainingPlans = new Map<
    number,
    { plan: CompiledPlan; io: GPUBuffer[]; teacherPlan: CompiledPlan | null }
  >();
  /** Inference plans a student's steps run, by the student's images buffer (see teacher). */
  private readonly linkedPlans = new Map<GPUBuffer, { plan: CompiledPlan; outputs: GPUBuffer[] }>();
  private readonly inferencePlans = new Map<
    number,
    { plan: CompiledPlan; io: Record<'images' | OutputName, GPUBuffer>; staging: GPUBuffer }
  >();
  private readonly loss: LossSpec;
  private readonly sgd: SgdSettings;
  /** Validation of plans compiled on demand, surfaced at the next read-back. */
  private readonly validations: Promise<GPUError | null>[] = [];
  private learningRate: number | null = null;
  private readonly pixels: number;
  /** Floats of one example's penultimate features. */
  private readonly features: number;
  private disposed = false;

  constructor(
    readonly spec: ModelSpec,
    private readonly options: TrainerOptions,
  ) {
    const { batch, optimizer } = options;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new RangeError(`batch must be a positive integer, got ${batch}`);
    }
    const { momentum, weightDecay, nesterov = false } = optimizer;
    if (!(momentum >= 0 && momentum < 1))
      throw new RangeError(`momentum must be in [0, 1), got ${momentum}`);
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw new RangeError(`weightDecay must be a finite number >= 0, got ${weightDecay}`);
    }
    if (nesterov && momentum === 0) {
      throw new RangeError('nesterov needs a momentum > 0 (with momentum 0 there is no velocity)');
    }
    this.loss = options.loss ?? { kind: 'crossEntropy' };
    if (this.loss.kind === 'distillation') {
      const { lambda, temperature } = this.loss;
      if (!(lambda >= 0 && lambda <= 1))
        throw new RangeError(`KD lambda must be in [0, 1], got ${lambda}`);
      if (!(temperature > 0 && Number.isFinite(temperature))) {
        throw new RangeError(`KD temperature must be a finite number > 0, got ${temperature}`);
      }
    }
    this.sgd = { momentum, weightDecay, nesterov };
    const { teacher } = options;
    if (teacher) {
      const same = (a: ModelSpec, b: ModelSpec) =>
        a.classes === b.classes && JSON.stringify(a.input) === JSON.stringify(b.input);
      if (this.loss.kind !== 'distillation') {
        throw new Error(`${spec.arch}: a teacher is only used with a distillation loss`);
      }
      if (!same(teacher.spec, spec)) {
        throw new Error(
          `${spec.arch}: the teacher (${teacher.spec.arch}) must take the same input shape and classes`,
        );
      }
    }
    this.device = webgpuDevice();
    this.arena = new ArenaLayout(spec);
    this.pixels = spec.input.height * spec.input.width * spec.input.channels;
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    if (this.arena.trainable * 4 > maxBinding) {
      throw new Error(
        `${spec.arch}: ${this.arena.trainable * 4} bytes of parameters exceed this adapter's ` +
          `maxStorageBufferBindingSize (${maxBinding} bytes)`,
      );
    }
    this.arenaBuffer = this.buffer(this.arena.size, 'arena');
    this.metrics = this.buffer(METRICS.length, 'metrics');
    this.hyper = this.buffer(4, 'hyper-parameters');
    this.pool = new SlotPool(this.device, Math.floor(maxBinding / 4));
    this.pipelines = new PipelineCache(this.device);
    this.features = sizeOf(activationShapes(spec).get(spec.features)!);
    this.trainingPlan(batch);
  }

  /** Dispatches in one training step at the full batch size. */
  get dispatchesPerStep(): number {
    return this.trainingPlan(this.options.batch).plan.dispatchCount;
  }

  /** Compute pipelines created so far (shared by all plans). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Bytes of GPU memory held: arena plus activation slots. */
  get memoryBytes(): number {
    return this.arena.size * 4 + this.pool.size;
  }

  /**
   * Copies every weight of `network` (same spec) into the arena and zeroes the momentum:
   * training continues from these weights with a fresh optimiser. Weights already on the
   * GPU move by GPU copies; weights tfjs still holds on the host are written from there.
   */
  async uploadWeights(network: Network): Promise<void> {
    this.check();
    const encoder = this.device.createCommandEncoder({ label: 'upload weights' });
    const references: tf.Tensor[] = [];
    for (const [name, weight] of this.arena.weights) {
      const variable = this.variable(network, name, weight.spec.shape);
      const offset = weight.offset * 4;
      const onGpu = gpuData(variable);
      if (onGpu) {
        references.push(onGpu.tensorRef);
        encoder.copyBufferToBuffer(onGpu.buffer, 0, this.arenaBuffer, offset, weight.length * 4);
      } else {
        this.device.queue.writeBuffer(
          this.arenaBuffer,
          offset,
          (await variable.data()) as Float32Array,
        );
      }
    }
    encoder.clearBuffer(this.arenaBuffer, this.arena.momentum * 4, this.arena.trainable * 4);
    this.device.queue.submit([encoder.finish()]);
    tf.dispose(references);
  }

  /**
   * The momentum of every trainable value, in the arena's order (uploadWeights zeroes it):
   * with the weights, what a training resumed after an epoch needs to go on exactly.
   */
  async readMomentum(): Promise<Float32Array> {
    this.check();
    return this.readBuffer(this.arenaBuffer, this.arena.trainable, {
      clear: false,
      offset: this.arena.momentum,
    });
  }

  /** Sets the momentum to what readMomentum returned for a trainer of the same spec. */
  writeMomentum(values: Float32Array): void {
    this.check();
    if (values.length !== this.arena.trainable) {
      throw new RangeError(
        `${this.spec.arch}: expected ${this.arena.trainable} momentum values, got ${values.length}`,
      );
    }
    this.device.queue.writeBuffer(this.arenaBuffer, this.arena.momentum * 4, values);
  }

  /** Assigns the arena's weights (moving statistics included) to `network`'s variables. */
  downloadWeights(network: Network): void {
    this.check();
    const encoder = this.device.createCommandEncoder({ label: 'download weights' });
    const copies: { variable: tf.Variable; buffer: GPUBuffer; shape: number[] }[] = [];
    for (const [name, weight] of this.arena.weights) {
      const variable = this.variable(network, name, weight.spec.shape);
      const buffer = this.device.createBuffer({
        label: `${BUFFER_LABEL} download`,
        size: weight.length * 4,
        usage: storageUsage(),
      });
      encoder.copyBufferToBuffer(this.arenaBuffer, weight.offset * 4, buffer, 0, weight.length * 4);
      copies.push({ variable, buffer, shape: weight.spec.shape });
    }
    this.device.queue.submit([encoder.finish()]);
    for (const { variable, buffer, shape } of copies) {
      // tfjs copies the buffer into its own (and submits that copy) before returning.
      const value = tf.tensor({ buffer }, shape, 'float32');
      variable.assign(value);
      value.dispose();
      buffer.destroy();
    }
  }

  /**
   * Queues one training step: the batch is written with writeBuffer, the step's fixed
   * dispatch list encoded into one pass and submitted once. Nothing is read back.
   */
  step(batch: TrainingBatch): void {
    const { plan, teacherPlan } = this.queueBatch(batch);
    const encoder = this.device.createCommandEncoder({ label: 'training step' });
    const pass = encoder.beginComputePass();
    teacherPlan?.encode(pass);
    plan.encode(pass);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
  }

  /**
   * Runs one training step (it trains, as step does) with every dispatch in a compute
   * pass of its own between two GPU timestamps, resolved and read back once: the GPU time
   * of each dispatch, in order (a compiled-in teacher's first, labelled 'teacher ...').
   * Null where the device lacks the 'timestamp-query' feature (tfjs asks for it when the
   * adapter offers it).
   */
  async profileStep(batch: TrainingBatch): Promise<DispatchTime[] | null> {
    if (!this.device.features.has('timestamp-query')) return null;
    const { plan, teacherPlan } = this.queueBatch(batch);
    const timed = [
      ...(teacherPlan ? [{ plan: teacherPlan, prefix: 'teacher ' }] : []),
      { plan, prefix: '' },
    ];
    const dispatches = timed.flatMap(({ plan: p, prefix }) =>
      p.dispatches.map((d) => ({ label: `${prefix}${d.label}`, pipeline: d.pipeline })),
    );
    // Two timestamps per dispatch, in query sets of at most WebGPU's 4,096 queries.
    const sets = Array.from(
      { length: Math.ceil((2 * dispatches.length) / QUERY_SET_SIZE) },
      (_, k) =>
        this.device.createQuerySet({
          label: `${BUFFER_LABEL} timestamps ${k}`,
          type: 'timestamp',
          count: Math.min(QUERY_SET_SIZE, 2 * dispatches.length - k * QUERY_SET_SIZE),
        }),
    );
    const bytes = 2 * dispatches.length * 8;
    const resolved = this.device.createBuffer({
      label: `${BUFFER_LABEL} timestamps`,
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.device.createBuffer({
      label: `${BUFFER_LABEL} timestamps read back`,
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = this.device.createCommandEncoder({ label: 'profiled training step' });
      let first = 0;
      for (const { plan: p } of timed) {
        const offset = first;
        p.encodeTimed(encoder, (i) => {
          const query = 2 * (offset + i);
          return {
            querySet: sets[Math.floor(query / QUERY_SET_SIZE)]!,
            beginningOfPassWriteIndex: query % QUERY_SET_SIZE,
            endOfPassWriteIndex: (query % QUERY_SET_SIZE) + 1,
          };
        });
        first += p.dispatchCount;
      }
      // Each set resolves at a multiple of 4,096 x 8 bytes, WebGPU's 256-byte alignment.
      sets.forEach((set, k) => {
        encoder.resolveQuerySet(set, 0, set.count, resolved, k * QUERY_SET_SIZE * 8);
      });
      encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      await this.validate();
      await staging.mapAsync(GPUMapMode.READ);
      const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      const pipelineIds = new Map<GPUComputePipeline, number>();
      return dispatches.map(({ label, pipeline }, i) => {
        if (!pipelineIds.has(pipeline)) pipelineIds.set(pipeline, pipelineIds.size);
        // Nanoseconds; a pair in the wrong order (a counter reset) counts as nothing.
        const ns = Number(ticks[2 * i + 1]! - ticks[2 * i]!);
        return { label, pipeline: pipelineIds.get(pipeline)!, ms: Math.max(ns, 0) / 1e6 };
      });
    } finally {
      for (const set of sets) set.destroy();
      resolved.destroy();
      staging.destroy();
    }
  }

  /**
   * The inference plan a student trainer runs inside its steps: this network's forward
   * pass reading the student's images buffer, its logits left in a buffer of this trainer.
   * Owned (and disposed) by this trainer.
   */
  inferenceOn(images: GPUBuffer, batch: number): { plan: CompiledPlan; logits: GPUBuffer } {
    this.check();
    let linked = this.linkedPlans.get(images);
    if (!linked) {
      const outputs = {
        logits: this.buffer(batch * this.spec.classes, 'logits'),
        probabilities: this.buffer(batch * this.spec.classes, 'probabilities'),
        features: this.buffer(batch * this.features, 'features'),
      };
      const plan = this.compile(lowerInference({ spec: this.spec, arena: this.arena, batch }), {
        images,
        ...outputs,
      });
      linked = { plan, outputs: Object.values(outputs) };
      this.linkedPlans.set(images, linked);
    }
    return { plan: linked.plan, logits: linked.outputs[0]! };
  }

  /**
   * Host time to encode one full-batch training step (command encoder, pass, every
   * dispatch, finish), averaged over `repetitions`; nothing is submitted, so it measures
   * the host side alone, on any adapter.
   */
  measureEncode(repetitions: number): {
    dispatches: number;
    msPerStep: number;
    /** Process CPU time per step: the wall time less what other processes took from it. */
    cpuMsPerStep: number;
  } {
    this.check();
    const { plan } = this.trainingPlan(this.options.batch);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let r = 0; r < repetitions; r++) {
      const encoder = this.device.createCommandEncoder({ label: 'training step' });
      const pass = encoder.beginComputePass();
      plan.encode(pass);
      pass.end();
      encoder.finish();
    }
    const wall = performance.now() - start;
    const { user, system } = process.cpuUsage(cpu);
    return {
      dispatches: plan.dispatchCount,
      msPerStep: wall / repetitions,
      cpuMsPerStep: (user + system) / 1000 / repetitions,
    };
  }

  /** The loss and accuracy over the steps since the last read, then resets them (one read-back). */
  async readMetrics(): Promise<TrainingMetrics> {
    this.check();
    // Copied and cleared in one submission, so steps queued meanwhile count towards the next read.
    const values = await this.readBuffer(this.metrics, METRICS.length, { clear: true });
    const examples = values[METRICS.examples]!;
    return {
      loss: examples > 0 ? values[METRICS.loss]! / examples : Number.NaN,
      accuracy: examples > 0 ? values[METRICS.correct]! / examples : Number.NaN,
      examples,
    };
  }

  /**
   * Every weight's value (moving statistics included) and every trainable weight's
   * gradient as the last step left it in the arena (before weight decay and momentum), by
   * weight name, in one read-back: what a numerical check compares layer by layer.
   */
  async readParameters(): Promise<{
    values: Map<string, Float32Array>;
    gradients: Map<string, Float32Array>;
  }> {
    this.check();
    const arena = await this.readBuffer(this.arenaBuffer, this.arena.size, { clear: false });
    const values = new Map<string, Float32Array>();
    const gradients = new Map<string, Float32Array>();
    for (const [name, { spec, offset, length }] of this.arena.weights) {
      values.set(name, arena.slice(offset, offset + length));
      if (spec.trainable) {
        const at = this.arena.gradients + offset;
        gradients.set(name, arena.slice(at, at + length));
      }
    }
    return { values, gradients };
  }

  /**
   * The kept layer outputs (TrainerOptions.keep) of the last training step at `batch`
   * examples (default: the full batch), NHWC, by name. Valid until another plan of this
   * trainer runs (plans share activation memory).
   */
  async readKept(batch: number = this.options.batch): Promise<Map<string, Float32Array>> {
    this.check();
    const entry = this.trainingPlans.get(batch);
    if (!entry) throw new Error(`readKept: no training step at batch ${batch} has run`);
    const kept = new Map<string, Float32Array>();
    for (const name of this.options.keep ?? []) {
      const tensor = entry.plan.kept.get(name);
      if (!tensor) {
        throw new Error(
          `readKept: '${name}' is not an activation of ${this.spec.arch}'s training step (keep names layer outputs)`,
        );
      }
      kept.set(name, await this.readBuffer(tensor.buffer, tensor.floats, { clear: false }));
    }
    return kept;
  }

  /** Inference (batch norm on moving statistics) on `images` ([examples, h, w, c] NHWC). */
  async predict(images: Float32Array): Promise<Predictions> {
    this.check();
    const examples = images.length / this.pixels;
    if (!Number.isInteger(examples) || examples < 1) {
      throw new RangeError(
        `images must hold a whole number of ${this.pixels}-float examples, got ${images.length} floats`,
      );
    }
    const out: Predictions = {
      logits: new Float32Array(examples * this.spec.classes),
      probabilities: new Float32Array(examples * this.spec.classes),
      features: new Float32Array(examples * this.features),
    };
    for (let start = 0; start < examples; start += this.options.batch) {
      const count = Math.min(this.options.batch, examples - start);
      const chunk = await this.predictBatch(
        images.subarray(start * this.pixels, (start + count) * this.pixels),
        count,
      );
      out.logits.set(chunk.logits, start * this.spec.classes);
      out.probabilities.set(chunk.probabilities, start * this.spec.classes);
      out.features.set(chunk.features, start * this.features);
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { plan, io } of this.trainingPlans.values()) {
      plan.dispose();
      for (const b of io) b.destroy();
    }
    for (const { plan, outputs } of this.linkedPlans.values()) {
      plan.dispose();
      for (const b of outputs) b.destroy();
    }
    this.linkedPlans.clear();
    for (const { plan, io, staging } of this.inferencePlans.values()) {
      plan.dispose();
      for (const b of Object.values(io)) b.destroy();
      staging.destroy();
    }
    this.trainingPlans.clear();
    this.inferencePlans.clear();
    this.pool.dispose();
    for (const b of [this.arenaBuffer, this.metrics, this.hyper]) b.destroy();
  }

  /** Any validation error of a plan compiled since the last check, as an exception. */
  async validate(): Promise<void> {
    await this.options.teacher?.validate();
    const errors = await Promise.all(this.validations.splice(0));
    const error = errors.find((e) => e !== null);
    if (error) throw new Error(`${this.spec.arch}: a compiled plan is invalid: ${error.message}`);
  }

  /** Checks a batch, writes it (and the learning rate) to the plan's buffers: the plans to encode. */
  private queueBatch(batch: TrainingBatch): {
    plan: CompiledPlan;
    teacherPlan: CompiledPlan | null;
  } {
    this.check();
    const examples = batch.labels.length;
    if (examples < 1 || examples > this.options.batch) {
      throw new RangeError(`a batch holds 1 to ${this.options.batch} examples, got ${examples}`);
    }
    if (batch.images.length !== examples * this.pixels) {
      throw new RangeError(
        `images must hold ${examples} x ${this.pixels} floats (NHWC ${this.spec.input.height}x${this.spec.input.width}x${this.spec.input.channels}), got ${batch.images.length}`,
      );
    }
    for (const label of batch.labels) {
      if (!(label >= 0 && label < this.spec.classes)) {
        throw new RangeError(`labels must lie in [0, ${this.spec.classes}), got ${label}`);
      }
    }
    if (!(batch.lr >= 0 && Number.isFinite(batch.lr))) {
      throw new RangeError(`learning rate must be a finite number >= 0, got ${batch.lr}`);
    }
    const { plan, io, teacherPlan } = this.trainingPlan(examples);
    const [images, labels, teacher] = io as [GPUBuffer, GPUBuffer, GPUBuffer?];
    const queue = this.device.queue;
    queue.writeBuffer(images, 0, batch.images);
    queue.writeBuffer(labels, 0, batch.labels);
    if (teacher) {
      if (batch.teacherLogits?.length !== examples * this.spec.classes) {
        throw new RangeError(
          `a distillation step needs teacherLogits of ${examples} x ${this.spec.classes} floats`,
        );
      }
      queue.writeBuffer(teacher, 0, batch.teacherLogits);
    }
    if (batch.lr !== this.learningRate) {
      queue.writeBuffer(this.hyper, 0, new Float32Array([batch.lr, 0, 0, 0]));
      this.learningRate = batch.lr;
    }
    return { plan, teacherPlan };
  }

  private trainingPlan(batch: number): {
    plan: CompiledPlan;
    io: GPUBuffer[];
    teacherPlan: CompiledPlan | null;
  } {
    let entry = this.trainingPlans.get(batch);
    if (!entry) {
      const images = this.buffer(batch * this.pixels, 'images');
      const labels = this.buffer(batch, 'labels');
      const linked = this.options.teacher?.inferenceOn(images, batch) ?? null;
      const teacher =
        this.loss.kind === 'distillation' && !linked
          ? this.buffer(batch * this.spec.classes, 'teacher logits')
          : undefined;
      const plan = this.compile(
        lowerTrainingStep({
          spec: this.spec,
          arena: this.arena,
          batch,
          loss: this.loss,
          sgd: this.sgd,
          ...(this.options.keep ? { keep: new Set(this.options.keep) } : {}),
        }),
        {
          images,
          labels,
          metrics: this.metrics,
          hyper: this.hyper,
          ...(teacher ? { teacher } : {}),
          ...(linked ? { teacher: linked.logits } : {}),
        },
      );
      entry = {
        plan,
        io: teacher ? [images, labels, teacher] : [images, labels],
        teacherPlan: linked?.plan ?? null,
      };
      this.trainingPlans.set(batch, entry);
    }
    return entry;
  }

  private async predictBatch(images: Float32Array, batch: number): Promise<Predictions> {
    let entry = this.inferencePlans.get(batch);
    if (!entry) {
      const io = {
        images: this.buffer(batch * this.pixels, 'images'),
        logits: this.buffer(batch * this.spec.classes, 'logits'),
        probabilities: this.buffer(batch * this.spec.classes, 'probabilities'),
        features: this.buffer(batch * this.features, 'features'),
      };
      const plan = this.compile(lowerInference({ spec: this.spec, arena: this.arena, batch }), io);
      const staging = this.device.createBuffer({
        label: `${BUFFER_LABEL} predictions`,
        size: (2 * batch * this.spec.classes + batch * this.features) * 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      entry = { plan, io, staging };
      this.inferencePlans.set(batch, entry);
    }
    const { plan, io, staging } = entry;
    this.device.queue.writeBuffer(io.images, 0, images);
    const encoder = this.device.createCommandEncoder({ label: 'inference' });
    const pass = encoder.beginComputePass();
    plan.encode(pass);
    pass.end();
    let offset = 0;
    for (const name of OUTPUTS) {
      encoder.copyBufferToBuffer(io[name], 0, staging, offset, io[name].size);
      offset += io[name].size;
    }
    this.device.queue.submit([encoder.finish()]);
    await this.validate();
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const logits = batch * this.spec.classes;
    return {
      logits: all.subarray(0, logits),
      probabilities: all.subarray(logits, 2 * logits),
      features: all.subarray(2 * logits),
    };
  }

  private compile(
    list: ReturnType<typeof lowerTrainingStep>,
    io: Partial<Record<IoBuffer, GPUBuffer>>,
  ): CompiledPlan {
    this.device.pushErrorScope('validation');
    const plan = new CompiledPlan({
      device: this.device,
      list,
      pool: this.pool,
      pipelines: this.pipelines,
      arena: this.arenaBuffer,
      io,
    });
    this.validations.push(this.device.popErrorScope());
    return plan;
  }

  /**
   * One read-back of `floats` values of a buffer from float `offset` (default 0); with
   * `clear`, that range is zeroed in the same submission.
   */
  private async readBuffer(
    buffer: GPUBuffer,
    floats: number,
    { clear, offset = 0 }: { clear: boolean; offset?: number },
  ): Promise<Float32Array> {
    await this.validate();
    const staging = this.device.createBuffer({
      label: `${BUFFER_LABEL} read back`,
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'read back' });
    encoder.copyBufferToBuffer(buffer, offset * 4, staging, 0, floats * 4);
    if (clear) encoder.clearBuffer(buffer, offset * 4, floats * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return values;
  }

  private buffer(floats: number, what: string): GPUBuffer {
    return this.device.createBuffer({
      label: `${BUFFER_LABEL} ${what}`,
      size: Math.max(floats, 1) * 4,
      usage: storageUsage(),
    });
  }

  private variable(network: Network, name: string, shape: readonly number[]): tf.Variable {
    const variable = network.variables.get(name);
    if (!variable || variable.shape.join('x') !== shape.join('x')) {
      throw new Error(
        `${this.spec.arch}: the network's weight '${name}' is ${variable ? `[${variable.shape}]` : 'missing'}, the compiled spec needs [${shape}]: compile the trainer from the network's spec`,
      );
    }
    return variable;
  }

  private check(): void {
    if (this.disposed) throw new Error(`${this.spec.arch}: the compiled trainer was disposed`);
  }
}

/** A tensor's webgpu buffer, or null while tfjs holds its values on the host only. */
function gpuData(tensor: tf.Tensor): { buffer: GPUBuffer; tensorRef: tf.Tensor } | null {
  try {
    const data = tensor.dataToGPU();
    return data.buffer ? { buffer: data.buffer, tensorRef: data.tensorRef } : null;
  } catch {
    // tfjs-backend-webgpu throws 'Data is not on GPU but on CPU' for host-only values.
    return null;
  }
}

type OutputName = 'logits' | 'probabilities' | 'features';
const OUTPUTS: readonly OutputName[] = ['logits', 'probabilities', 'features'];
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Compiles `spec` for training at `options.batch` with the given loss and optimiser, on the
 * active webgpu backend's device. The full-batch training plan is built (and validated) now;
 * plans for smaller batches and for inference are built on first use.
 */
export async function compileTrainer(
  spec: ModelSpec,
  options: TrainerOptions,
): Promise<CompiledTrainer> {
  const trainer = new CompiledTrainer(spec, options);
  try {
    await trainer.validate();
  } catch (error) {
    trainer.dispose();
    throw error;
  }
  return trainer;
}
