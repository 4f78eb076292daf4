import { describeRun, type RunRecord } from '@prunefuse/results';

/**
 * What is wrong with the figures a run measured, one line each; empty for a sound run.
 * The record schema guarantees types and shapes (a record read from a store holds only
 * finite numbers, since JSON has no NaN); this checks what the figures mean: accuracy is
 * a share of the test split, losses are non-negative, compute is non-negative, and a
 * target the training loop flagged as diverged measured a broken model. A regression
 * gate must fail on any of them, however the averages compare with the baseline.
 */
export function measuredProblems(run: RunRecord): string[] {
  const problems: string[] = [];
  const where = `run ${run.id} (${describeRun(run.config)})`;
  const expect = (path: string, value: number, what: string, ok: (v: number) => boolean) => {
    if (!Number.isFinite(value) || !ok(value)) {
      problems.push(`${where}: ${path} is ${value}, expected ${what}`);
    }
  };
  const share = (v: number) => v >= 0 && v <= 1;
  const nonNegative = (v: number) => v >= 0;
  for (const [i, target] of run.targets.entries()) {
    const at = `targets[${i}] (${target.labelled} labelled)`;
    expect(`${at}.accuracy`, target.accuracy, 'a share in [0, 1]', share);
    expect(`${at}.loss`, target.loss, 'a loss >= 0', nonNegative);
    expect(`${at}.macs`, target.macs, 'a MAC count >= 0', nonNegative);
    if (target.selectorAccuracy !== undefined) {
      expect(`${at}.selectorAccuracy`, target.selectorAccuracy, 'a share in [0, 1]', share);
    }
    if (target.diverged) problems.push(`${where}: ${at} diverged: ${target.diverged.reason}`);
  }
  for (const [i, round] of run.rounds.entries()) {
    if (round.selectorAccuracy !== null) {
      expect(`rounds[${i}].selectorAccuracy`, round.selectorAccuracy, 'a share in [0, 1]', share);
    }
  }
  for (const [phase, macs] of Object.entries(run.macs)) {
    expect(`macs.${phase}`, macs, 'a MAC count >= 0', nonNegative);
  }
  return problems;
}
