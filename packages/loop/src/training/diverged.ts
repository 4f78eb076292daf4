/** Thrown when the training loss becomes NaN or infinite; the network's weights are then unusable. */
export class TrainingDivergedError extends Error {
  /**
   * `step` is the first step whose loss was not finite or, when the steps were read back
   * together as one mean (the compiled webgpu trainer), the first of that window, whose
   * last step is `lastStep`; `lr` is the learning rate of `step`.
   */
  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly lr: number,
    readonly loss: number,
    readonly lastStep: number = step,
  ) {
    const where =
      lastStep === step
        ? `step ${step}`
        : `steps ${step} to ${lastStep} (read back together as one mean)`;
    super(
      `training diverged: the loss became ${loss} at epoch ${epoch}, ${where} (both 0-based), ` +
        `learning rate ${lr}. Lower the learning rate (or use the 'svp-step' warm-up), and check ` +
        'that the inputs are normalised and, for a fused network, that its weights are aligned',
    );
    this.name = 'TrainingDivergedError';
  }
}
