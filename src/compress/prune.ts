/**
 * Magnitude pruning (Han, Pool, Tran & Dally 2015, "Learning both Weights and Connections for
 * Efficient Neural Networks"): the weights of smallest |w| are set to zero and kept there while the
 * rest is fine-tuned.
 *
 *   per layer ('layer'): in each selected weight W, zero the ⌊s·numel(W)⌋ entries of smallest |w|
 *   global   ('global'): over all selected weights together, zero the ⌊s·Σ numel⌋ smallest |w|
 *
 * Ties at the threshold are broken by position (first in the layer order, then row-major), so the
 * count is exact and the masks are deterministic. Only Linear weights are pruned by default
 * (biases, LayerNorm and embeddings are left dense, as Han et al. prune connections).
 *
 * Keeping masks fixed during fine-tuning (PruningMasks): a gradient hook multiplies ∂L/∂W by the
 * mask (so clipping and logs see the masked gradient), and `attach(optimizer)` re-applies the mask
 * after every `step()` — needed because Adam's moments from before pruning would otherwise move a
 * pruned weight even with a zero gradient. With both, pruned weights stay exactly 0 through AdamW
 * with weight decay (test/compress/prune.test.ts).
 *
 * Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune", eq. 1): instead of
 * one cut, the sparsity rises during fine-tuning along the cubic schedule
 *
 *   s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³      for t ∈ {t₀, t₀ + Δt, …, t₀ + n·Δt}
 *
 * (fast at first, when redundant weights are plenty, slowly near the target); at each of those
 * steps the masks are recomputed on the current weights to s_t — never reviving a pruned weight —
 * and between them stay fixed as above. `GradualPruner.attach(optimizer)` does both after every
 * optimiser step.
 *
 * What unstructured sparsity buys on a CPU: nothing in speed here — the dense GEMM multiplies the
 * zeros too, and a sparse kernel only wins at sparsities far above 80 % for these matrix sizes (none
 * is provided). It buys size after generic compression: a float32 tensor with 80 % zeros gzips to
 * roughly a third of its size (`gzipSizes`), while dense float32 weights barely compress.
 */
import { gzipSync } from 'node:zlib';

import { noGrad } from '../autograd/engine.js';
import { Linear } from '../nn/layers.js';
import type { Module, Parameter } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { matchesTarget } from '../peft/inject.js';
import { fromTypedArray } from '../tensor/creation.js';
import { keep as keepTensor } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of {@link magnitudePrune}: the target sparsity, a global or per-layer threshold (`scope`), and which layers. */
export interface PruneOptions {
  /** Fraction of the selected weights to zero, in [0, 1). */
  sparsity: number;
  /** 'global' (default; one threshold over all selected weights) or 'layer' (the same sparsity in each). */
  scope?: 'global' | 'layer';
  /** Linear layers to prune: names / name suffixes, or a regular expression string (default: every nn.Linear). */
  modules?: string | readonly string[];
}

/** One row of the sparsity report. */
export interface LayerSparsity {
  /** The layer's name. */
  name: string;
  /** The layer's weight count. */
  numel: number;
  /** How many of them are zero. */
  zeros: number;
  /** zeros/numel. */
  sparsity: number;
}

interface Entry {
  name: string;
  param: Parameter;
  mask: Tensor;
  hook: { remove(): void };
}

/**
 * The fixed masks of a pruned model (see the file header).
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 8));
 * const masks = compress.magnitudePrune(model, { sparsity: 0.9 });  // a PruningMasks
 * const opt = masks.attach(new optim.AdamW(model.parameters(), { lr: 1e-3 })); // pruned weights stay 0 while training
 * console.log(masks.formatReport());      // per-layer sparsity
 * ```
 */
export class PruningMasks {
  private readonly entries: Entry[];

  constructor(masks: { name: string; param: Parameter; mask: Tensor }[]) {
    this.entries = masks.map((m) => {
      const e: Entry = { ...m, hook: { remove() {} } };
      e.hook = m.param.registerHook((g) => g.mul(e.mask)); // reads the entry's mask now (updated by gradual pruning)
      return e;
    });
    this.apply();
  }

  /** The pruned weights' names (`<layer>.weight`). */
  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** The 0/1 mask of a weight, by name. */
  mask(name: string): Tensor {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new Error(`PruningMasks.mask: no pruned weight '${name}'; pruned: ${this.names.join(', ')}`);
    return e.mask;
  }

