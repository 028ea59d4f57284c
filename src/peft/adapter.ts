/**
 * Bottleneck adapters (Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP",
 * ICML), and BitFit (Ben Zaken et al. 2022, "BitFit: Simple Parameter-efficient Fine-tuning for
 * Transformer-based Masked Language-models", ACL).
 *
 * Adapter (Houlsby §2.1, Fig. 2): a small module inserted after a sub-layer's output
 * projection, before the residual sum and its LayerNorm, in every Transformer layer — once after
 * the attention output, once after the feed-forward:
 *
 *   adapter(h) = h + W_up·f(W_down·h + b_down) + b_up,   W_down ∈ ℝ^{m×d}, W_up ∈ ℝ^{d×m}, m ≪ d
 *
 * Near-identity initialisation (Houlsby §3.6): weights ~ N(0, σ²) truncated at 2σ, σ = 10⁻²,
 * biases 0, so the adapted network starts (almost) at the pretrained one. Only the adapters, the
 * LayerNorms (Houlsby trains them too; `trainLayerNorm`) and the task head train.
 *
 * The adapter wraps the output projection (`attention.output.dense` and `output.dense` in BERT,
 * `attn.c_proj` and `mlp.c_proj` in GPT): the sub-layer's dropout then acts on the adapter's
 * output, where Houlsby's figure draws none; in evaluation both are the same function.
 *
 * BitFit (Ben Zaken et al. §2): freeze every weight, train only the bias terms (all parameters
 * named `bias`, LayerNorm's β included, as the paper's code), optionally with the task head.
 */
import { noGrad } from '../autograd/engine.js';
import { fromTypedArray, randn } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from '../nn/functional.js';
import * as init from '../nn/init.js';
import { LayerNorm, Linear } from '../nn/layers.js';
import { Module, type Parameter } from '../nn/module.js';
import { assertNoPeft, freezeAllButModulesToSave, inModulesToSave, linearNames, matchesTarget, peftState, setPeftState, setSubmodule } from './inject.js';

/** The nonlinearity f of an adapter. */
export type AdapterActivation = 'relu' | 'gelu' | 'tanh';

/**
 * Fills `t` with N(0, std²) truncated to [−2std, 2std] (values outside are redrawn), from the seeded generator.
 * @example
 * ```ts
 * const w = zeros([64, 8]);
 * peft.truncNormal_(w, 0.01);             // every value within ±0.02
 * ```
 */
export function truncNormal_(t: Tensor, std: number): Tensor {
  if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`truncNormal_: std must be a finite number ≥ 0, got ${std}`);
  return noGrad(() => {
    const n = t.numel();
    const out = new Float64Array(n);
    let filled = 0;
    while (filled < n) {
      const z = randn([n - filled], { dtype: 'float64' }).toTypedArray() as Float64Array;
      for (let i = 0; i < z.length; i++) if (Math.abs(z[i]!) <= 2) out[filled++] = z[i]! * std;
    }
    return t.copy_(fromTypedArray(out, t.shape).to({ dtype: t.dtype, device: t.device }));
  });
}

/**
 * The bottleneck module: h + W_up·f(W_down·h + b_down) + b_up.
 *
 * Shape: (*, d) → (*, d).
 * @example
 * const a = new BottleneckAdapter(64, 8);   // 2·64·8 + 8 + 64 parameters
 * const y = a.forward(randn([2, 5, 64]));   // ≈ the input at initialisation
 */
