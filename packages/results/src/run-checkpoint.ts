import { createHash } from 'node:crypto';
import { z } from 'zod';
import { runRecordSchema } from './record.js';

const environmentSchema = runRecordSchema.shape.environment;

/**
 * What the attempts of an unfinished run have built so far: its targets, full records
 * included, saved as each is built, so that an attempt after a crash or a kill trains
 * only the targets that are missing. (The selection rounds and selectors are saved with
 * the store's selection phases, SelectionPhaseStore, and replayed from there.)
 *
 * A target depends on nothing an earlier milestone's training changed: every random
 * stream of a run is derived from its seed and a name (Rng.child), and every network is
 * built fresh from its frozen initial weights. So a target replayed from a checkpoint is
 * the target the resumed attempt would have trained, provided it trains on the same
 * labelled set (each target keeps its digest: a changed selection, e.g. after a code
 * change between attempts, is not matched) on the same backend and device (the checkpoint
 * names them, and another backend trains the targets afresh).
 */
export const runCheckpointSchema = z.object({
  schema: z.literal(1),
  id: z.string().min(1),
  /** The first attempt that saved targets here: when it started, on which commit. */
  firstAttempt: z.object({
    startedAt: z.iso.datetime(),
    gitCommit: environmentSchema.shape.gitCommit,
  }),
  /** Where the targets were trained: the environment's backend and device. */
  backend: environmentSchema.shape.backend,
  device: environmentSchema.shape.device,
  /** In milestone order, the first `targets.length` milestones of the run. */
  targets: z.array(
    z.object({
      /** labelledSetDigest of the labelled set the target was trained on. */
      labelledSet: z.string().regex(/^[0-9a-f]{16}$/),
      record: runRecordSchema.shape.targets.element,
    }),
  ),
});
export type RunCheckpoint = z.infer<typeof runCheckpointSchema>;
/** A built target as a checkpoint keeps it. */
export type SavedTarget = RunCheckpoint['targets'][number];

/** The first 16 hex digits of the SHA-256 of the labelled indices, in labelling order. */
export function labelledSetDigest(indices: Int32Array | readonly number[]): string {
  const bytes = Int32Array.from(indices);
  return createHash('sha256').update(new Uint8Array(bytes.buffer)).digest('hex').slice(0, 16);
}

/** Whether a checkpoint's targets were trained where `environment` trains. */
export function sameEngine(
  checkpoint: Pick<RunCheckpoint, 'backend' | 'device'>,
  environment: Pick<RunCheckpoint, 'backend' | 'device'>,
): boolean {
  return checkpoint.backend === environment.backend && checkpoint.device === environment.device;
}