  /**
   * Replaces the masks (0 = pruned), in the order of `names`, and applies them. Used by
   * GradualPruner; a weight pruned before stays pruned only if the new mask says so.
   */
  setMasks(keep: readonly Uint8Array[]): void {
    if (keep.length !== this.entries.length) throw new Error(`PruningMasks.setMasks: expected ${this.entries.length} masks (one per pruned weight), got ${keep.length}`);
    this.entries.forEach((e, k) => {
      const m = keep[k]!;
      if (m.length !== e.param.numel()) throw new Error(`PruningMasks.setMasks: the mask of ${e.name} must have ${e.param.numel()} entries, got ${m.length}`);
      // kept: setMasks may run inside a training step's tidy(), which would free a mask made there
      e.mask = keepTensor(fromTypedArray(m, e.param.shape, { dtype: 'bool' }).to({ dtype: e.param.dtype, device: e.param.device }));
    });
    this.apply();
  }

  /** The pruned parameters, in the order of `names`. */
  get parameters(): Parameter[] {
    return this.entries.map((e) => e.param);
  }

  /** Zeroes the pruned weights in place (W ← W ⊙ M). */
  apply(): void {
    noGrad(() => { for (const e of this.entries) e.param.mul_(e.mask); });
  }

  /**
   * Makes `optimizer.step()` re-apply the masks after every update, so that momentum from before
   * pruning cannot revive a pruned weight. Returns the optimizer.
   */
  attach<O extends Optimizer<any>>(optimizer: O): O {
    const step = optimizer.step.bind(optimizer);
    (optimizer as { step: () => void }).step = () => {
      step();
      this.apply();
    };
    return optimizer;
  }

  /** Removes the gradient hooks (the weights keep their zeros; further training may revive them). */
  remove(): void {
    for (const e of this.entries) e.hook.remove();
  }

  /** Per-layer and total sparsity, counted on the weights now (exact zeros). */
  report(): { layers: LayerSparsity[]; total: LayerSparsity } {
    const layers = this.entries.map((e) => {
      const w = e.param.toTypedArray();
      let zeros = 0;
      for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
      return { name: e.name, numel: w.length, zeros, sparsity: w.length ? zeros / w.length : 0 };
    });
    const numel = layers.reduce((a, l) => a + l.numel, 0);
    const zeros = layers.reduce((a, l) => a + l.zeros, 0);
    return { layers, total: { name: 'total', numel, zeros, sparsity: numel ? zeros / numel : 0 } };
  }

  /** The report as an aligned text table. */
  formatReport(): string {
    const { layers, total } = this.report();
    const w = Math.max(...[...layers, total].map((l) => l.name.length));
    return [...layers, total].map((l) => `${l.name.padEnd(w)}  ${String(l.zeros).padStart(9)} / ${String(l.numel).padStart(9)}  ${(100 * l.sparsity).toFixed(1).padStart(5)} %`).join('\n');
  }
}

/** The Linear weights selected by `modules` (default: all), by name. */
function prunableWeights(model: Module, modules: PruneOptions['modules'], what: string): { name: string; param: Parameter }[] {
  const layers: { name: string; param: Parameter }[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!name || !(m instanceof Linear)) continue;
    if (modules !== undefined && !matchesTarget(modules, name)) continue;
    layers.push({ name: `${name}.weight`, param: m.weight });
  }
  if (layers.length === 0) throw new Error(`${what}: ${modules === undefined ? `${model.constructor.name} has no nn.Linear layer` : `modules ${JSON.stringify(modules)} matches no nn.Linear layer`}`);
  return layers;
}

/**
 * The keep-masks (1 = kept) that prune the given weights to sparsity `s` by magnitude, globally or
 * per layer; ties at the threshold by position (layer order, then row-major). Weights already 0
 * are the smallest, so a pruned weight stays pruned when `s` grows.
 */