export class BottleneckAdapter extends Module {
  /** Down-projection W_down: Linear(hiddenSize, adapterSize), weight ~ truncated N(0, initStd²), bias 0. */
  down: Linear;
  /**
   * Up-projection W_up: Linear(adapterSize, hiddenSize), weight ~ truncated N(0, initStd²), bias 0 (so the adapter starts near the identity).
   */
  up: Linear;
  constructor(readonly hiddenSize: number, readonly adapterSize: number, readonly activation: AdapterActivation = 'relu', opts: { initStd?: number; dtype?: Tensor['dtype']; device?: string } = {}) {
    super();
    for (const [k, v] of [['hiddenSize', hiddenSize], ['adapterSize', adapterSize]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`BottleneckAdapter: ${k} must be a positive integer, got ${v}`);
    }
    if (!['relu', 'gelu', 'tanh'].includes(activation)) throw new Error(`BottleneckAdapter: activation must be 'relu', 'gelu' or 'tanh', got ${JSON.stringify(activation)}`);
    const std = opts.initStd ?? 1e-2;
    const f = { dtype: opts.dtype, device: opts.device };
    this.down = new Linear(hiddenSize, adapterSize, f);
    this.up = new Linear(adapterSize, hiddenSize, f);
    truncNormal_(this.down.weight, std); // near-identity init (Houlsby §3.6)
    truncNormal_(this.up.weight, std);
    init.zeros_(this.down.bias!);
    init.zeros_(this.up.bias!);
  }
  /**
   * h + up(f(down(h))).
   * @param h - (*, hiddenSize).
   * @returns (*, hiddenSize).
   */
  forward(h: Tensor): Tensor {
    const z = this.down.forward(h); // (*, m)
    const a = this.activation === 'relu' ? z.relu() : this.activation === 'gelu' ? z.gelu() : z.tanh();
    return h.add(this.up.forward(a)); // residual: (*, d)
  }
  override extraRepr(): string {
    return `hiddenSize=${this.hiddenSize}, adapterSize=${this.adapterSize}, activation=${this.activation}`;
  }
}

/**
 * A Linear layer followed by a bottleneck adapter: y = adapter(W₀x + b). W₀ and b are the base
 * layer's own parameters (so checkpoint names stay `…dense.weight`); the adapter's are
 * `…dense.adapter.down.weight`, ….
  * @example
  * ```ts
  * const layer = new peft.AdapterLinear(new nn.Linear(16, 16), 4); // bottleneck of 4, ReLU
  * layer.forward(randn([2, 16])).shape;    // [2, 16]; ≈ the base layer's output at initialisation
  * ```
 */
export class AdapterLinear extends Module {
  /** The base layer's weight (outFeatures, inFeatures), the same Parameter (frozen by applyAdapters). */
  weight: Parameter;
  /** The base layer's bias (outFeatures) or null, the same Parameter. */
  bias: Parameter | null;
  /** The bottleneck adapter applied to the base layer's output (hiddenSize = outFeatures). */
  adapter: BottleneckAdapter;
  /** Input width of the base layer. */
  readonly inFeatures: number;
  /** Output width of the base layer (and the adapter's hidden size). */
  readonly outFeatures: number;
  constructor(base: Linear, adapterSize: number, activation: AdapterActivation = 'relu', initStd = 1e-2) {
    super();
    if (!(base instanceof Linear)) throw new Error(`AdapterLinear: base must be an nn.Linear, got ${(base as object)?.constructor?.name ?? typeof base}`);
    this.weight = base.weight;
    this.bias = base.bias;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.adapter = new BottleneckAdapter(base.outFeatures, adapterSize, activation, { initStd, dtype: base.weight.dtype, device: base.weight.device });
  }
  /**
   * adapter(x·W₀ᵀ + b).
   * @param x - (*, inFeatures).
   * @returns (*, outFeatures).
   */
  forward(x: Tensor): Tensor {
    return this.adapter.forward(F.linear(x, this.weight, this.bias));
  }
}

/** Adapter hyperparameters. */
export interface AdapterConfig {
  /** Bottleneck size m (Houlsby tried 8–256; default 64). */
  adapterSize: number;
  /** The bottleneck nonlinearity f: 'relu' (default), 'gelu' or 'tanh'. */
  activation: AdapterActivation;
  /** Output projections to follow with an adapter; default: BERT's attention/FFN outputs, GPT's c_proj. */
  targetModules: string[] | string;
  /** Train the LayerNorms as well (Houlsby: yes; default true). */
  trainLayerNorm: boolean;
  /** σ of the near-identity init (default 1e-2). */
  initStd: number;
  /** Modules trained fully and saved with the adapter (e.g. `['classifier']`, a fresh task head), or null (default). */
  modulesToSave: string[] | null;
  /** peft's task type (`TOKEN_CLS`, `SEQ_CLS`, `CAUSAL_LM`, …) written to adapter_config.json, or null (default). */
  taskType: string | null;
}

