import { planRun, type RunEvent } from '@prunefuse/results';
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../src/config/expand.js';
import { parseExperiment } from '../src/config/load.js';
import { formatDuration } from '../src/progress/duration.js';
import { createProgress } from '../src/progress/reporter.js';
import { describeTestDataset } from './fixtures/datasets.js';

// active-learning: sizes 40, 80 -> one selector training (4 epochs on 40) and one target
// (4 epochs on 80): 160 + 320 = 480 examples trained per run.
const runs = expandSweep(
  parseExperiment(
    'experiments/progress.yaml',
    `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [active-learning]
budget: { initial: 40, milestones: [80], roundSize: 40 }
training: { epochs: 4 }
seeds: [1, 2]
`,
  ),
  describeTestDataset,
).runs;

function epoch(phase: 'selector' | 'target', index: number): RunEvent {
  return {
    type: 'epoch',
    phase,
    labelled: phase === 'selector' ? 40 : 80,
    totalEpochs: 4,
    epoch: { epoch: index, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, seconds: 10 },
  };
}

function collector(isTTY: boolean) {
  let text = '';
  return {
    stream: { isTTY, columns: 160, write: (chunk: string) => (text += chunk) },
    text: () => text,
  };
}

describe('plain progress (not a terminal)', () => {
  it('prints run start and end lines and a status line with ETAs at most every interval', () => {
    let now = 0;
    const out = collector(false);
    const progress = createProgress(out.stream, { intervalMs: 20_000, now: () => now });
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    progress.sweepStarted(runs, 3);
    progress.runStarted(first);
    for (let i = 0; i < 4; i++) {
      now += 10_000;
      progress.runEvent(first.id, epoch('selector', i));
    }
    progress.log('a warning');
    now += 5_000;
    progress.runEnded(first.id, 'finished');
    progress.runStarted(second);
    now += 2_000;
    progress.runEnded(second.id, 'failed', 'out of memory');
    progress.sweepEnded();

    expect(out.text().split('\n')).toEqual([
      'sweep: 2 runs to do, 3 already finished',
      `[run 1/2] ${first.id} active-learning resnet8-digits least-confidence seed 1: started`,
      // 20 s for 80 of the run's 480 planned examples, 80 of the sweep's 960
      `[run 1/2] ${first.id} round 1/1, selector epoch 2/4 on 40 labelled; run ETA 1m40s, sweep ETA 3m40s`,
      `[run 1/2] ${first.id} round 1/1, selector epoch 4/4 on 40 labelled; run ETA 1m20s, sweep ETA 3m20s`,
      'a warning',
      `[run 1/2] ${first.id} finished after 45s; sweep ETA 45s`,
      `[run 2/2] ${second.id} active-learning resnet8-digits least-confidence seed 2: started`,
      `[run 2/2] ${second.id} FAILED after 2s: out of memory; sweep ETA 0s`,
      'sweep: 1 done, 1 failed in 47s',
      '',
    ]);
  });
});

describe('a run that replays part of its plan', () => {
  it('has its ETAs from the epochs it will train, not from its whole plan', () => {
    let now = 0;
    const out = collector(false);
    const progress = createProgress(out.stream, { intervalMs: 0, now: () => now });
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    // The second run replays its selector (a stored phase): only its target is left.
    const plan = planRun(second.config, second.trainSize);
    progress.sweepStarted(runs, 0, new Map([[second.id, { ...plan, selectorTrainings: [] }]]));
    progress.runStarted(first);
    now += 10_000;
    progress.runEvent(first.id, epoch('selector', 0));
    // 10 s for 40 examples: 440 more of the first run, then the second's 320 (its whole
    // plan of 480 would say 3m50s)
    expect(out.text().split('\n').at(-2)).toMatch(/run ETA 1m50s, sweep ETA 3m10s$/);
  });
});

