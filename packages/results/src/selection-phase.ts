import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';
import { runRecordSchema } from './record.js';

/**
 * The selection phase of a run: what its rounds labelled and every selector they trained
 * (θp* for PruneFuse), weights included. Runs whose configs agree on everything the
 * selection depends on (see the runner's selectionId) compute the same phase, so a run
 * may replay a stored one instead of computing it: it is charged the stored MACs, and its
 * record is the one it would have computed.
 */
export interface SelectionPhase {
  initialLabelled: number[];
  rounds: SelectionRoundSnapshot[];
  /** In the order the run obtained them, one per labelled-set size. */
  selectors: SelectorSnapshot[];
}

export interface SelectionRoundSnapshot {
  /** Labelled-set size before the round. */
  labelled: number;
  /** Training-split indices the round labelled, in selection order. */
  selected: number[];
  selectionSeconds: number;
  poolScoringMacs: number;
}

/** A selector trained from scratch on the first `labelled` examples of the labelling order. */
export interface SelectorSnapshot {
  labelled: number;
  accuracy: number;
  loss: number;
  trainSeconds: number;
  macs: number;
  epochs: z.infer<typeof epochsSchema>;
  /** Every variable of the trained network (batch-norm statistics included), float32. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

const epochsSchema = runRecordSchema.shape.rounds.element.shape.epochs;
const count = z.number().int().nonnegative();
const nonNegative = z.number().nonnegative();

/** phase.json: the phase with each selector's weights as ranges of one float32 file. */
const manifestSchema = z.object({
  schema: z.literal(1),
  id: z.string().min(1),
  /** The run whose execution computed (the most of) this phase. */
  run: z.string().min(1),
  initialLabelled: z.array(count),
  rounds: z.array(
    z.object({
      labelled: count,
      selected: z.array(count),
      selectionSeconds: nonNegative,
      poolScoringMacs: nonNegative,
    }),
  ),
  selectors: z.array(
    z.object({
      labelled: count,
      accuracy: z.number(),
      loss: z.number(),
      trainSeconds: nonNegative,
      macs: nonNegative,
      epochs: epochsSchema,
      /** `offset`: the first float32 of the variable in the weights file. */
      weights: z.array(z.object({ name: z.string(), shape: z.array(count), offset: count })),
    }),
  ),
  /** The weights file beside phase.json, its length in float32 values and SHA-256. */
  weights: z.object({ file: z.string(), values: count, sha256: z.string() }),
});
type Manifest = z.infer<typeof manifestSchema>;

/** The shape of a selection phase without its figures or weights: what a run can replay of it. */
export interface PhaseOutline {
  /** Each round's labelled-set size before it and how many examples it labelled. */
  rounds: Array<{ labelled: number; selected: number }>;
  /** Labelled-set sizes its selectors were trained on. */
  selectors: number[];
}

export interface StoredSelectionPhase {
  phase: SelectionPhase;
  /** The run that stored it. */
  run: string;
}

/**
 * Selection phases kept with a results store, one folder per selection id:
 * `selections/<id>/phase.json` and the float32 weights it names, `weights-<sha>.bin`.
 *
 * Writing is crash-safe: the weights file is written (flushed, renamed into place) before
 * phase.json, and phase.json is renamed into place last, so a run killed part-way leaves
 * at most temporaries and an unnamed weights file, never a phase that can be read. A
 * phase whose weights file is missing or does not match its length and SHA-256 reads as
 * absent, so a damaged phase is computed again rather than replayed.
 */
export class SelectionPhaseStore {
  constructor(readonly root: string) {}

