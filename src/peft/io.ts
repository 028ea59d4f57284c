/**
 * Saving and loading PEFT adapters in HuggingFace peft's folder layout:
 *
 *   <dir>/adapter_config.json         the method's config (peft's field names, snake_case)
 *   <dir>/adapter_model.safetensors   only the trained tensors
 *
 * LoRA follows peft (checked against peft 0.21 with test/fixtures/peft/generate.py): keys are
 * `base_model.model.<module path>.lora_A.weight` (r, in) and `.lora_B.weight` (out, r); a trained
 * bias of a LoRA layer is `<path>.base_layer.bias` (peft keeps the wrapped Linear as
 * `base_layer`); other trained biases and the `modules_to_save` (task head) are stored under their
 * own names (`base_model.model.classifier.weight`). Loading also accepts peft's other spellings
 * (`.lora_A.default.weight`, `.modules_to_save.default.weight`) and ignores `.original_module.`.
 *
 * BitFit and bottleneck adapters have no peft format; tensorgrad writes them in the same layout
 * with its own `peft_type` (peft refuses to load them, by design):
 *
 *   BITFIT:  {"peft_type": "BITFIT", "tensorgrad_peft_format": 1, "base_model_name_or_path",
 *             "modules_to_save", "task_type"}; tensors: every `bias` parameter and the
 *             modules_to_save, as `base_model.model.<name>`.
 *   BOTTLENECK_ADAPTER: {"peft_type": "BOTTLENECK_ADAPTER", "tensorgrad_peft_format": 1,
 *             "adapter_size", "non_linearity", "target_modules", "train_layer_norm", "init_std",
 *             "modules_to_save", "task_type", "base_model_name_or_path"}; tensors: each adapter's
 *             `<path>.adapter.{down,up}.{weight,bias}`, the LayerNorms (with train_layer_norm)
 *             and the modules_to_save.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { loadSafetensors, safetensorsBytes } from '../data/safetensors.js';
import { GPT } from '../nn/gpt.js';
import { LayerNorm } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyAdapters, applyBitFit, type AdapterConfig, type BitFitConfig } from './adapter.js';
import { inModulesToSave, peftState } from './inject.js';
import { applyLora, LoraLinear, type LoraConfig } from './lora.js';

/** The adapter's config file name in a peft folder (HF peft's). */
export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
/** The adapter's weights file name in a peft folder (HF peft's). */
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';

/**
 * The trained tensors of a PEFT model, by the names its adapter file uses (peft's, prefix included).
 * @example
 * ```ts
 * peft.applyLora(bert, { r: 4 });
 * Object.keys(peft.adapterStateDict(bert))[0]; // 'base_model.model.encoder.layer.0.attention.self.query.lora_A.weight'
 * ```
 */
export function adapterStateDict(model: Module): Record<string, Tensor> {
  const s = peftState(model);
  if (!s) throw new Error(`adapterStateDict: ${model.constructor.name} carries no PEFT method (apply applyLora, applyBitFit or applyAdapters first)`);
  const loraLayers = new Set<string>();
  const layerNormParams = new Set<unknown>();
  for (const [n, m] of model.namedModules()) {
    if (m instanceof LoraLinear) loraLayers.add(n);
    if (m instanceof LayerNorm) for (const p of m.parameters()) layerNormParams.add(p);
  }
  const cfg = s.config as { modulesToSave: string[] | null };
  const out: Record<string, Tensor> = {};
  for (const [name, p] of model.namedParameters()) {
    const owner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    const isBias = leaf === 'bias';
    let key: string | null = null;
    if (owner && inModulesToSave(cfg.modulesToSave, owner)) key = name;
    else if (s.method === 'lora') {
      const c = s.config as LoraConfig;
      if (/\.lora_[AB]\.weight$/.test(name)) key = name;
      else if (isBias && loraLayers.has(owner) && c.bias !== 'none') key = `${owner}.base_layer.bias`;
      else if (isBias && c.bias === 'all') key = name;
    } else if (s.method === 'bitfit') {
      if (isBias) key = name;
    } else {
      const c = s.config as AdapterConfig;
      if (/\.adapter\.(down|up)\.(weight|bias)$/.test(name)) key = name;
      else if (c.trainLayerNorm && layerNormParams.has(p)) key = name;
    }
    if (key !== null) out[PREFIX + key] = noGrad(() => p.detach().contiguous());
  }
  return out;
}

