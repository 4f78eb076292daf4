import { z } from 'zod';
import { runRecordSchema } from './record.js';

/** An optimiser's state, flat, in the layout of the engine that read it. */
export interface OptimizerState {
  /** 'tfjs-velocities': SgdMomentum's velocities in variable order; 'compiled-momentum': the webgpu arena's. */
  layout: 'tfjs-velocities' | 'compiled-momentum';
  values: Float32Array;
}

/** The trainings of a run: its selectors, its targets, the rank-agreement measurement's θ. */
export type TrainedNetwork = 'selector' | 'target' | 'rank-agreement';

/**
 * Which training of a run a checkpoint holds: the network and the labelled set it is
 * trained on (its size, and its SHA-256 digest, see labelledSetDigest). As text,
 * `<network>/<size>/<digest>`: the loop saves and loads by it, listings read it back.
 */
export interface TrainingKey {
  network: TrainedNetwork;
  labelled: number;
  labelledSet: string;
}

export function trainingKeyText(key: TrainingKey): string {
  return `${key.network}/${key.labelled}/${key.labelledSet}`;
}

/** The key `text` names; null for text trainingKeyText did not write (e.g. an older format). */
export function parseTrainingKey(text: string): TrainingKey | null {
  const match = /^(selector|target|rank-agreement)\/(\d+)\/([0-9a-f]+)$/.exec(text);
  return match
    ? { network: match[1] as TrainedNetwork, labelled: Number(match[2]), labelledSet: match[3]! }
    : null;
}

/** The network a key names; for a key of an older format (`<network>/<digest>`), its first part. */
export function trainingKeyNetwork(text: string): string {
  return parseTrainingKey(text)?.network ?? text.split('/')[0]!;
}

/**
 * A training stopped after some of its epochs, with everything that makes resuming it
 * exact: the network's variables (batch-norm statistics included), the optimiser's state,
 * and the epochs' records. `key` names the training within its run (which network, on
 * which labelled set); `backend` and `device` where it ran.
 */
export interface SavedTraining {
  key: string;
  backend: string;
  device: string;
  epochs: z.infer<typeof epochsSchema>;
  examplesSeen: number;
  optimizer: OptimizerState;
  weights: Map<string, { shape: number[]; values: Float32Array }>;
}

const epochsSchema = runRecordSchema.shape.rounds.element.shape.epochs;
const count = z.number().int().nonnegative();

/** The JSON header of a training checkpoint file; `offset`s count float32 values after it. */
const headerSchema = z.object({
  schema: z.literal(1),
  id: z.string().min(1),
  key: z.string().min(1),
  backend: z.string().min(1),
  device: z.string(),
  epochs: epochsSchema,
  examplesSeen: count,
  optimizer: z.object({
    layout: z.enum(['tfjs-velocities', 'compiled-momentum']),
    offset: count,
    length: count,
  }),
  weights: z.array(z.object({ name: z.string().min(1), shape: z.array(count), offset: count })),
  values: count,
});

/**
 * One file, written atomically (one rename), so that its header and its values cannot
 * come from two different epochs: a little-endian u32 header length, the JSON header,
 * zero padding to a multiple of 4 bytes, then every float32 value.
 */
export function encodeTraining(id: string, training: SavedTraining): Uint8Array {
  const weights: z.infer<typeof headerSchema>['weights'] = [];
  let values = 0;
  for (const [name, { shape, values: data }] of training.weights) {
    weights.push({ name, shape, offset: values });
    values += data.length;
  }
  const optimizer = {
    layout: training.optimizer.layout,
    offset: values,
    length: training.optimizer.values.length,
  };
  values += optimizer.length;
  const header: z.infer<typeof headerSchema> = {
    schema: 1,
    id,
    key: training.key,
    backend: training.backend,
    device: training.device,
    epochs: training.epochs,
    examplesSeen: training.examplesSeen,
    optimizer,
    weights,
    values,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 4 * Math.ceil((4 + json.length) / 4);
  const bytes = new Uint8Array(start + 4 * values);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  const floats = new Float32Array(bytes.buffer, start, values);
  for (const [i, { values: data }] of [...training.weights.values()].entries()) {
    floats.set(data, weights[i]!.offset);
  }
  floats.set(training.optimizer.values, optimizer.offset);
  return bytes;
}

/**
 * The bytes of a training checkpoint file, read where asked: a summary needs only the
 * header at the front, not the megabytes of values after it.
 */
export interface TrainingBytes {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/** What a training checkpoint says of itself, without its values (see readTrainingHeader). */
export interface TrainingSummary {
  key: string;
  /** Epochs finished when it was saved. */
  epochs: number;
}

/**
 * The header of what encodeTraining wrote for run `id`, checked against the file's size,
 * and where the values start; throws, saying what is wrong, for anything else.
 */
function readTrainingHeader(
  id: string,
  bytes: TrainingBytes,
): { header: z.infer<typeof headerSchema>; start: number } {
  if (bytes.size < 4) throw new Error('shorter than its header length');
  const prefix = bytes.read(0, 4);
  const length = new DataView(prefix.buffer, prefix.byteOffset).getUint32(0, true);
  if (4 + length > bytes.size) throw new Error('shorter than its header');
  const header = headerSchema.parse(JSON.parse(new TextDecoder().decode(bytes.read(4, length))));
  if (header.id !== id) throw new Error(`holds run '${header.id}', not '${id}'`);
  const start = 4 * Math.ceil((4 + length) / 4);
  if (bytes.size !== start + 4 * header.values) {
    throw new Error(
      `holds ${bytes.size - start} bytes of values, its header says ${4 * header.values}`,
    );
  }
  return { header, start };
}

/** The summary of what encodeTraining wrote for run `id`, reading its header only. */
export function summarizeTraining(id: string, bytes: TrainingBytes): TrainingSummary {
  const { key, epochs } = readTrainingHeader(id, bytes).header;
  return { key, epochs: epochs.length };
}

/** Reads what encodeTraining wrote for run `id`; throws, saying what is wrong, for anything else. */
export function decodeTraining(id: string, bytes: Uint8Array): SavedTraining {
  const { header, start } = readTrainingHeader(id, {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  });
  // Copied out, so that every Float32Array is aligned and owns its values.
  const floats = new Float32Array(header.values);
  new Uint8Array(floats.buffer).set(bytes.subarray(start));
  const slice = (offset: number, size: number) => {
    if (offset + size > header.values) throw new Error('a weight runs past the values');
    return floats.slice(offset, offset + size);
  };
  return {
    key: header.key,
    backend: header.backend,
    device: header.device,
    epochs: header.epochs,
    examplesSeen: header.examplesSeen,
    optimizer: {
      layout: header.optimizer.layout,
      values: slice(header.optimizer.offset, header.optimizer.length),
    },
    weights: new Map(
      header.weights.map(({ name, shape, offset }) => [
        name,
        {
          shape,
          values: slice(
            offset,
            shape.reduce((a, b) => a * b, 1),
          ),
        },
      ]),
    ),
  };
}
