import type { ModelSpec } from '@prunefuse/models';
import type { CompiledTrainer, compileTrainer, TrainerOptions } from '@prunefuse/webgpu-trainer';

/** What a training compiles into its step: everything but the weights. */
export interface CompiledTrainingKey {
  spec: ModelSpec;
  /** The full batch size; smaller batches get plans of their own inside the trainer. */
  batch: number;
  optimizer: { momentum: number; weightDecay: number; nesterov: boolean };
  /** A distillation loss from a teacher of this spec, run inside each step. */
  teacher?: { spec: ModelSpec; lambda: number; temperature: number };
}

/** Optimiser settings of a forward-only trainer (inference, a teacher): it never steps. */
const FORWARD_ONLY = { momentum: 0, weightDecay: 0 } as const;

interface Entry {
  trainer: CompiledTrainer;
  /** The teacher entry's key, for a student: the teacher outlives its students. */
  teacherKey: string | null;
  /** For an inference trainer: its spec (as JSON) and batch size. */
  inference: { spec: string; batch: number } | null;
}

/**
 * Compiled webgpu trainers kept for reuse across the trainings and inferences of one run:
 * its rounds retrain and score with the same architectures at the same batch sizes, and
 * compiling (pipelines, bind groups, activation memory) each time would repeat that work.
 * A trainer is kept under everything compiled into it: the role (training, teacher,
 * inference), the spec, the batch size, the optimiser settings and the loss. Weights are
 * not: whoever uses a trainer uploads its network's weights first, and uses take turns
 * (each is awaited before the next begins). clear() destroys every trainer with all its
 * GPU buffers; it runs by itself when the webgpu device is no longer the one they were
 * compiled on (the backend was re-created).
 */
export class CompiledTrainers {
  private readonly entries = new Map<string, Entry>();
  private device: GPUDevice | null = null;

  /** Trainers held now (a student and its teacher count as two). */
  get size(): number {
    return this.entries.size;
  }

  /** The trainer for a training with `key`'s settings, and its compiled-in teacher. */
  async training(
    key: CompiledTrainingKey,
  ): Promise<{ student: CompiledTrainer; teacher: CompiledTrainer | null }> {
    const { spec, batch, optimizer, teacher } = key;
    if (!teacher) {
      const student = await this.held(JSON.stringify({ role: 'training', ...key }), () => ({
        spec,
        options: { batch, optimizer },
      }));
      return { student, teacher: null };
    }
    const teacherKey = JSON.stringify({ role: 'teacher', spec: teacher.spec, batch });
    const teacherTrainer = await this.held(teacherKey, () => ({
      spec: teacher.spec,
      options: { batch, optimizer: FORWARD_ONLY },
    }));
    const student = await this.held(JSON.stringify({ role: 'training', ...key }), () => ({
      spec,
      options: {
        batch,
        optimizer,
        loss: { kind: 'distillation', lambda: teacher.lambda, temperature: teacher.temperature },
        teacher: teacherTrainer,
      },
      teacherKey,
    }));
    return { student, teacher: teacherTrainer };
  }

  /**
   * A trainer whose inference plan runs `spec` on batches of `batch` examples or fewer
   * (padded): the smallest such one held, else one compiled at `batch`. So a first batch
   * below the inference batch size (a labelled set that grows every round) reuses the
   * pool's trainer instead of compiling one per round.
   */
  async inference(
    spec: ModelSpec,
    batch: number,
  ): Promise<{ trainer: CompiledTrainer; batch: number }> {
    await this.checkDevice();
    const specKey = JSON.stringify(spec);
    const fitting = [...this.entries.values()]
      .filter(({ inference }) => inference?.spec === specKey && inference.batch >= batch)
      .sort((a, b) => a.inference!.batch - b.inference!.batch)[0];
    if (fitting) return { trainer: fitting.trainer, batch: fitting.inference!.batch };
    const trainer = await this.held(JSON.stringify({ role: 'inference', spec, batch }), () => ({
      spec,
      options: { batch, optimizer: FORWARD_ONLY },
      inference: { spec: specKey, batch },
    }));
    return { trainer, batch };
  }

  /**
   * Destroys `trainer` (and any student compiled against it): after a failed training its
   * state is unknown (metrics half summed, a plan invalid), so the next use compiles anew.
   * An evicted student's teacher keeps the inference plan it linked to that student's
   * images until the teacher goes too (at clear()).
   */
  evict(trainer: CompiledTrainer): void {
    const key = [...this.entries].find(([, entry]) => entry.trainer === trainer)?.[0];
    if (key === undefined) return;
    for (const [studentKey, entry] of this.entries) {
      if (entry.teacherKey === key) this.remove(studentKey);
    }
    this.remove(key);
  }

  /** Destroys every trainer: students first, as their steps run their teachers' plans. */
  clear(): void {
    const students = [...this.entries].filter(([, entry]) => entry.teacherKey !== null);
    for (const [key] of students) this.remove(key);
    for (const key of [...this.entries.keys()]) this.remove(key);
    this.device = null;
  }

  /** The trainer held under `key`, else the one `describe` says, compiled and kept. */
  private async held(
    key: string,
    describe: () => {
      spec: ModelSpec;
      options: TrainerOptions;
      teacherKey?: string;
      inference?: Entry['inference'];
    },
  ): Promise<CompiledTrainer> {
    const compileTrainer = await this.checkDevice();
    const entry = this.entries.get(key);
    if (entry) return entry.trainer;
    const { spec, options, teacherKey = null, inference = null } = describe();
    const trainer = await compileTrainer(spec, options);
    this.entries.set(key, { trainer, teacherKey, inference });
    return trainer;
  }

  /** Clears what was compiled on another device; returns the compiler. */
  private async checkDevice(): Promise<typeof compileTrainer> {
    // Loaded on first use, so that only webgpu runs load the compiled trainer.
    const trainerPackage = await import('@prunefuse/webgpu-trainer');
    const device = trainerPackage.webgpuDevice();
    if (this.device !== device) {
      this.clear();
      this.device = device;
    }
    return trainerPackage.compileTrainer;
  }

  private remove(key: string): void {
    this.entries.get(key)?.trainer.dispose();
    this.entries.delete(key);
  }
}

/**
 * Runs `use` with `given`, or with trainers of its own that it clears afterwards: a call
 * outside a run keeps nothing compiled.
 */
export async function withCompiledTrainers<T>(
  given: CompiledTrainers | undefined,
  use: (trainers: CompiledTrainers) => Promise<T>,
): Promise<T> {
  if (given) return use(given);
  const own = new CompiledTrainers();
  try {
    return await use(own);
  } finally {
    own.clear();
  }
}
