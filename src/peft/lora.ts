/**
 * LoRA: Low-Rank Adaptation (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
 * Models", ICLR 2022), as HuggingFace peft implements it.
 *
 * A frozen weight W₀ ∈ ℝ^{out×in} gets a trainable low-rank update (eq. 3):
 *
 *   h = W₀x + b + (α/r)·B·A·drop(x),     A ∈ ℝ^{r×in},  B ∈ ℝ^{out×r},  r ≪ min(in, out)
 *
 * A is drawn Kaiming-uniform with a = √5 (bound 1/√in, nn.Linear's default, as peft) and B = 0,
 * so training starts exactly at the pretrained function. Dropout acts on the LoRA branch's input
 * only. With rsLoRA (Kalajdzievski 2023) the scale is α/√r instead of α/r.
 *
 * `merge()` folds the update into the weight, W ← W₀ + (α/r)·B·A, so inference costs nothing
 * extra; `unmerge()` subtracts it again. Both are exact up to float32 rounding of the sums.
 *
 * Parameter names follow peft's saved files: a LoRA layer at `…query` holds `…query.weight`,
 * `…query.bias` (the frozen base) and `…query.lora_A.weight` (r, in), `…query.lora_B.weight`
 * (out, r); see io.ts for the `base_model.model.` prefix and `base_layer` of peft's files.
 */
import { noGrad } from '../autograd/engine.js';
import { getRngState, setRngState } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from '../nn/functional.js';
import * as init from '../nn/init.js';
import { Dropout, Linear } from '../nn/layers.js';
import { Module, type Parameter } from '../nn/module.js';
import {
  assertNoPeft, freezeAllButModulesToSave, inModulesToSave, linearNames, matchesTarget, peftState, setPeftState,
  setSubmodule, tiedParameters,
} from './inject.js';

/** Which biases train with LoRA (peft's `bias`): none, all of the model's, or those of the LoRA layers. */
export type LoraBias = 'none' | 'all' | 'lora_only';

/** LoRA hyperparameters (peft's LoraConfig, camelCased). */
export interface LoraConfig {
  /** Rank r of the update (peft default 8). */
  r: number;
  /** α: the update is scaled by α/r (peft default 8). */
  loraAlpha: number;
  /** Dropout probability on the LoRA branch's input (default 0). */
  loraDropout: number;
  /**
   * Modules to adapt: a list of names (a module matches when its dotted name equals an entry
   * or ends with `.entry`), or one regular expression that must match the whole dotted name.
   * Default: `['query', 'value']` for BERT (peft's default), `['c_attn']` for GPT.
   */
  targetModules: string[] | string;
  /** Biases that train and are saved (default 'none'). */
  bias: LoraBias;
  /** Modules trained fully and saved with the adapter, e.g. `['classifier']` (a fresh task head). */
  modulesToSave: string[] | null;
  /** rsLoRA: scale α/√r instead of α/r (default false). */
  useRslora: boolean;
  /** peft's task type (`TOKEN_CLS`, `SEQ_CLS`, `CAUSAL_LM`, …), written to adapter_config.json. */
  taskType: string | null;
}

function checkNumber(owner: string, name: string, v: unknown, ok: (x: number) => boolean, expected: string): void {
  if (typeof v !== 'number' || !ok(v)) throw new Error(`${owner}: ${name} must be ${expected}, got ${JSON.stringify(v)}`);
}

/**
 * Default LoRA targets for a model: peft's for BERT (`query`, `value`), `c_attn` for GPT.
 * @example
 * ```ts
 * peft.defaultLoraTargets(bert);        // ['query', 'value']
 * peft.defaultLoraTargets(gpt);         // ['c_attn']
 * ```
 */
export function defaultLoraTargets(model: Module): string[] {
  const names = new Set<string>();
  for (const [n] of model.namedModules()) names.add(n.split('.').pop()!);
  if (names.has('query') && names.has('value')) return ['query', 'value'];
  if (names.has('c_attn')) return ['c_attn'];
  if (names.has('q_proj') && names.has('v_proj')) return ['q_proj', 'v_proj'];
  throw new Error(`LoraConfig: targetModules has no default for ${model.constructor.name}; pass the names of Linear layers to adapt (this model has ${linearNames(model).map((n) => `'${n}'`).join(', ')})`);
}

/**
 * A complete LoraConfig from a partial one (peft's defaults), checked: each bad value is an
 * error naming the field.
 *
 * @example
 * const config = loraConfig({ r: 8, loraAlpha: 16, targetModules: ['query', 'value'] }, model);
 */
