/**
 * Learning-rate schedules, as torch.optim.lr_scheduler (PyTorch 1.13) and the warmup schedules
 * of HuggingFace transformers' `optimization.py`.
 *
 * A scheduler owns the `lr` of every parameter group of an optimizer. It is stepped once per
 * optimizer step (or epoch), **after** `optimizer.step()`:
 *
 * ```ts
 * for (const batch of batches) { loss.backward(); opt.step(); sched.step(); opt.zeroGrad(); }
 * ```
 *
 * Semantics kept from PyTorch:
 * - Building a scheduler records each group's `initialLr` (if not already set), takes those as
 *   `baseLrs`, and performs the initial step: `lastEpoch` becomes 0 and the lr is the schedule's
 *   value at step 0. So the lr in effect for optimizer step i is `getLastLr()` read before the
 *   i-th `scheduler.step()`.
 * - `lastEpoch` other than −1 resumes a schedule; every group must then have `initialLr`.
 * - `stateDict()` holds every field but the optimizer (and LambdaLR's functions, which cannot be
 *   serialised). To resume: rebuild optimizer and scheduler, then load the optimizer's state dict,
 *   then the scheduler's.
 *
 * Departure: a schedule that yields a non-finite or negative lr is an error here.
 *
 * References for the schedules: linear warmup + linear decay as in Devlin et al. (2019), "BERT:
 * Pre-training of Deep Bidirectional Transformers for Language Understanding"; cosine decay from
 * Loshchilov & Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR.
 */
import { Optimizer } from './optimizer.js';
import { checkNumber, checkOptionsObject, fail, fmtValue } from './validate.js';

/** The serialisable state of an LR scheduler. */
export interface LRSchedulerStateDict {
  /** The number of `step()` calls so far (PyTorch's last_epoch). */
  lastEpoch: number;
  /** Each group's initial learning rate. */
  baseLrs: number[];
  /** Each group's learning rate after the last step. */
  lastLr: number[];
  [extra: string]: unknown;
}

/**
 * Base class of LR schedulers. A subclass implements `getLr()` (the lr of every group at
 * `lastEpoch`) and calls `this.initialStep()` at the end of its constructor, once its own fields
 * are set.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * class HalvingLR extends optim.LRScheduler {
 *   constructor(opt: optim.Optimizer) { super(opt); this.initialStep(); }
 *   getLr(): number[] { return this.baseLrs.map((lr) => lr * 0.5 ** this.lastEpoch); }
 * }
 * const opt = new optim.SGD([tensor([1], { requiresGrad: true })], { lr: 1 });
 * const sched = new HalvingLR(opt);
 * sched.step();
 * sched.getLastLr(); // [0.5]
 */