  /** The stored phase of selection `id`; null when there is none or it cannot be trusted. */
  read(id: string): StoredSelectionPhase | null {
    const manifestFile = this.manifestPath(id);
    if (!existsSync(manifestFile)) return null;
    let manifest: Manifest;
    let bytes: Buffer;
    try {
      manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestFile, 'utf8')));
      bytes = readFileSync(path.join(this.folder(id), manifest.weights.file));
    } catch {
      return null;
    }
    if (
      manifest.id !== id ||
      bytes.length !== manifest.weights.values * 4 ||
      sha256(bytes) !== manifest.weights.sha256
    ) {
      return null;
    }
    // Copied out, so that every Float32Array is aligned and owns its values.
    const values = new Float32Array(manifest.weights.values);
    new Uint8Array(values.buffer).set(bytes);
    return {
      run: manifest.run,
      phase: {
        initialLabelled: manifest.initialLabelled,
        rounds: manifest.rounds,
        selectors: manifest.selectors.map(({ weights, ...outcome }) => ({
          ...outcome,
          weights: new Map(
            weights.map(({ name, shape, offset }) => [
              name,
              { shape, values: values.slice(offset, offset + product(shape)) },
            ]),
          ),
        })),
      },
    };
  }

  /**
   * The outline of stored phase `id`, from phase.json alone (for estimates: the weights are
   * megabytes, and are checked only by read, where a run replays them); null when there is
   * none or phase.json cannot be read.
   */
  outline(id: string): PhaseOutline | null {
    try {
      const manifest = manifestSchema.parse(
        JSON.parse(readFileSync(this.manifestPath(id), 'utf8')),
      );
      return manifest.id === id ? outlineOf(manifest) : null;
    } catch {
      return null;
    }
  }

  /**
   * Stores `phase`, computed by run `run`, unless the stored phase already holds all of
   * it: a phase replaces the stored one only when it extends it (the same rounds and more,
   * or more selectors, e.g. θp* at a last milestone that the storing run did not need).
   * Returns whether it was written.
   */
  offer(id: string, run: string, phase: SelectionPhase): boolean {
    const stored = this.read(id);
    if (stored && !extends_(phase, stored.phase)) return false;
    const folder = this.folder(id);
    const layout: Manifest['selectors'] = [];
    let values = 0;
    for (const { weights, ...outcome } of phase.selectors) {
      const entries = [...weights].map(([name, { shape }]) => {
        const entry = { name, shape, offset: values };
        values += product(shape);
        return entry;
      });
      layout.push({ ...outcome, weights: entries });
    }
    const all = new Float32Array(values);
    phase.selectors.forEach((selector, s) => {
      for (const entry of layout[s]!.weights) {
        all.set(selector.weights.get(entry.name)!.values, entry.offset);
      }
    });
    const bytes = new Uint8Array(all.buffer);
    const digest = sha256(bytes);
    const file = `weights-${digest.slice(0, 16)}.bin`;
    writeFileAtomic(path.join(folder, file), bytes);
    const manifest: Manifest = {
      schema: 1,
      id,
      run,
      initialLabelled: phase.initialLabelled,
      rounds: phase.rounds,
      selectors: layout,
      weights: { file, values, sha256: digest },
    };
    writeFileAtomic(this.manifestPath(id), `${JSON.stringify(manifest)}\n`);
    // Weights files of phases this one replaced (a reader holding an old phase.json then
    // finds its weights gone and computes the phase itself).
    for (const name of readdirSync(folder)) {
      if (/^weights-[0-9a-f]+\.bin$/.test(name) && name !== file) {
        rmSync(path.join(folder, name), { force: true });
      }
    }
    return true;
  }

  private folder(id: string): string {
    if (!/^[0-9a-f]+$/.test(id)) throw new Error(`selection id '${id}' is not a hex digest`);
    return path.join(this.root, id);
  }

  private manifestPath(id: string): string {
    return path.join(this.folder(id), 'phase.json');
  }
}

/** Whether `phase` holds all of `stored` and more, its rounds' selections included. */
function extends_(phase: SelectionPhase, stored: SelectionPhase): boolean {
  return (
    outlineExtends(outlineOf(phase), outlineOf(stored)) &&
    stored.rounds.every((round, r) =>
      round.selected.every((index, i) => index === phase.rounds[r]!.selected[i]),
    )
  );
}

/** The outline of `phase` (or of its manifest). */
export function outlineOf(phase: {
  rounds: readonly { labelled: number; selected: readonly number[] }[];
  selectors: readonly { labelled: number }[];
}): PhaseOutline {
  return {
    rounds: phase.rounds.map(({ labelled, selected }) => ({
      labelled,
      selected: selected.length,
    })),
    selectors: phase.selectors.map(({ labelled }) => labelled),
  };
}

/**
 * Whether a phase of outline `phase` holds all a phase of outline `stored` holds, and
 * more: its rounds start with stored's, its selectors include them. SelectionPhaseStore
 * stores a phase over another only then (and the rounds' selections agree).
 */
export function outlineExtends(phase: PhaseOutline, stored: PhaseOutline): boolean {
  const roundsExtend =
    phase.rounds.length >= stored.rounds.length &&
    stored.rounds.every(
      (round, i) =>
        round.labelled === phase.rounds[i]!.labelled &&
        round.selected === phase.rounds[i]!.selected,
    );
  const selectorsInclude = stored.selectors.every((size) => phase.selectors.includes(size));
  const more =
    phase.rounds.length > stored.rounds.length || phase.selectors.length > stored.selectors.length;
  return roundsExtend && selectorsInclude && more;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
