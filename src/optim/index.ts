/**
 * tensorgrad.optim — optimizers, gradient clipping, learning-rate schedules and early stopping,
 * with PyTorch's semantics (and HuggingFace's warmup schedules).
 *
 *   import { optim } from 'tensorgrad';
 *   const opt = new optim.AdamW(model.parameters(), { lr: 5e-5, weightDecay: 0.01 });
 *   const sched = optim.getLinearScheduleWithWarmup(opt, 100, 1000);
 */
export { Optimizer } from './optimizer.js';
export type {
  BaseHyperparameters,
  ParamGroup,
  ParamGroupSpec,
  ParamsArg,
  ParamState,
  StateValue,
  StateEntrySpec,
  OptimizerStateDict,
} from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDHyperparameters, SGDOptions } from './sgd.js';
export { Adam } from './adam.js';
export type { AdamHyperparameters, AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export type { AdamWHyperparameters, AdamWOptions } from './adamw.js';
export { clipGradNorm, clipGradValue, CLIP_NORM_EPS } from './clip.js';
export type { ClipGradNormOptions } from './clip.js';
export { LRScheduler, LambdaLR, StepLR, getLinearScheduleWithWarmup, getCosineScheduleWithWarmup } from './lr-scheduler.js';
export type { LRSchedulerStateDict, LrLambda } from './lr-scheduler.js';
export { EarlyStopping } from './early-stopping.js';
export type { EarlyStoppingOptions, EarlyStoppingStateDict } from './early-stopping.js';
export { setFusedOptimizers } from './fused.js';