/**
 * The adapter_config.json object of a PEFT model (peft's field names).
 * @example
 * ```ts
 * peft.applyLora(bert, { r: 4 });
 * peft.adapterConfigJSON(bert, 'bert-base-uncased'); // { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['query', 'value'], … }
 * ```
 */
export function adapterConfigJSON(model: Module, baseModelNameOrPath: string | null = null): Record<string, unknown> {
  const s = peftState(model);
  if (!s) throw new Error(`adapterConfigJSON: ${model.constructor.name} carries no PEFT method`);
  if (s.method === 'lora') {
    const c = s.config as LoraConfig;
    // every field peft 0.21's LoraConfig writes (so older and newer peft versions read it), with its default where unused
    return {
      alora_invocation_tokens: null, alpha_pattern: {}, arrow_config: null, auto_mapping: null,
      base_model_name_or_path: baseModelNameOrPath, bias: c.bias, corda_config: null, ensure_weight_tying: false,
      // fan_in_fan_out: HF's GPT-2 keeps Conv1D (in, out) base weights
      eva_config: null, exclude_modules: null, fan_in_fan_out: model instanceof GPT, inference_mode: true, init_lora_weights: true, kasa_config: null,
      layer_replication: null, layers_pattern: null, layers_to_transform: null, loftq_config: {},
      lora_alpha: c.loraAlpha, lora_bias: false, lora_dropout: c.loraDropout, lora_ga_config: null, megatron_config: null,
      megatron_core: 'megatron.core', modules_to_save: c.modulesToSave, monteclora_config: null, peft_type: 'LORA', qalora_group_size: 16,
      r: c.r, rank_pattern: {}, revision: null, target_modules: c.targetModules, target_parameters: null,
      task_type: c.taskType, trainable_token_indices: null, use_bdlora: null, use_dora: false, use_qalora: false,
      use_rslora: c.useRslora, velora_config: null,
    };
  }
  if (s.method === 'bitfit') {
    const c = s.config as BitFitConfig;
    return { peft_type: 'BITFIT', tensorgrad_peft_format: 1, base_model_name_or_path: baseModelNameOrPath, modules_to_save: c.modulesToSave, task_type: c.taskType };
  }
  const c = s.config as AdapterConfig;
  return {
    peft_type: 'BOTTLENECK_ADAPTER', tensorgrad_peft_format: 1, base_model_name_or_path: baseModelNameOrPath,
    adapter_size: c.adapterSize, non_linearity: c.activation, target_modules: c.targetModules,
    train_layer_norm: c.trainLayerNorm, init_std: c.initStd, modules_to_save: c.modulesToSave, task_type: c.taskType,
  };
}

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` into `dir` (created if needed).
 * `baseModelNameOrPath` is the pointer to the base model that peft and `loadPeftAdapter` read.
 * Returns the paths written.
 *
 * @example
 * applyLora(model, { r: 8, loraAlpha: 16, modulesToSave: ['classifier'], taskType: 'TOKEN_CLS' });
 * // … train …
 * savePeftAdapter(model, 'out/lora', { baseModelNameOrPath: 'out/base' });
 * // Python: PeftModel.from_pretrained(AutoModelForTokenClassification.from_pretrained('out/base'), 'out/lora')
 */
export function savePeftAdapter(model: Module, dir: string, opts: { baseModelNameOrPath?: string | null } = {}): { config: string; weights: string } {
  const files = adapterFiles(model, opts.baseModelNameOrPath ?? null);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, ADAPTER_CONFIG_NAME);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_NAME);
  writeFileSync(configPath, files[ADAPTER_CONFIG_NAME]!);
  writeFileSync(weightsPath, files[ADAPTER_WEIGHTS_NAME]!);
  return { config: configPath, weights: weightsPath };
}

/**
 * The two files of an adapter folder as bytes/text, by name (for writers that commit files atomically).
 * @example
 * ```ts
 * const files = peft.adapterFiles(model, '../bert-base'); // { 'adapter_config.json': '…', 'adapter_model.safetensors': Uint8Array }
 * ```
 */
export function adapterFiles(model: Module, baseModelNameOrPath: string | null = null): Record<string, Uint8Array | string> {
  return {
    [ADAPTER_CONFIG_NAME]: JSON.stringify(adapterConfigJSON(model, baseModelNameOrPath), null, 2) + '\n',
    [ADAPTER_WEIGHTS_NAME]: safetensorsBytes(adapterStateDict(model), { format: 'pt' }),
  };
}

/**
 * Reads and checks `<dir>/adapter_config.json`.
 * @example
 * ```ts
 * peft.readAdapterConfig('out/ner-lora').peft_type; // 'LORA'
 * ```
 */
export function readAdapterConfig(dir: string): Record<string, unknown> {
  const path = join(dir, ADAPTER_CONFIG_NAME);
  if (!existsSync(path)) throw new Error(`loadPeftAdapter: ${path} does not exist (expected a folder written by savePeftAdapter or peft's save_pretrained)`);
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`loadPeftAdapter: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error(`loadPeftAdapter: ${path} must hold a JSON object`);
  return cfg as Record<string, unknown>;
}

function unsupported(path: string, cfg: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, why: string): void {
  if (field in cfg && !ok(cfg[field])) throw new Error(`loadPeftAdapter: ${path} sets ${field} = ${JSON.stringify(cfg[field])}, which tensorgrad does not support (${why})`);
}

const isEmpty = (v: unknown) => v === null || v === undefined || v === false || (typeof v === 'object' && Object.keys(v as object).length === 0);

/** Maps a key of an adapter file to this model's parameter name (strips peft's prefix and wrappers). */
function toModelName(key: string): string | null {
  if (/\.original_module\./.test(key)) return null; // peft's frozen copy of a modules_to_save module
  let k = key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key;
  k = k.replace(/\.base_layer\./g, '.').replace(/\.modules_to_save\.default\./g, '.').replace(/\.modules_to_save\./g, '.');
  k = k.replace(/\.(lora_[AB])\.default\./g, '.$1.');
  return k;
}

/**
 * Applies the method of an adapter folder to `model` (the base model, freshly loaded) and loads
 * its tensors: a LoRA adapter saved by Python peft, or any adapter saved by `savePeftAdapter`.
 * Every tensor of the file must find its parameter and every parameter the method trains must be
 * in the file; shapes must agree. Returns the config object.
 *
 * @example
 * const model = new nn.BertForTokenClassification(config);
 * model.loadPretrained(loadSafetensors('base/model.safetensors'));
 * loadPeftAdapter(model, 'my-lora');   // peft's adapter_config.json + adapter_model.safetensors
 */
export function loadPeftAdapter(model: Module, dir: string): Record<string, unknown> {
  const cfg = readAdapterConfig(dir);
  const path = join(dir, ADAPTER_CONFIG_NAME);
  const type = cfg.peft_type;
  const modulesToSave = (cfg.modules_to_save ?? null) as string[] | null;
  const taskType = (cfg.task_type ?? null) as string | null;
  if (type === 'LORA') {
    unsupported(path, cfg, 'use_dora', isEmpty, 'DoRA');
    // fan_in_fan_out marks HF GPT-2's Conv1D base weights, stored (in, out): LoRA's A and B have the same shapes either
    // way, and tensorgrad's GPT loads GPT-2 checkpoints into Linear layers, so for a GPT it only names the base's layout
    if (!(model instanceof GPT)) unsupported(path, cfg, 'fan_in_fan_out', isEmpty, "Conv1D-style transposed base weights (GPT-2's); only a GPT model takes them");
    unsupported(path, cfg, 'rank_pattern', isEmpty, 'per-module ranks');
    unsupported(path, cfg, 'alpha_pattern', isEmpty, 'per-module alphas');
    unsupported(path, cfg, 'layers_to_transform', isEmpty, 'a subset of layers');
    unsupported(path, cfg, 'exclude_modules', isEmpty, 'excluded modules');
    unsupported(path, cfg, 'target_parameters', isEmpty, 'LoRA on bare parameters');
    unsupported(path, cfg, 'lora_bias', isEmpty, 'a bias on lora_B');
    unsupported(path, cfg, 'trainable_token_indices', isEmpty, 'trainable tokens');
    unsupported(path, cfg, 'layer_replication', isEmpty, 'layer replication');
    // peft's task types add their heads to modules_to_save; names that match no module are ignored, as peft
    applyLora(model, {
      r: cfg.r as number, loraAlpha: cfg.lora_alpha as number, loraDropout: (cfg.lora_dropout as number) ?? 0,
      targetModules: cfg.target_modules as string[] | string, bias: (cfg.bias as LoraConfig['bias']) ?? 'none',
      modulesToSave, useRslora: (cfg.use_rslora as boolean) ?? false, taskType,
    });
  } else if (type === 'BITFIT') {
    applyBitFit(model, { modulesToSave, taskType });
  } else if (type === 'BOTTLENECK_ADAPTER') {
    applyAdapters(model, {
      adapterSize: cfg.adapter_size as number, activation: cfg.non_linearity as AdapterConfig['activation'],
      targetModules: cfg.target_modules as string[] | string, trainLayerNorm: cfg.train_layer_norm as boolean,
      initStd: cfg.init_std as number, modulesToSave, taskType,
    });
  } else {
    throw new Error(`loadPeftAdapter: ${path} has peft_type ${JSON.stringify(type)}; tensorgrad loads 'LORA' (peft's format), 'BITFIT' and 'BOTTLENECK_ADAPTER'`);
  }
  const weightsPath = join(dir, ADAPTER_WEIGHTS_NAME);
  if (!existsSync(weightsPath)) throw new Error(`loadPeftAdapter: ${weightsPath} does not exist (adapter_model.bin files are not supported; save with safetensors)`);
  const file = loadSafetensors(weightsPath);
  const params = new Map(model.namedParameters());
  const expected = new Set(Object.keys(adapterStateDict(model)).map((k) => toModelName(k)!));
  const values = new Map<string, Tensor>();
  const unexpected: string[] = [];
  for (const [key, t] of Object.entries(file)) {
    const name = toModelName(key);
    if (name === null) continue;
    const p = params.get(name);
    if (!p) unexpected.push(key);
    else if (p.shape.join(',') !== t.shape.join(',')) throw new Error(`loadPeftAdapter: ${key} has shape [${t.shape.join(', ')}] but ${name} has shape [${p.shape.join(', ')}] (was the adapter trained on another base model?)`);
    else values.set(name, t);
  }
  const missing = [...expected].filter((n) => !values.has(n));
  if (unexpected.length || missing.length) {
    throw new Error(
      `loadPeftAdapter: ${weightsPath} does not fit ${model.constructor.name}` +
        (unexpected.length ? `; tensors with no parameter: ${unexpected.join(', ')}` : '') +
        (missing.length ? `; trained parameters missing from the file: ${missing.join(', ')}` : ''),
    );
  }
  noGrad(() => {
    for (const [name, t] of values) {
      const p = params.get(name)!;
      p.copy_(t.to({ dtype: p.dtype, device: p.device }));
    }
  });
  return cfg;
}

/**
 * Whether `dir` holds an adapter (adapter_config.json).
 * @example
 * ```ts
 * peft.isAdapterDir('out/ner-lora');    // true: the folder has adapter_config.json
 * ```
 */
export function isAdapterDir(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG_NAME));
}

/**
 * The adapter's pointer to its base model (`base_model_name_or_path`), or null.
 * @example
 * ```ts
 * peft.adapterBasePath('out/ner-lora'); // 'base' (a run without a pretrained base), or the absolute path of the pretrained folder
 * ```
 */
export function adapterBasePath(dir: string): string | null {
  const v = readAdapterConfig(dir).base_model_name_or_path;
  return typeof v === 'string' && v !== '' ? v : null;
}