function magnitudeKeep(params: readonly Parameter[], s: number, scope: 'global' | 'layer'): Uint8Array[] {
  const values = params.map((p) => p.detach().contiguous().toTypedArray());
  const keep = values.map((v) => new Uint8Array(v.length).fill(1));
  /** Zeroes the `count` smallest |w| of the given layers; ties at the threshold by position (layer order, then row-major). */
  const prune = (ls: number[], count: number) => {
    if (count === 0) return;
    const n = ls.reduce((a, l) => a + values[l]!.length, 0);
    const mags = new Float64Array(n);
    let o = 0;
    for (const l of ls) for (const v of values[l]!) mags[o++] = Math.abs(v);
    mags.sort();
    const t = mags[count - 1]!; // the count-th smallest magnitude
    let below = 0;
    for (let j = 0; j < count; j++) if (mags[j]! < t) below++;
    let atT = count - below; // how many entries equal to t are pruned
    for (const l of ls) {
      const v = values[l]!;
      const k = keep[l]!;
      for (let i = 0; i < v.length; i++) {
        const a = Math.abs(v[i]!);
        if (a < t) k[i] = 0;
        else if (a === t && atT > 0) { k[i] = 0; atT--; }
      }
    }
  };
  if (scope === 'layer') values.forEach((v, l) => prune([l], Math.floor(s * v.length)));
  else prune(values.map((_, l) => l), Math.floor(s * values.reduce((a, v) => a + v.length, 0)));
  return keep;
}

/**
 * Magnitude-prunes the Linear weights of a model in place to a target sparsity and returns the
 * fixed masks (gradient hooks installed; call `masks.attach(optimizer)` before fine-tuning).
 * @example
 * const masks = compress.magnitudePrune(model, { sparsity: 0.8, scope: 'global' });
 * const opt = masks.attach(new optim.AdamW(model.parameters(), { lr: 2e-5, weightDecay: 0.01 }));
 * console.log(masks.formatReport());
 */
export function magnitudePrune(model: Module, opts: PruneOptions): PruningMasks {
  const s = opts.sparsity;
  if (!(typeof s === 'number' && s >= 0 && s < 1)) throw new Error(`magnitudePrune: sparsity must be a number in [0, 1), got ${s}`);
  const scope = opts.scope ?? 'global';
  if (scope !== 'global' && scope !== 'layer') throw new Error(`magnitudePrune: scope must be 'global' or 'layer', got '${scope as string}'`);
  const layers = prunableWeights(model, opts.modules, 'magnitudePrune');
  const keep = magnitudeKeep(layers.map((l) => l.param), s, scope);
  return new PruningMasks(layers.map((l, k) => ({
    name: l.name,
    param: l.param,
    mask: fromTypedArray(keep[k]!, l.param.shape, { dtype: 'bool' }).to({ dtype: l.param.dtype, device: l.param.device }),
  })));
}

/**
 * Raw float32 bytes and gzip'd bytes of the given tensors (what unstructured sparsity buys in size).
 * @example
 * ```ts
 * const w = randn([256, 256]);
 * const dense = compress.gzipSizes([w]);                       // { raw: 262144, gzip: ≈ 240 000 }
 * const sparse = compress.gzipSizes([w.mul(rand([256, 256]).gt(0.9))]); // 90 % zeros: gzip ≈ 50 000, a fifth of raw
 * ```
 */
export function gzipSizes(tensors: readonly Tensor[]): { raw: number; gzip: number } {
  const parts = tensors.map((t) => {
    const f = Float32Array.from(t.detach().contiguous().toTypedArray());
    return new Uint8Array(f.buffer);
  });
  const raw = parts.reduce((a, p) => a + p.length, 0);
  const all = new Uint8Array(raw);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return { raw, gzip: gzipSync(all, { level: 6 }).length };
}

/** The cubic schedule's parameters (Zhu & Gupta 2017, eq. 1). */
export interface SparsitySchedule {
  /** Final sparsity s_f, in [0, 1). */
  finalSparsity: number;
  /** Initial sparsity s_i (default 0). */
  initialSparsity?: number;
  /** First pruning step t₀ (default 0: prune before the first update). */
  startStep?: number;
  /** Number n of pruning events after t₀ (s reaches s_f at t₀ + n·Δt). */
  numSteps: number;
  /** Steps Δt between pruning events (default 1). */
  every?: number;
}

function checkSchedule(o: SparsitySchedule, what: string): Required<SparsitySchedule> {
  const r = { initialSparsity: 0, startStep: 0, every: 1, ...o };
  for (const k of ['finalSparsity', 'initialSparsity'] as const) {
    if (!(typeof r[k] === 'number' && r[k] >= 0 && r[k] < 1)) throw new Error(`${what}: ${k} must be a number in [0, 1), got ${r[k]}`);
  }
  if (r.initialSparsity > r.finalSparsity) throw new Error(`${what}: initialSparsity (${r.initialSparsity}) must not exceed finalSparsity (${r.finalSparsity})`);
  for (const k of ['startStep', 'numSteps', 'every'] as const) {
    if (!(Number.isInteger(r[k]) && r[k] >= (k === 'startStep' ? 0 : 1))) throw new Error(`${what}: ${k} must be an integer ≥ ${k === 'startStep' ? 0 : 1}, got ${r[k]}`);
  }
  return r;
}

