/**
 * Early stopping on a validation metric (as Keras' EarlyStopping, PyTorch Lightning's
 * EarlyStopping and HuggingFace's EarlyStoppingCallback): stop when the metric has not improved
 * for `patience` consecutive evaluations.
 *
 * Reference: Prechelt (1998), "Early Stopping — But When?", in Neural Networks: Tricks of the
 * Trade (the "patience" criterion of its Sec. 2.2 family of stopping rules).
 *
 * ```text
 * improved(x) = x > best + minDelta   (mode 'max')
 *               x < best − minDelta   (mode 'min')       the first value always improves
 * if improved(x): best ← x, bestEpoch ← epoch, bad ← 0
 * else:           bad ← bad + 1
 * stop ⇔ bad ≥ patience
 * ```
 *
 * A NaN metric never counts as an improvement.
 */
import { checkNumber, checkOptionsObject, fail } from './validate.js';

/** Options of {@link EarlyStopping}: patience, the minimum improvement and whether lower or higher is better. */
export interface EarlyStoppingOptions {
  /** Evaluations without improvement after which to stop (an integer ≥ 1). */
  patience: number;
  /** The smallest change that counts as an improvement (≥ 0; default 0). */
  minDelta?: number;
  /** 'max' for metrics where higher is better (accuracy, F1), 'min' for losses. */
  mode: 'max' | 'min';
}

/** The counters of {@link EarlyStopping} as saved in a checkpoint. */
export interface EarlyStoppingStateDict {
  /** Whether a higher ('max') or lower ('min') metric is better. */
  mode: 'max' | 'min';
  /** The best metric so far (null before the first evaluation). */
  bestValue: number | null;
  /** The evaluation at which the best metric was seen. */
  bestEpoch: number | null;
  /** Evaluations since the last improvement. */
  numBadEpochs: number;
  /** Evaluations seen so far. */
  epoch: number;
}

/**
 * Tracks a metric across evaluations and says when to stop.
 *
 * @example
 * import { optim } from 'tensorgrad';
 * const stopper = new optim.EarlyStopping({ patience: 2, mode: 'max' });
 * for (const f1 of [0.50, 0.60, 0.59, 0.58, 0.70]) {
 *   if (stopper.step(f1)) break;       // stops at 0.58: two evaluations without improvement
 * }
 * stopper.bestValue;  // 0.6
 * stopper.bestEpoch;  // 1
 */
export class EarlyStopping {
  /** Evaluations without improvement tolerated before stopping. */
  readonly patience: number;
  /** The smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Whether a higher ('max') or lower ('min') metric is better. */
  readonly mode: 'max' | 'min';
  /** The best metric so far (null before the first `step`). */
  bestValue: number | null = null;
  /** The index (0-based count of `step` calls) of the evaluation that gave `bestValue`. */
  bestEpoch: number | null = null;
  /** Consecutive evaluations without improvement. */
  numBadEpochs = 0;
  /** The index of the last evaluation (−1 before the first `step`). */
  epoch = -1;

  constructor(options: EarlyStoppingOptions) {
    const owner = 'EarlyStopping';
    const o = checkOptionsObject(owner, 'options', options, ['patience', 'minDelta', 'mode']);
    this.patience = checkNumber(owner, 'patience', o.patience, { min: 1, integer: true });
    this.minDelta = checkNumber(owner, 'minDelta', o.minDelta ?? 0, { min: 0 });
    if (o.mode !== 'max' && o.mode !== 'min') fail(owner, 'mode', "'max' or 'min'", o.mode);
    this.mode = o.mode;
  }

  /** Whether `metric` improves on the best value by more than `minDelta`. */
  isImprovement(metric: number): boolean {
    if (Number.isNaN(metric)) return false;
    if (this.bestValue === null) return true;
    return this.mode === 'max' ? metric > this.bestValue + this.minDelta : metric < this.bestValue - this.minDelta;
  }

  /** Records one evaluation; returns true when training should stop. */
  step(metric: number): boolean {
    if (typeof metric !== 'number') fail('EarlyStopping.step', 'metric', 'a number', metric);
    this.epoch += 1;
    if (this.isImprovement(metric)) {
      this.bestValue = metric;
      this.bestEpoch = this.epoch;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    return this.shouldStop;
  }

  /** True once `patience` evaluations in a row brought no improvement. */
  get shouldStop(): boolean {
    return this.numBadEpochs >= this.patience;
  }

  /** Forgets every evaluation. */
  reset(): void {
    this.bestValue = null;
    this.bestEpoch = null;
    this.numBadEpochs = 0;
    this.epoch = -1;
  }

  /** The counters, for a checkpoint (restored by `loadStateDict`). */
  stateDict(): EarlyStoppingStateDict {
    return { mode: this.mode, bestValue: this.bestValue, bestEpoch: this.bestEpoch, numBadEpochs: this.numBadEpochs, epoch: this.epoch };
  }

  /** Restores the counters of `stateDict()`; the mode must match (patience and minDelta stay this object's). */
  loadStateDict(stateDict: EarlyStoppingStateDict): void {
    const owner = 'EarlyStopping.loadStateDict';
    const s = checkOptionsObject(owner, 'stateDict', stateDict, ['mode', 'bestValue', 'bestEpoch', 'numBadEpochs', 'epoch']);
    if (s.mode !== this.mode) fail(owner, 'stateDict.mode', `'${this.mode}' (this EarlyStopping's mode)`, s.mode);
    const epoch = checkNumber(owner, 'stateDict.epoch', s.epoch, { min: -1, integer: true });
    const numBadEpochs = checkNumber(owner, 'stateDict.numBadEpochs', s.numBadEpochs, { min: 0, max: epoch + 1, maxInclusive: true, integer: true });
    const hasBest = s.bestValue !== null;
    if (hasBest && typeof s.bestValue !== 'number') fail(owner, 'stateDict.bestValue', 'a number or null', s.bestValue);
    const bestEpoch = hasBest
      ? checkNumber(owner, 'stateDict.bestEpoch', s.bestEpoch, { min: 0, max: epoch, maxInclusive: true, integer: true })
      : s.bestEpoch === null ? null : fail(owner, 'stateDict.bestEpoch', 'null (bestValue is null)', s.bestEpoch);
    this.bestValue = s.bestValue as number | null;
    this.bestEpoch = bestEpoch;
    this.numBadEpochs = numBadEpochs;
    this.epoch = epoch;
  }
}