export function loraConfig(partial: Partial<LoraConfig> = {}, model?: Module): LoraConfig {
  const o = 'LoraConfig';
  const known = ['r', 'loraAlpha', 'loraDropout', 'targetModules', 'bias', 'modulesToSave', 'useRslora', 'taskType'];
  const unknown = Object.keys(partial).filter((k) => !known.includes(k));
  if (unknown.length) throw new Error(`${o}: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (expected some of ${known.join(', ')})`);
  const c: LoraConfig = {
    r: partial.r ?? 8,
    loraAlpha: partial.loraAlpha ?? 8,
    loraDropout: partial.loraDropout ?? 0,
    targetModules: partial.targetModules ?? (model ? defaultLoraTargets(model) : ['query', 'value']),
    bias: partial.bias ?? 'none',
    modulesToSave: partial.modulesToSave ?? null,
    useRslora: partial.useRslora ?? false,
    taskType: partial.taskType ?? null,
  };
  checkNumber(o, 'r', c.r, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
  checkNumber(o, 'loraAlpha', c.loraAlpha, (x) => Number.isFinite(x) && x > 0, 'a positive number');
  checkNumber(o, 'loraDropout', c.loraDropout, (x) => x >= 0 && x < 1, 'a probability in [0, 1)');
  const tm = c.targetModules;
  if (typeof tm === 'string') {
    if (tm === '') throw new Error(`${o}: targetModules must be a non-empty regular expression or list of module names, got ''`);
    try {
      new RegExp(tm);
    } catch (e) {
      throw new Error(`${o}: targetModules '${tm}' is not a valid regular expression (${(e as Error).message})`);
    }
  } else if (!Array.isArray(tm) || tm.length === 0 || tm.some((t) => typeof t !== 'string' || t === '')) {
    throw new Error(`${o}: targetModules must be a non-empty list of module names (e.g. ['query', 'value']) or a regular expression, got ${JSON.stringify(tm)}`);
  }
  if (!['none', 'all', 'lora_only'].includes(c.bias)) throw new Error(`${o}: bias must be 'none', 'all' or 'lora_only', got ${JSON.stringify(c.bias)}`);
  if (c.modulesToSave !== null && (!Array.isArray(c.modulesToSave) || c.modulesToSave.some((m) => typeof m !== 'string' || m === ''))) {
    throw new Error(`${o}: modulesToSave must be null or a list of module names, got ${JSON.stringify(c.modulesToSave)}`);
  }
  if (typeof c.useRslora !== 'boolean') throw new Error(`${o}: useRslora must be a boolean, got ${JSON.stringify(c.useRslora)}`);
  return c;
}

/**
 * A Linear layer with a LoRA update: h = W₀x + b + s·B·A·drop(x), s = α/r (or α/√r with
 * rsLoRA). W₀ and b are the base layer's own parameters (frozen by `applyLora`); A and B train.
 *
 * Shape: (*, inFeatures) → (*, outFeatures).
 * @example
 * const lora = LoraLinear.wrap(new nn.Linear(16, 8), { r: 4, loraAlpha: 8 });
 * const y = lora.forward(randn([2, 16])); // equals the base layer's output until B moves from 0
 */
export class LoraLinear extends Module {
  /** The base layer's frozen weight W₀ (outFeatures, inFeatures), the same Parameter; holds W₀ + s·B·A while merged. */
  weight: Parameter;
  /** The base layer's bias (outFeatures) or null, the same Parameter. */
  bias: Parameter | null;
  /** A: Linear(inFeatures, r) without bias, kaiming-uniform initialised (peft's init). */
  lora_A: Linear;
  /** B: Linear(r, outFeatures) without bias, initialised to zero so the update starts at ΔW = 0. */
  lora_B: Linear;
  /** Dropout(loraDropout) on the input of the LoRA branch only. */
  lora_dropout: Dropout;
  /** Input width of the base layer. */
  readonly inFeatures: number;
  /** Output width of the base layer. */
  readonly outFeatures: number;
  /** Rank r of the update B·A. */
  readonly r: number;
  /** α of the scaling s = α/r (α/√r with rsLoRA); LoraLinear.wrap defaults it to r, applyLora to 8 (peft's default). */
  readonly loraAlpha: number;
  /** s = α/r (α/√r with rsLoRA). */
  readonly scaling: number;
  private _merged = false;

  private constructor(base: Linear, r: number, loraAlpha: number, loraDropout: number, useRslora: boolean) {
    super();
    this.weight = base.weight;
    this.bias = base.bias;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.r = r;
    this.loraAlpha = loraAlpha;
    this.scaling = useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    const opts = { dtype: base.weight.dtype, device: base.weight.device, bias: false };
    this.lora_A = new Linear(base.inFeatures, r, opts); // kaiming_uniform_(a = √5), as peft
    this.lora_B = new Linear(r, base.outFeatures, opts);
    init.zeros_(this.lora_B.weight); // B = 0: ΔW = 0 at the start
    this.lora_dropout = new Dropout(loraDropout);
  }

  /** Wraps a Linear layer (sharing its weight and bias) with a fresh LoRA update. */
  static wrap(base: Linear, opts: { r: number; loraAlpha?: number; loraDropout?: number; useRslora?: boolean }): LoraLinear {
    if (!(base instanceof Linear)) throw new Error(`LoraLinear.wrap: base must be an nn.Linear, got ${(base as object)?.constructor?.name ?? typeof base}`);
    checkNumber('LoraLinear', 'r', opts.r, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
    const alpha = opts.loraAlpha ?? opts.r;
    checkNumber('LoraLinear', 'loraAlpha', alpha, (x) => Number.isFinite(x) && x > 0, 'a positive number');
    const p = opts.loraDropout ?? 0;
    checkNumber('LoraLinear', 'loraDropout', p, (x) => x >= 0 && x < 1, 'a probability in [0, 1)');
    return new LoraLinear(base, opts.r, alpha, p, opts.useRslora ?? false);
  }

  /** Whether the update is folded into the weight. */
  get merged(): boolean {
    return this._merged;
  }

  /**
   * x·W₀ᵀ + b + s·B·A·drop(x); only the base product once merged.
   * @param x - (*, inFeatures).
   * @returns (*, outFeatures).
   */
  forward(x: Tensor): Tensor {
    const base = F.linear(x, this.weight, this.bias); // W₀x + b (or (W₀ + sBA)x + b when merged)
    if (this._merged) return base;
    const z = this.lora_B.forward(this.lora_A.forward(this.lora_dropout.forward(x))); // B·A·drop(x): (*, out)
    return base.add(z.mul(this.scaling));
  }

  /** ΔW = s·B·A, (out, in), computed without recording a graph. */
  deltaWeight(): Tensor {
    return noGrad(() => this.lora_B.weight.matmul(this.lora_A.weight).mul(this.scaling));
  }

  /** W ← W₀ + s·B·A: the forward then costs one product. Throws if already merged. */
  merge(): this {
    if (this._merged) throw new Error('LoraLinear.merge: the update is already merged (call unmerge() first)');
    noGrad(() => this.weight.copy_(this.weight.add(this.deltaWeight())));
    this._merged = true;
    return this;
  }

  /** W ← W − s·B·A, undoing merge() (up to float32 rounding). Throws if not merged. */
  unmerge(): this {
    if (!this._merged) throw new Error('LoraLinear.unmerge: the update is not merged');
    noGrad(() => this.weight.copy_(this.weight.sub(this.deltaWeight())));
    this._merged = false;
    return this;
  }

  /** A plain Linear holding this layer's weight and bias (merged if merged). */
  toLinear(): Linear {
    const rng = getRngState(); // constructing a Linear draws an init we overwrite: keep the seeded stream intact
    const lin = new Linear(this.inFeatures, this.outFeatures, { dtype: this.weight.dtype, device: this.weight.device, bias: this.bias !== null });
    setRngState(rng);
    lin.weight = this.weight;
    lin.bias = this.bias;
    return lin;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, r=${this.r}, loraAlpha=${this.loraAlpha}, scaling=${this.scaling}${this._merged ? ', merged' : ''}`;
  }
}

/** What `applyLora` did. */
export interface LoraResult {
  /** The full LoRA config used (defaults filled in). */
  config: LoraConfig;
  /** Dotted names of the Linear layers that received LoRA. */
  targets: string[];
  /** Dotted names of the modules trained fully (modulesToSave found in the model). */
  modulesToSave: string[];
}

/**
 * Adds LoRA to every Linear of `model` whose name matches `targetModules` (in place, as peft's
 * `get_peft_model`), freezes everything else except the biases of `bias` and the modules of
 * `modulesToSave`. Throws when no module matches, or a match is not a Linear.
 *
 * @example
 * const model = new nn.BertForTokenClassification(config);
 * applyLora(model, { r: 8, loraAlpha: 16, loraDropout: 0.1, modulesToSave: ['classifier'] });
 * printTrainableParameters(model); // trainable params: … || all params: … || trainable%: …
 * const opt = new optim.AdamW(trainableParameters(model), { lr: 1e-3 });
 */
export function applyLora(model: Module, partial: Partial<LoraConfig> = {}): LoraResult {
  assertNoPeft('applyLora', model);
  const config = loraConfig(partial, model);
  const tied = tiedParameters(model);
  const targets: string[] = [];
  const wrong: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!name || !matchesTarget(config.targetModules, name) || inModulesToSave(config.modulesToSave, name)) continue;
    if (!(m instanceof Linear)) {
      wrong.push(`${name} (${m.constructor.name})`);
      continue;
    }
    if (tied.has(m.weight)) throw new Error(`applyLora: '${name}' shares its weight with another module (tied weights); LoRA cannot merge into a tied weight — leave it out of targetModules`);
    targets.push(name);
  }
  if (wrong.length) throw new Error(`applyLora: targetModules ${JSON.stringify(config.targetModules)} matches module(s) that are not Linear layers: ${wrong.join(', ')}; only nn.Linear is supported`);
  if (targets.length === 0) {
    throw new Error(`applyLora: targetModules ${JSON.stringify(config.targetModules)} matches no module of ${model.constructor.name} (its Linear layers are named ${linearNames(model).map((n) => `'${n}'`).join(', ')})`);
  }
  for (const name of targets) {
    const base = [...model.namedModules()].find(([n]) => n === name)![1] as Linear;
    setSubmodule(model, name, LoraLinear.wrap(base, config));
  }
  const saved = freezeAllButModulesToSave(model, config.modulesToSave);
  for (const m of model.modules()) {
    if (!(m instanceof LoraLinear)) continue;
    m.lora_A.requiresGrad_(true);
    m.lora_B.requiresGrad_(true);
    if (config.bias === 'lora_only' && m.bias) m.bias.requiresGrad = true;
  }
  if (config.bias === 'all') for (const [n, p] of model.namedParameters()) if (n === 'bias' || n.endsWith('.bias')) p.requiresGrad = true;
  setPeftState(model, { method: 'lora', config, adapted: targets });
  return { config, targets, modulesToSave: saved };
}

/**
 * Every LoRA layer of the model with its dotted name.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 2));
 * peft.applyLora(model, { r: 2, targetModules: ['0'] });
 * peft.loraLayers(model).map(([name]) => name); // ['0']
 * ```
 */
export function loraLayers(model: Module): [string, LoraLinear][] {
  return [...model.namedModules()].filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
}

/**
 * Merges every LoRA layer's update into its weight (see LoraLinear.merge).
 * @example
 * ```ts
 * peft.mergeLora(model);                // W ← W₀ + s·B·A in every LoRA layer: inference costs one product
 * peft.unmergeLora(model);              // back to training
 * ```
 */
export function mergeLora(model: Module): void {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error(`mergeLora: ${model.constructor.name} has no LoRA layers (call applyLora first)`);
  for (const [, l] of layers) if (!l.merged) l.merge();
}

/**
 * Undoes mergeLora.
 * @example
 * ```ts
 * peft.mergeLora(model);                // evaluate merged
 * peft.unmergeLora(model);              // W ← W − s·B·A: continue training the adapter
 * ```
 */
export function unmergeLora(model: Module): void {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error(`unmergeLora: ${model.constructor.name} has no LoRA layers`);
  for (const [, l] of layers) if (l.merged) l.unmerge();
}

/**
 * peft's `merge_and_unload`: merges every LoRA update and puts plain Linear layers back, so the
 * model is the original architecture with W = W₀ + s·B·A (its state dict loads where the base
 * model's does). The PEFT state is removed; every parameter is trainable again.
  * @example
  * ```ts
  * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 2));
  * peft.applyLora(model, { r: 2, targetModules: ['0', '1'] });
  * // … train …
  * peft.mergeAndUnload(model);             // plain nn.Linear layers again, W = W₀ + s·B·A
  * model.stateDict();                      // loads into the original architecture
  * ```
 */
export function mergeAndUnload(model: Module): Module {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error(`mergeAndUnload: ${model.constructor.name} has no LoRA layers (call applyLora first)`);
  for (const [name, l] of layers) {
    if (!l.merged) l.merge();
    setSubmodule(model, name, l.toLinear());
  }
  model.requiresGrad_(true);
  setPeftState(model, null);
  return model;
}

/**
 * The LoRA config attached to a model by applyLora, or null.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(4, 8));
 * peft.applyLora(model, { r: 2, targetModules: ['0'] });
 * peft.getLoraConfig(model)?.loraAlpha;   // 8 (peft's default α)
 * ```
 */
export function getLoraConfig(model: Module): LoraConfig | null {
  const s = peftState(model);
  return s?.method === 'lora' ? (s.config as LoraConfig) : null;
}