/**
 * Default adapter positions: after attention output and FFN output of each layer.
 * @example
 * ```ts
 * peft.defaultAdapterTargets(bert);     // '(.*\.)?layer\.\d+\.(attention\.)?output\.dense'
 * peft.defaultAdapterTargets(gpt);      // '(.*\.)?h\.\d+\.(attn|mlp)\.c_proj'
 * ```
 */
export function defaultAdapterTargets(model: Module): string {
  const names = [...model.namedModules()].map(([n]) => n);
  if (names.some((n) => /(^|\.)attention\.output\.dense$/.test(n))) return '(.*\\.)?layer\\.\\d+\\.(attention\\.)?output\\.dense';
  if (names.some((n) => /(^|\.)attn\.c_proj$/.test(n))) return '(.*\\.)?h\\.\\d+\\.(attn|mlp)\\.c_proj';
  throw new Error(`AdapterConfig: targetModules has no default for ${model.constructor.name}; pass the names of the output projections to follow with adapters (its Linear layers are named ${linearNames(model).map((n) => `'${n}'`).join(', ')})`);
}

/**
 * A complete, checked bottleneck-adapter config from a partial one (defaults: size 64, ReLU, BERT's attention-output and FFN-output targets); names the field when one is invalid.
 * @example
 * ```ts
 * const c = peft.adapterConfig({ adapterSize: 16 });
 * c.activation;                           // 'relu'
 * c.initStd;                              // 0.01
 * peft.adapterConfig({ adapterSize: 0 }); // throws: AdapterConfig: adapterSize must be a positive integer, got 0
 * ```
 */
