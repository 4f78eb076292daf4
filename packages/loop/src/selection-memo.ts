import { type ModelSpec, type Network, networkFromWeights } from '@prunefuse/models';
import type { SelectionPhase, SelectionRoundSnapshot, SelectorSnapshot } from '@prunefuse/results';
import { readHostWeights, withTensors } from './host-weights.js';
import type { TrainingOutcome } from './train-on-labelled.js';

/**
 * A run's selection phase, as it happens: replayed from a stored phase (of a run whose
 * selection is this run's) for as long as the run follows it, computed after that, and
 * recorded either way so that the next run can replay it.
 *
 * The run follows the stored phase while each of its rounds labels, from the same
 * labelled-set size, as many examples as the stored round did: up to there its labelled
 * set is the stored run's, so the stored selectors (trained on exactly that set) and
 * selections are its own. A run that builds targets at other milestones leaves the stored
 * path at the first round whose size differs and computes the rest.
 */
export class SelectionMemo {
  private onStoredPath: boolean;
  private readonly rounds: SelectionRoundSnapshot[] = [];
  private readonly selectors: SelectorSnapshot[] = [];

  constructor(
    private readonly stored: SelectionPhase | null,
    private readonly initialLabelled: Int32Array,
  ) {
    if (stored && !sameIndices(stored.initialLabelled, initialLabelled)) {
      throw new Error(
        'the stored selection phase does not start from this run’s initial labelled set: ' +
          'the selection id misses a setting that changes the selection',
      );
    }
    this.onStoredPath = stored !== null;
  }

  /**
   * The stored selector trained on the current labelled set (`labelled` examples), as a
   * network the caller owns with its training outcome; null off the stored path or when
   * the stored run never trained one at this size.
   */
  storedSelector(
    spec: ModelSpec,
    labelled: number,
  ): (TrainingOutcome & { network: Network }) | null {
    if (!this.onStoredPath) return null;
    const snapshot = this.stored!.selectors.find((s) => s.labelled === labelled);
    if (!snapshot) return null;
    const { accuracy, loss, trainSeconds, macs, epochs } = snapshot;
    return {
      network: withTensors(snapshot.weights, (weights) => networkFromWeights(spec, weights)),
      accuracy,
      loss,
      trainSeconds,
      macs,
      epochs,
    };
  }

  /**
   * The stored selection of round `round` when it labelled `k` examples from the same
   * labelled-set size; otherwise the run leaves the stored path here, for good.
   */
  storedRound(round: number, labelled: number, k: number): SelectionRoundSnapshot | null {
    const snapshot = this.onStoredPath ? this.stored!.rounds[round] : undefined;
    if (snapshot?.labelled === labelled && snapshot.selected.length === k) return snapshot;
    this.onStoredPath = false;
    return null;
  }

  /** Whether the run is still on the stored path: every round so far was replayed. */
  get replaying(): boolean {
    return this.onStoredPath;
  }

  /** Records the selector obtained (trained or replayed) for `labelled` examples. */
  async recordSelector(
    labelled: number,
    outcome: TrainingOutcome,
    network: Network,
  ): Promise<void> {
    const weights = await readHostWeights(network);
    const { accuracy, loss, trainSeconds, macs, epochs } = outcome;
    this.selectors.push({ labelled, accuracy, loss, trainSeconds, macs, epochs, weights });
  }

  recordRound(round: SelectionRoundSnapshot): void {
    this.rounds.push(round);
  }

  /** This run's selection phase, replayed parts included. */
  phase(): SelectionPhase {
    return {
      initialLabelled: Array.from(this.initialLabelled),
      rounds: [...this.rounds],
      selectors: [...this.selectors],
    };
  }
}

function sameIndices(a: readonly number[], b: Int32Array): boolean {
  return a.length === b.length && a.every((index, i) => index === b[i]);
}
