/**
 * AdamW as the BERT and GPT tasks configure it (the loop itself is loop.ts):
 *
 *   decayGroups        AdamW parameter groups: no weight decay on biases and LayerNorm weights
 *                      (as HF's Trainer and BERT's original optimizer)
 *   adamWWithWarmup    AdamW (θ ← θ − η∇L − ηλθ) with linear or cosine warmup/decay of η
 */
import { LayerNorm } from '../nn/layers.js';
import type { Module, Parameter } from '../nn/module.js';
import { AdamW, getCosineScheduleWithWarmup, getLinearScheduleWithWarmup } from '../optim/index.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import type { RunOptions } from './run.js';

/**
 * Parameter groups for AdamW: decay on weight matrices and embeddings, none on biases and LayerNorm.
 * Frozen parameters (requiresGrad false: PEFT, `freeze`) are left out, so the optimizer keeps no state for them.
  * @example
  * ```ts
  * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.LayerNorm(8), new nn.Linear(8, 2));
  * const groups = decayGroups(model, 0.01);
  * groups.map((g) => g.params.length);     // [2, 4]: the two weight matrices decay; biases and LayerNorm do not
  * const opt = new optim.AdamW(groups, { lr: 1e-3 });
  * ```
 */
export function decayGroups(model: Module, weightDecay: number): { params: Parameter[]; weightDecay: number }[] {
  const noDecay = new Set<Parameter>();
  for (const [, m] of model.namedModules()) if (m instanceof LayerNorm) for (const p of m.parameters()) noDecay.add(p);
  const decay: Parameter[] = [];
  const rest: Parameter[] = [];
  for (const [name, p] of model.namedParameters()) if (p.requiresGrad) (noDecay.has(p) || name.endsWith('.bias') ? rest : decay).push(p);
  return [{ params: decay, weightDecay }, { params: rest, weightDecay: 0 }];
}

export interface AdamWScheduleOptions {
  lr: number;
  weightDecay: number;
  totalSteps: number;
  /** Warmup steps as a fraction of totalSteps. */
  warmupRatio: number;
  schedule?: 'linear' | 'cosine';
  betas?: [number, number];
}

/**
 * AdamW over decayGroups(model) and its warmup + decay schedule of the learning rate.
 * @example
 * ```ts
 * const model = new nn.Linear(4, 2);
 * const { optimizer, scheduler } = adamWWithWarmup(model, { lr: 1e-3, weightDecay: 0.01, totalSteps: 100, warmupRatio: 0.1 });
 * model.forward(randn([8, 4])).square().mean().backward();
 * optimizer.step();
 * scheduler.step();                       // lr rises linearly over 10 steps, then decays linearly to 0 at step 100
 * ```
 */
export function adamWWithWarmup(model: Module, o: AdamWScheduleOptions): { optimizer: AdamW; scheduler: LRScheduler } {
  const optimizer = new AdamW(decayGroups(model, o.weightDecay), { lr: o.lr, ...(o.betas ? { betas: o.betas } : {}) });
  const warmup = Math.round(o.warmupRatio * o.totalSteps);
  const scheduler = (o.schedule ?? 'linear') === 'cosine'
    ? getCosineScheduleWithWarmup(optimizer, warmup, o.totalSteps)
    : getLinearScheduleWithWarmup(optimizer, warmup, o.totalSteps);
  return { optimizer, scheduler };
}

/** Options every BERT training task takes (model size, optimisation; the run's options from RunOptions). */
export interface BertTrainOptions extends RunOptions {
  /** Hidden width H of a BERT built from scratch (ignored when starting from a checkpoint). Default per task: 64 (classify, MLM), 128 (NER); distill: the teacher's. */
  hiddenSize?: number;
  /** Transformer layers of a BERT built from scratch. Default 2; distill: half the teacher's, at least 1. */
  numLayers?: number;
  /** Attention heads per layer; must divide hiddenSize. Default 2; distill: the teacher's when it divides hiddenSize, else 1. */
  numHeads?: number;
  /** Feed-forward inner width. Default 4·hiddenSize (distill: the teacher's when hiddenSize is the teacher's). */
  intermediateSize?: number;
  /** Maximum sub-word tokens per sequence. */
  maxLength?: number;
  /** Hidden and attention dropout probability in [0, 1] of a model built from scratch (classify and distill also apply it to a loaded checkpoint). Default 0.1. */
  dropout?: number;
  /** Passes over the training data. Default per task: 3 (classify, distill), 10 (NER, with early stopping), 1 (MLM). */
  epochs?: number;
  /** Sequences per batch; one optimizer step sees batchSize × gradientAccumulationSteps of them. Default 16. */
  batchSize?: number;
  /** Peak learning rate of AdamW. */
  lr?: number;
  /** AdamW decoupled weight decay λ on weight matrices and embeddings (none on biases and LayerNorm, see decayGroups). Default 0.01. */
  weightDecay?: number;
  /** Warmup steps as a fraction of all steps. */
  warmupRatio?: number;
  /** Clip the global L2 norm of all gradients to this before each step (clipGradNorm). Default 1.0. */
  maxGradNorm?: number;
}
