import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parseTrainingKey,
  ResultsStore,
  type SavedTraining,
  trainingKeyNetwork,
  trainingKeyText,
} from '../src/index.js';

let root: string;
let store: ResultsStore;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'prunefuse-checkpoints-'));
  store = ResultsStore.open(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const ID = '0123456789ab';

/** A training state with values that are not round in float32 (the file must keep every bit). */
function training(epochs: number): SavedTraining {
  const values = (length: number, seed: number) =>
    Float32Array.from({ length }, (_, i) => Math.sin(seed + i) * 1e-3 + i / 7);
  return {
    key: 'target/00112233aabbccdd',
    backend: 'wasm',
    device: 'CPU',
    epochs: Array.from({ length: epochs }, (_, epoch) => ({
      epoch,
      lr: 0.1,
      trainLoss: 1 / (epoch + 1),
      trainAccuracy: 0.5,
      seconds: 1.5,
    })),
    examplesSeen: 128 * epochs,
    optimizer: { layout: 'tfjs-velocities', values: values(13, 3) },
    weights: new Map([
      ['conv1/kernel', { shape: [3, 3, 1, 2], values: values(18, 1) }],
      // a header whose length is not a multiple of 4 once this name is in it
      ['bn1/gamma', { shape: [3], values: values(3, 2) }],
      ['scalar', { shape: [], values: values(1, 5) }],
    ]),
  };
}

describe('training checkpoints', () => {
  it('give back what was saved, bit for bit; the next save replaces it', () => {
    expect(store.readTrainingCheckpoint(ID)).toEqual({ state: 'absent' });
    store.saveTrainingCheckpoint(ID, training(1));
    expect(store.readTrainingCheckpoint(ID)).toEqual({ state: 'saved', training: training(1) });
    store.saveTrainingCheckpoint(ID, training(2));
    expect(store.readTrainingCheckpoint(ID)).toEqual({ state: 'saved', training: training(2) });
  });

  it('summarise themselves from their header alone', () => {
    expect(store.readTrainingSummary(ID)).toEqual({ state: 'absent' });
    store.saveTrainingCheckpoint(ID, training(3));
    expect(store.readTrainingSummary(ID)).toEqual({
      state: 'saved',
      summary: { key: 'target/00112233aabbccdd', epochs: 3 },
    });
  });

  it('read as damaged, saying why, when cut short, padded or holding another run', () => {
    store.saveTrainingCheckpoint(ID, training(2));
    const file = store.trainingCheckpointPath(ID);
    const bytes = readFileSync(file);
    // The full read and the header-only summary refuse the same files, for the same reason.
    const damaged = (contents: Uint8Array) => {
      writeFileSync(file, contents);
      const found = store.readTrainingCheckpoint(ID);
      const summary = store.readTrainingSummary(ID);
      expect(summary.state === 'damaged' && summary.reason).toBe(
        found.state === 'damaged' && found.reason,
      );
      return found.state === 'damaged' ? found.reason : found.state;
    };
    expect(damaged(bytes.subarray(0, bytes.length - 4))).toContain('its header says');
    expect(damaged(Buffer.concat([bytes, Buffer.alloc(4)]))).toContain('its header says');
    expect(damaged(bytes.subarray(0, 2))).toContain('shorter than its header length');
    expect(damaged(bytes.subarray(0, 40))).toContain('shorter than its header');
    writeFileSync(file, bytes);
    expect(store.readTrainingCheckpoint('ba9876543210').state).toBe('absent');
    writeFileSync(store.trainingCheckpointPath('ba9876543210'), bytes);
    const other = store.readTrainingCheckpoint('ba9876543210');
    expect(other.state === 'damaged' && other.reason).toContain(`holds run '${ID}'`);
  });

  it('are removed with the run’s checkpoint', () => {
    store.saveTrainingCheckpoint(ID, training(1));
    store.removeCheckpoint(ID);
    expect(store.readTrainingCheckpoint(ID)).toEqual({ state: 'absent' });
  });
});

describe('training keys', () => {
  it('read back what trainingKeyText wrote', () => {
    const key = { network: 'selector', labelled: 3000, labelledSet: '00ff' } as const;
    expect(trainingKeyText(key)).toBe('selector/3000/00ff');
    expect(parseTrainingKey(trainingKeyText(key))).toEqual(key);
    expect(trainingKeyNetwork(trainingKeyText(key))).toBe('selector');
  });

  it('name the network of an older key, which does not parse', () => {
    expect(parseTrainingKey('target/00112233aabbccdd')).toBeNull();
    expect(trainingKeyNetwork('target/00112233aabbccdd')).toBe('target');
  });
});