export abstract class LRScheduler {
  /** The optimizer whose param groups' `lr` this scheduler sets on every `step()`. */
  readonly optimizer: Optimizer;
  /** The index of the current step: 0 after construction, +1 per `step()`. */
  lastEpoch: number;
  /** Each group's `initialLr`. */
  baseLrs: number[];
  private lastLr: number[] = [];
  private initialised = false;

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    const owner = this.constructor.name;
    if (!(optimizer instanceof Optimizer)) fail(owner, 'optimizer', 'an Optimizer', optimizer);
    checkNumber(owner, 'lastEpoch', lastEpoch, { min: -1, integer: true });
    this.optimizer = optimizer;
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new Error(`${owner}: paramGroups[${i}] has no 'initialLr', needed to resume with lastEpoch ${lastEpoch} (build the scheduler with lastEpoch −1 first, or load the optimizer's state dict before)`);
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The lr of every parameter group at step `lastEpoch` (may read the groups' current lr). */
  abstract getLr(): number[];

  /** Performs the step PyTorch performs at construction; subclasses call it last in their constructor. */
  protected initialStep(): void {
    if (this.initialised) throw new Error(`${this.constructor.name}: initialStep() was already called`);
    this.initialised = true;
    this.step();
  }

  /** Advances the schedule by one step and sets every group's lr. */
  step(): void {
    const owner = this.constructor.name;
    if (!this.initialised) throw new Error(`${owner}: the subclass constructor must call this.initialStep() after setting its fields`);
    this.lastEpoch += 1;
    const lrs = this.getLr();
    const groups = this.optimizer.paramGroups;
    if (!Array.isArray(lrs) || lrs.length !== groups.length) {
      fail(owner, 'getLr() result', `an array of ${groups.length} learning rates (one per parameter group)`, lrs);
    }
    lrs.forEach((lr, i) => checkNumber(owner, `lr of paramGroups[${i}] at step ${this.lastEpoch}`, lr, { min: 0 }));
    groups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = [...lrs];
  }

  /** The lr of every group as last set by this scheduler. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** `lastEpoch`, `baseLrs`, `lastLr` and any subclass fields (see `extraState`). */
  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr], ...this.extraState() };
  }

  /** Restores what `stateDict()` returned (of a scheduler of the same kind, over as many groups). */
  loadStateDict(stateDict: LRSchedulerStateDict): void {
    const owner = `${this.constructor.name}.loadStateDict`;
    if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
      fail(owner, 'stateDict', 'an object from LRScheduler.stateDict()', stateDict);
    }
    const extraKeys = Object.keys(this.extraState());
    checkOptionsObject(owner, 'stateDict', stateDict, ['lastEpoch', 'baseLrs', 'lastLr', ...extraKeys]);
    const n = this.optimizer.paramGroups.length;
    checkNumber(owner, 'stateDict.lastEpoch', stateDict.lastEpoch, { min: -1, integer: true });
    for (const key of ['baseLrs', 'lastLr'] as const) {
      const v = stateDict[key];
      if (!Array.isArray(v) || v.length !== n) fail(owner, `stateDict.${key}`, `an array of ${n} learning rates (one per parameter group)`, v);
      v.forEach((lr, i) => checkNumber(owner, `stateDict.${key}[${i}]`, lr, { min: 0 }));
    }
    for (const k of extraKeys) if (!(k in stateDict)) throw new Error(`${owner}: stateDict lacks '${k}' (got keys ${fmtValue(Object.keys(stateDict))})`);
    const extra: Record<string, unknown> = {};
    for (const k of extraKeys) extra[k] = stateDict[k];
    this.loadExtraState(extra);
    this.lastEpoch = stateDict.lastEpoch;
    this.baseLrs = [...stateDict.baseLrs];
    this.lastLr = [...stateDict.lastLr];
  }

  /** Subclass fields to save (numbers only); the base saves none. */
  protected extraState(): Record<string, number> {
    return {};
  }

  /** Checks and restores the fields of `extraState()`; called before anything else changes. */
  protected loadExtraState(_extra: Record<string, unknown>): void {}
}

/** A multiplier of the base lr as a function of the step index. */
export type LrLambda = (step: number) => number;

/**
 * Sets each group's lr to its base lr times `lrLambda(step)` (one function, or one per group),
 * as `torch.optim.lr_scheduler.LambdaLR`.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const opt = new optim.SGD([tensor([1], { requiresGrad: true })], { lr: 0.1 });
 * const sched = new optim.LambdaLR(opt, (step) => 0.95 ** step);
 * sched.getLastLr(); // [0.1]
 * opt.step(); sched.step();
 * sched.getLastLr(); // [0.095]
 */
export class LambdaLR extends LRScheduler {
  /** One multiplier function per parameter group: lr = baseLr·λ(step). */
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer, lrLambda: LrLambda | LrLambda[], lastEpoch = -1) {
    super(optimizer, lastEpoch);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n) fail('LambdaLR', 'lrLambda', `an array of ${n} functions (one per parameter group)`, lrLambda);
      lrLambda.forEach((f, i) => {
        if (typeof f !== 'function') fail('LambdaLR', `lrLambda[${i}]`, 'a function (step) => multiplier', f);
      });
      this.lrLambdas = [...lrLambda];
    } else {
      if (typeof lrLambda !== 'function') fail('LambdaLR', 'lrLambda', 'a function (step) => multiplier, or an array of them', lrLambda);
      this.lrLambdas = Array.from({ length: n }, () => lrLambda);
    }
    this.initialStep();
  }

  override getLr(): number[] {
    return this.baseLrs.map((base, i) => {
      const m = this.lrLambdas[i]!(this.lastEpoch);
      if (typeof m !== 'number' || !Number.isFinite(m)) {
        fail('LambdaLR', `lrLambda${this.lrLambdas.length > 1 ? `[${i}]` : ''}(${this.lastEpoch})`, 'a finite number', m);
      }
      return base * m;
    });
  }
}

/**
 * Multiplies each group's lr by `gamma` every `stepSize` steps, as
 * `torch.optim.lr_scheduler.StepLR`: lr = baseLr·gamma^⌊step/stepSize⌋ (computed, as PyTorch
 * does, by multiplying the group's current lr on every stepSize-th step).
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const opt = new optim.SGD([tensor([1], { requiresGrad: true })], { lr: 0.1 });
 * const sched = new optim.StepLR(opt, 30, 0.1); // 0.1 for steps 0–29, 0.01 for 30–59, …
 */