describe('what a status line names', () => {
  // prunefuse: selector rounds on 40 and 80, θp* on the milestone 120 for its fused target.
  const [prunefuse] = expandSweep(
    parseExperiment(
      'experiments/progress.yaml',
      `dataset: { name: mnist, trainSubset: 400 }
arch: resnet8-digits
methods: [{ name: prunefuse, prune: 0.5 }, random]
budget: { initial: 40, milestones: [120], roundSize: 40 }
training: { epochs: 2 }
seeds: [1]
`,
    ),
    describeTestDataset,
  ).runs as [(typeof runs)[0]];
  const at = (phase: 'selector' | 'target', labelled: number, index: number): RunEvent => ({
    type: 'epoch',
    phase,
    labelled,
    totalEpochs: 2,
    epoch: { epoch: index, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, seconds: 10 },
  });

  it('calls the milestone’s θp* training by its name, not a round, and the target a target', () => {
    let now = 0;
    const out = collector(false);
    const progress = createProgress(out.stream, { intervalMs: 0, now: () => now });
    progress.sweepStarted([prunefuse], 0);
    progress.runStarted(prunefuse);
    const round = { type: 'round' } as RunEvent;
    const phases: string[] = [];
    for (const event of [
      at('selector', 40, 0),
      round,
      at('selector', 80, 0),
      round,
      at('selector', 120, 0),
      at('target', 120, 0),
    ]) {
      now += 10_000;
      progress.runEvent(prunefuse.id, event);
      if (event.type !== 'epoch') continue;
      const line = out.text().trim().split('\n').at(-1)!;
      phases.push(
        line.slice(line.indexOf(prunefuse.id) + prunefuse.id.length + 1, line.indexOf(';')),
      );
    }
    expect(phases).toEqual([
      'round 1/2, selector epoch 1/2 on 40 labelled',
      'round 2/2, selector epoch 1/2 on 80 labelled',
      'θp* for the target at 120, epoch 1/2 on 120 labelled',
      'target epoch 1/2 on 120 labelled',
    ]);
  });

  it('extrapolates the sweep from the current run’s pace, not the sweep’s average', () => {
    let now = 0;
    const out = collector(false);
    const progress = createProgress(out.stream, { intervalMs: 0, now: () => now });
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    progress.sweepStarted(runs, 0);
    progress.runStarted(first);
    for (let i = 0; i < 4; i++) {
      now += 1_000;
      progress.runEvent(first.id, epoch('selector', i));
    }
    progress.runEnded(first.id, 'finished');
    // The machine gets ten times slower: 10 s an epoch.
    progress.runStarted(second);
    now += 10_000;
    progress.runEvent(second.id, epoch('selector', 0));
    const last = out.text().trim().split('\n').at(-1)!;
    // 440 examples of 960 left at 0.25 s each, where the sweep's average (14 s for 520)
    // says 12 s.
    expect(last).toMatch(/; run ETA 1m50s, sweep ETA 1m50s$/);
  });
});

describe('terminal progress', () => {
  it('draws sweep, run and phase bars with ETAs, and prints messages above them', () => {
    let now = 0;
    const out = collector(true);
    const progress = createProgress(out.stream, { now: () => now });
    const [first] = runs as [(typeof runs)[0]];
    progress.sweepStarted(runs, 0);
    progress.runStarted(first);
    now += 10_000;
    progress.runEvent(first.id, epoch('selector', 0));
    now += 10_000;
    progress.runEvent(first.id, epoch('selector', 1));
    progress.log('a warning');
    progress.sweepEnded();
    const text = out.text();
    expect(text).toMatch(/sweep .* 8% 0\/2 runs \| ETA 3m40s/);
    expect(text).toContain(`run ${first.id}`);
    expect(text).toMatch(
      /16% round 1\/1 active-learning resnet8-digits least-confidence seed 1 \| ETA 1m40s/,
    );
    expect(text).toMatch(/selector .* 50% epoch 2\/4 on 40 labelled \| ETA 20s/);
    expect(text).toContain('a warning\n');
    // drawn in place: cursor movements, not a stream of lines
    expect(text).toContain('\u001b[');
  });

  it('formats durations for people', () => {
    expect([5, 65, 3725, 0.4].map(formatDuration)).toEqual(['5s', '1m05s', '1h02m', '0s']);
  });
});