/**
 * Zhu & Gupta's cubic sparsity at step t: s_i before t₀, s_f after t₀ + n·Δt, and in between
 * s_t = s_f + (s_i − s_f)·(1 − (t − t₀)/(n·Δt))³ (evaluated at the last pruning event ≤ t).
 * @example
 * cubicSparsity(50, { finalSparsity: 0.8, numSteps: 10, every: 10 }); // 0.8·(1 − 0.5³) = 0.7
 */
export function cubicSparsity(t: number, schedule: SparsitySchedule): number {
  const o = checkSchedule(schedule, 'cubicSparsity');
  if (t < o.startStep) return o.initialSparsity;
  const k = Math.min(o.numSteps, Math.floor((t - o.startStep) / o.every)); // pruning events so far − 1
  const frac = 1 - k / o.numSteps;
  return o.finalSparsity + (o.initialSparsity - o.finalSparsity) * frac * frac * frac;
}

/**
 * Gradual magnitude pruning during training (Zhu & Gupta 2017; see the file header): at steps
 * t₀, t₀ + Δt, …, t₀ + n·Δt the masks are recomputed to `cubicSparsity(t)` on the current weights
 * (pruned weights stay pruned), and after every optimiser step the masks are re-applied; the
 * gradient hooks mask ∂L/∂W as with magnitudePrune.
 * @example
 * const pruner = new compress.GradualPruner(model, { finalSparsity: 0.8, numSteps: 10, every: 20 });
 * pruner.attach(optimizer);   // then train as usual: optimizer.step() also prunes on schedule
 * pruner.masks.formatReport();
 */
export class GradualPruner {
  /** The current masks (report(), formatReport(), the hooks); replaced in place at each pruning event. */
  readonly masks: PruningMasks;
  private readonly schedule: Required<SparsitySchedule>;
  private readonly scope: 'global' | 'layer';
  /** Optimiser steps taken so far (the schedule's t). */
  step = 0;
  /** The sparsity the masks were last set to. */
  sparsity: number;

  constructor(model: Module, opts: SparsitySchedule & Omit<PruneOptions, 'sparsity'>) {
    this.schedule = checkSchedule(opts, 'GradualPruner');
    this.scope = opts.scope ?? 'global';
    if (this.scope !== 'global' && this.scope !== 'layer') throw new Error(`GradualPruner: scope must be 'global' or 'layer', got '${this.scope as string}'`);
    const layers = prunableWeights(model, opts.modules, 'GradualPruner');
    this.sparsity = cubicSparsity(0, this.schedule);
    const keep = magnitudeKeep(layers.map((l) => l.param), this.sparsity, this.scope);
    this.masks = new PruningMasks(layers.map((l, k) => ({
      name: l.name, param: l.param,
      mask: fromTypedArray(keep[k]!, l.param.shape, { dtype: 'bool' }).to({ dtype: l.param.dtype, device: l.param.device }),
    })));
  }

  /** Advances the schedule by one optimiser step: re-prunes at a pruning event, re-applies the masks. */
  afterStep(): void {
    this.step++;
    const o = this.schedule;
    const t = this.step;
    const event = t >= o.startStep && t <= o.startStep + o.numSteps * o.every && (t - o.startStep) % o.every === 0;
    const s = cubicSparsity(t, o);
    if (event && s !== this.sparsity) {
      const params = this.masks.parameters;
      const keep = magnitudeKeep(params, s, this.scope);
      // monotone: a weight pruned before stays pruned (its value is 0, the smallest, unless exact zeros tie)
      const old = params.map((_, k) => this.masks.mask(this.masks.names[k]!).toTypedArray());
      keep.forEach((m, k) => { for (let i = 0; i < m.length; i++) if (old[k]![i] === 0) m[i] = 0; });
      this.masks.setMasks(keep);
      this.sparsity = s;
    } else {
      this.masks.apply();
    }
  }

  /** Makes `optimizer.step()` call afterStep() after every update. Returns the optimizer. */
  attach<O extends Optimizer<any>>(optimizer: O): O {
    const step = optimizer.step.bind(optimizer);
    (optimizer as { step: () => void }).step = () => {
      step();
      this.afterStep();
    };
    return optimizer;
  }
}
