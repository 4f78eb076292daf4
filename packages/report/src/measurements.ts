import { type RunRecord, selectionMacsUpTo, type TargetRecord } from '@prunefuse/results';
import { expectedTargetInit } from './method-label.js';

/** What one run achieved at one labelling budget, and the compute it took to get there. */
export interface BudgetMeasurement {
  /** The budget: labelled-set size the target was trained on. */
  labelled: number;
  fraction: number;
  /** Test accuracy of the method's own target, 0..1. */
  accuracy: number;
  macs: { selection: number; targetTraining: number; total: number };
}

/**
 * One measurement per milestone, from the target the method itself builds (fused for
 * PruneFuse with fusion, from scratch otherwise); any other targets a run trained for
 * comparison feed only the convergence chart.
 */
export function budgetMeasurements(run: RunRecord): BudgetMeasurement[] {
  const init = expectedTargetInit(run.config.method);
  const seen = new Set<number>();
  const measurements: BudgetMeasurement[] = [];
  for (const target of run.targets.filter((t) => t.init === init)) {
    if (seen.has(target.labelled)) {
      throw new Error(
        `run ${run.id}: two ${init} targets at ${target.labelled} labelled examples; ` +
          'a run builds one target per milestone',
      );
    }
    seen.add(target.labelled);
    measurements.push(measure(run, target));
  }
  return measurements.sort((a, b) => a.labelled - b.labelled);
}

function measure(run: RunRecord, target: TargetRecord): BudgetMeasurement {
  const selection = selectionMacsUpTo(run, target.labelled);
  return {
    labelled: target.labelled,
    fraction: target.fraction,
    accuracy: target.accuracy,
    macs: { selection, targetTraining: target.macs, total: selection + target.macs },
  };
}