export function adapterConfig(partial: Partial<AdapterConfig> = {}, model?: Module): AdapterConfig {
  const o = 'AdapterConfig';
  const known = ['adapterSize', 'activation', 'targetModules', 'trainLayerNorm', 'initStd', 'modulesToSave', 'taskType'];
  const unknown = Object.keys(partial).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${o}: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (expected some of ${known.join(', ')})`);
  const c: AdapterConfig = {
    adapterSize: partial.adapterSize ?? 64,
    activation: partial.activation ?? 'relu',
    targetModules: partial.targetModules ?? (model ? defaultAdapterTargets(model) : '(.*\\.)?layer\\.\\d+\\.(attention\\.)?output\\.dense'),
    trainLayerNorm: partial.trainLayerNorm ?? true,
    initStd: partial.initStd ?? 1e-2,
    modulesToSave: partial.modulesToSave ?? null,
    taskType: partial.taskType ?? null,
  };
  if (!Number.isInteger(c.adapterSize) || c.adapterSize <= 0) throw new Error(`${o}: adapterSize must be a positive integer, got ${JSON.stringify(c.adapterSize)}`);
  if (!['relu', 'gelu', 'tanh'].includes(c.activation)) throw new Error(`${o}: activation must be 'relu', 'gelu' or 'tanh', got ${JSON.stringify(c.activation)}`);
  if (!(typeof c.initStd === 'number' && c.initStd >= 0 && Number.isFinite(c.initStd))) throw new Error(`${o}: initStd must be a finite number ≥ 0, got ${JSON.stringify(c.initStd)}`);
  if (typeof c.trainLayerNorm !== 'boolean') throw new Error(`${o}: trainLayerNorm must be a boolean, got ${JSON.stringify(c.trainLayerNorm)}`);
  const tm = c.targetModules;
  if (typeof tm !== 'string' && (!Array.isArray(tm) || tm.length === 0 || tm.some((t) => typeof t !== 'string' || t === ''))) {
    throw new Error(`${o}: targetModules must be a non-empty list of module names or a regular expression, got ${JSON.stringify(tm)}`);
  }
  return c;
}

/**
 * Inserts bottleneck adapters after the matching output projections (in place) and freezes
 * everything but the adapters, the LayerNorms (with `trainLayerNorm`) and `modulesToSave`.
 *
 * @example
 * applyAdapters(model, { adapterSize: 16, modulesToSave: ['classifier'] });
 */
export function applyAdapters(model: Module, partial: Partial<AdapterConfig> = {}): { config: AdapterConfig; targets: string[] } {
  assertNoPeft('applyAdapters', model);
  const config = adapterConfig(partial, model);
  const targets: string[] = [];
  const wrong: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!name || !matchesTarget(config.targetModules, name) || inModulesToSave(config.modulesToSave, name)) continue;
    if (m instanceof Linear) targets.push(name);
    else wrong.push(`${name} (${m.constructor.name})`);
  }
  if (wrong.length) throw new Error(`applyAdapters: targetModules ${JSON.stringify(config.targetModules)} matches module(s) that are not Linear layers: ${wrong.join(', ')}`);
  if (targets.length === 0) throw new Error(`applyAdapters: targetModules ${JSON.stringify(config.targetModules)} matches no module of ${model.constructor.name} (its Linear layers are named ${linearNames(model).map((n) => `'${n}'`).join(', ')})`);
  const byName = new Map(model.namedModules());
  for (const name of targets) setSubmodule(model, name, new AdapterLinear(byName.get(name) as Linear, config.adapterSize, config.activation, config.initStd));
  freezeAllButModulesToSave(model, config.modulesToSave);
  for (const m of model.modules()) {
    if (m instanceof AdapterLinear) m.adapter.requiresGrad_(true);
    if (config.trainLayerNorm && m instanceof LayerNorm) m.requiresGrad_(true);
  }
  setPeftState(model, { method: 'adapter', config, adapted: targets });
  return { config, targets };
}

/** BitFit options. */
export interface BitFitConfig {
  /** Modules trained fully besides the biases (e.g. `['classifier']`, the task head). */
  modulesToSave: string[] | null;
  /** peft's task type (`TOKEN_CLS`, `SEQ_CLS`, `CAUSAL_LM`, …) written to adapter_config.json, or null (default). */
  taskType: string | null;
}

/**
 * BitFit: freezes every parameter except those named `bias` (and the `modulesToSave`).
 * Returns the names of the trainable parameters.
 *
 * @example
 * applyBitFit(model, { modulesToSave: ['classifier'] }); // biases + the task head
 */
export function applyBitFit(model: Module, partial: Partial<BitFitConfig> = {}): string[] {
  assertNoPeft('applyBitFit', model);
  const known = ['modulesToSave', 'taskType'];
  const unknown = Object.keys(partial).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`BitFitConfig: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (expected some of ${known.join(', ')})`);
  const config: BitFitConfig = { modulesToSave: partial.modulesToSave ?? null, taskType: partial.taskType ?? null };
  freezeAllButModulesToSave(model, config.modulesToSave);
  const biases: string[] = [];
  for (const [n, p] of model.namedParameters()) {
    if (n === 'bias' || n.endsWith('.bias')) {
      p.requiresGrad = true;
      biases.push(n);
    }
  }
  if (biases.length === 0) throw new Error(`applyBitFit: ${model.constructor.name} has no bias parameters to train`);
  setPeftState(model, { method: 'bitfit', config, adapted: [] });
  return [...model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
}

/**
 * The adapter config a model was set up with by `applyAdapters`, or null.
 * @example
 * ```ts
 * peft.applyAdapters(model, { adapterSize: 16 });
 * peft.getAdapterConfig(model)?.adapterSize; // 16
 * peft.getAdapterConfig(new nn.Linear(2, 2)); // null
 * ```
 */
export function getAdapterConfig(model: Module): AdapterConfig | null {
  const s = peftState(model);
  return s?.method === 'adapter' ? (s.config as AdapterConfig) : null;
}