export class StepLR extends LRScheduler {
  /** Steps between decays. */
  stepSize: number;
  /** The factor the learning rate is multiplied by every stepSize steps. */
  gamma: number;

  constructor(optimizer: Optimizer, stepSize: number, gamma = 0.1, lastEpoch = -1) {
    super(optimizer, lastEpoch);
    this.stepSize = checkNumber('StepLR', 'stepSize', stepSize, { min: 1, integer: true });
    this.gamma = checkNumber('StepLR', 'gamma', gamma, { min: 0 });
    this.initialStep();
  }

  override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override extraState(): Record<string, number> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }

  protected override loadExtraState(extra: Record<string, unknown>): void {
    const stepSize = checkNumber('StepLR.loadStateDict', 'stateDict.stepSize', extra.stepSize, { min: 1, integer: true });
    const gamma = checkNumber('StepLR.loadStateDict', 'stateDict.gamma', extra.gamma, { min: 0 });
    this.stepSize = stepSize;
    this.gamma = gamma;
  }
}

function checkWarmupArgs(owner: string, numWarmupSteps: number, numTrainingSteps: number): void {
  checkNumber(owner, 'numWarmupSteps', numWarmupSteps, { min: 0, integer: true });
  checkNumber(owner, 'numTrainingSteps', numTrainingSteps, { min: 0, integer: true });
}

/**
 * Linear warmup from 0 to the base lr over `numWarmupSteps`, then linear decay to 0 at
 * `numTrainingSteps` (and 0 after), exactly as HuggingFace transformers'
 * `get_linear_schedule_with_warmup`:
 *
 * ```text
 * λ(s) = s / max(1, w)                                 if s < w
 *        max(0, (total − s) / max(1, total − w))       otherwise
 * ```
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const opt = new optim.AdamW([tensor([1], { requiresGrad: true })], { lr: 5e-5 });
 * const sched = optim.getLinearScheduleWithWarmup(opt, 100, 1000);
 * sched.getLastLr(); // [0]: step 0 of the warmup
 */
export function getLinearScheduleWithWarmup(optimizer: Optimizer, numWarmupSteps: number, numTrainingSteps: number, lastEpoch = -1): LambdaLR {
  checkWarmupArgs('getLinearScheduleWithWarmup', numWarmupSteps, numTrainingSteps);
  const lrLambda = (currentStep: number): number => {
    if (currentStep < numWarmupSteps) return currentStep / Math.max(1, numWarmupSteps);
    return Math.max(0, (numTrainingSteps - currentStep) / Math.max(1, numTrainingSteps - numWarmupSteps));
  };
  return new LambdaLR(optimizer, lrLambda, lastEpoch);
}

/**
 * Linear warmup over `numWarmupSteps`, then a cosine decay from the base lr, exactly as
 * HuggingFace transformers' `get_cosine_schedule_with_warmup`:
 *
 * ```text
 * λ(s) = s / max(1, w)                                          if s < w
 *        max(0, ½·(1 + cos(π · numCycles · 2 · progress)))       otherwise,
 * progress = (s − w) / max(1, total − w)
 * ```
 *
 * With the default `numCycles = 0.5` the lr falls from the base lr to 0 at `numTrainingSteps`.
 * As in HuggingFace, progress is not clamped: past `numTrainingSteps` the cosine rises again.
 * Departure from SGDR (Loshchilov & Hutter 2017): no warm restarts, decay to 0 rather than to
 * a minimum lr, and the linear warmup.
 *
 * @example
 * import { tensor, optim } from 'tensorgrad';
 * const opt = new optim.AdamW([tensor([1], { requiresGrad: true })], { lr: 5e-5 });
 * const sched = optim.getCosineScheduleWithWarmup(opt, 100, 1000);
 */
export function getCosineScheduleWithWarmup(
  optimizer: Optimizer,
  numWarmupSteps: number,
  numTrainingSteps: number,
  numCycles = 0.5,
  lastEpoch = -1,
): LambdaLR {
  checkWarmupArgs('getCosineScheduleWithWarmup', numWarmupSteps, numTrainingSteps);
  checkNumber('getCosineScheduleWithWarmup', 'numCycles', numCycles, { min: 0 });
  const lrLambda = (currentStep: number): number => {
    if (currentStep < numWarmupSteps) return currentStep / Math.max(1, numWarmupSteps);
    const progress = (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
  return new LambdaLR(optimizer, lrLambda, lastEpoch);
}
