/**
 * PEFT in the training workflows (train-ner, train-classifier, train-gpt and their APIs): one
 * options object that picks the method, applies it to a freshly built model, and writes the run's
 * output folder — the adapter alone plus a pointer to its base, or a merged full model.
 *
 * Output folder of a PEFT run (`outDir`):
 *
 *   adapter_config.json, adapter_model.safetensors   the adapter (io.ts), `base_model_name_or_path`
 *                                                    pointing at the base model folder
 *   base/config.json, base/model.safetensors         only when the run had no pretrained base
 *                                                    (`--init`): the random initialisation it
 *                                                    started from, so that base + adapter reload
 *   merged/config.json, merged/model.safetensors     with `merge`: the full model (LoRA folded
 *                                                    into the weights; BitFit's biases in place)
 *
 * `loadWithAdapter(model, dir)` is the inverse: base weights from the pointer, then the adapter.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../data/safetensors.js';
import type { Module, StateDict } from '../nn/module.js';
import { applyAdapters, applyBitFit } from './adapter.js';
import { countParameters, freeze, formatTrainableParameters, type ParameterCount } from './freeze.js';
import { peftState } from './inject.js';
import { adapterBasePath, adapterFiles, ADAPTER_CONFIG_NAME, loadPeftAdapter, savePeftAdapter } from './io.js';
import { applyLora, mergeAndUnload } from './lora.js';

/** A parameter-efficient fine-tuning method of the training commands: none, BitFit, LoRA or bottleneck adapters. */
export type PeftMethod = 'none' | 'bitfit' | 'lora' | 'adapter';
/** Every {@link PeftMethod}, as the CLI accepts them. */
export const PEFT_METHODS: readonly PeftMethod[] = ['none', 'bitfit', 'lora', 'adapter'];

/** How a training run adapts its model (all optional but `method`). */
export interface PeftOptions {
  /** 'none' (full fine-tuning, with optional `freeze`), 'bitfit', 'lora' or 'adapter'. */
  method: PeftMethod;
  /** LoRA rank r (default 8). */
  loraR?: number;
  /** LoRA α (default: 2r, a common choice; peft's own default is 8). */
  loraAlpha?: number;
  /** Dropout probability in [0, 1) on the LoRA branch's input (default 0). */
  loraDropout?: number;
  /** LoRA target module names (default: the model's, see defaultLoraTargets). */
  loraTargets?: string[];
  /** Bottleneck size of adapters (default 64). */
  adapterSize?: number;
  /** Extra parameter-name globs to freeze (after the method); with method 'none', e.g. the lower layers. */
  freeze?: string[];
  /** Also write the merged full model (`merged/`). */
  merge?: boolean;
}

/** The command-line flag of each PeftOptions field, named in error messages beside the field. */
const FLAG: Record<string, string> = {
  method: '--peft', loraR: '--lora-r', loraAlpha: '--lora-alpha', loraDropout: '--lora-dropout', loraTargets: '--lora-targets',
  adapterSize: '--adapter-size', freeze: '--freeze', merge: '--merge',
};
const opt = (k: string) => `${k} (${FLAG[k]})`;

/**
 * Checks a PeftOptions object; messages name the field and its command-line flag.
 * @example
 * ```ts
 * peft.checkPeftOptions({ method: 'lora', loraR: 8 });  // fine
 * peft.checkPeftOptions({ method: 'bitfit', loraR: 8 }); // throws: peft: loraR (--lora-r) applies only to method 'lora' (the method is 'bitfit')
 * ```
 */
export function checkPeftOptions(p: PeftOptions): void {
  if (!PEFT_METHODS.includes(p.method)) throw new Error(`peft: ${opt('method')} must be one of ${PEFT_METHODS.join(', ')}, got ${JSON.stringify(p.method)}`);
  const lora = ['loraR', 'loraAlpha', 'loraDropout', 'loraTargets'] as const;
  for (const k of lora) if (p[k] !== undefined && p.method !== 'lora') throw new Error(`peft: ${opt(k)} applies only to method 'lora' (the method is '${p.method}')`);
  if (p.adapterSize !== undefined && p.method !== 'adapter') throw new Error(`peft: ${opt('adapterSize')} applies only to method 'adapter' (the method is '${p.method}')`);
  if (p.loraR !== undefined && !(Number.isInteger(p.loraR) && p.loraR > 0)) throw new Error(`peft: ${opt('loraR')} must be a positive integer, got ${p.loraR}`);
  if (p.loraAlpha !== undefined && !(Number.isFinite(p.loraAlpha) && p.loraAlpha > 0)) throw new Error(`peft: ${opt('loraAlpha')} must be a positive number, got ${p.loraAlpha}`);
  if (p.loraDropout !== undefined && !(p.loraDropout >= 0 && p.loraDropout < 1)) throw new Error(`peft: ${opt('loraDropout')} must be in [0, 1), got ${p.loraDropout}`);
  if (p.loraTargets !== undefined && (!Array.isArray(p.loraTargets) || p.loraTargets.length === 0 || p.loraTargets.some((t) => typeof t !== 'string' || t === ''))) {
    throw new Error(`peft: ${opt('loraTargets')} must be a non-empty list of module names, got ${JSON.stringify(p.loraTargets)}`);
  }
  if (p.adapterSize !== undefined && !(Number.isInteger(p.adapterSize) && p.adapterSize > 0)) throw new Error(`peft: ${opt('adapterSize')} must be a positive integer, got ${p.adapterSize}`);
  if (p.freeze !== undefined && (!Array.isArray(p.freeze) || p.freeze.some((t) => typeof t !== 'string' || t === ''))) throw new Error(`peft: ${opt('freeze')} must be a list of parameter-name globs, got ${JSON.stringify(p.freeze)}`);
  if (p.merge && p.method === 'adapter') throw new Error(`peft: ${opt('merge')} applies to 'lora' and 'bitfit' (bottleneck adapters add layers and cannot be folded into the base weights)`);
  if (p.merge && p.method === 'none') throw new Error(`peft: ${opt('merge')} needs a PEFT method ('lora' or 'bitfit'); with method 'none' the saved model is already the full model`);
}

/** Runs fn, prefixing an error with the option it came from. */
function naming<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`peft: ${opt(field)}: ${(e as Error).message}`);
  }
}

/**
 * Splits a comma-separated list, keeping commas inside braces ('a.{0,1}.*,b' → ['a.{0,1}.*', 'b']).
 * @example
 * ```ts
 * peft.splitList('query, value');         // ['query', 'value']
 * peft.splitList('layer.{0,1}.*,classifier'); // ['layer.{0,1}.*', 'classifier']
 * ```
 */
export function splitList(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const c of s) {
    if (c === '{') depth++;
    if (c === '}') depth = Math.max(0, depth - 1);
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((x) => x !== '');
}

/** What applyPeft did: the counts and peft's one-line summary. */
export interface PeftSummary extends ParameterCount {
  /** The method that was applied. */
  method: PeftMethod;
  /** peft's `print_trainable_parameters` line, e.g. `trainable params: 563 || all params: 6,438 || trainable%: 8.7450`. */
  line: string;
  /** Modules adapted (LoRA / adapters). */
  adapted: string[];
}

/**
 * Applies `p` to a freshly built (and, if any, pretrained-loaded) model: the method, then the
 * freeze patterns. `head` names the task head trained fully and saved with the adapter
 * (e.g. `['classifier']`; none for a language model whose head is tied).
 *
 * @example
 * applyPeft(model, { method: 'lora', loraR: 8 }, { head: ['classifier'], taskType: 'TOKEN_CLS' });
 */
export function applyPeft(model: Module, p: PeftOptions, task: { head: string[]; taskType: string | null }): PeftSummary {
  checkPeftOptions(p);
  const modulesToSave = task.head.length ? task.head : null;
  let adapted: string[] = [];
  if (p.method === 'lora') {
    const r = p.loraR ?? 8;
    adapted = naming('loraTargets', () => applyLora(model, {
      r, loraAlpha: p.loraAlpha ?? 2 * r, loraDropout: p.loraDropout ?? 0,
      ...(p.loraTargets ? { targetModules: p.loraTargets } : {}), modulesToSave, taskType: task.taskType,
    })).targets;
  } else if (p.method === 'bitfit') applyBitFit(model, { modulesToSave, taskType: task.taskType });
  else if (p.method === 'adapter') adapted = applyAdapters(model, { adapterSize: p.adapterSize ?? 64, modulesToSave, taskType: task.taskType }).targets;
  if (p.freeze?.length) naming('freeze', () => freeze(model, p.freeze!));
  const c = countParameters(model);
  if (c.trainable === 0) throw new Error(`peft: nothing left to train (every parameter of ${model.constructor.name} is frozen; check ${opt('freeze')})`);
  return { ...c, method: p.method, line: formatTrainableParameters(model), adapted };
}

/**
 * Whether the run saves an adapter (a PEFT method) rather than the full model.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(4, 8));
 * peft.savesAdapter(model);               // false: a full model
 * peft.applyBitFit(model);
 * peft.savesAdapter(model);               // true
 * ```
 */
export function savesAdapter(model: Module): boolean {
  return peftState(model) !== null;
}

/**
 * Writes the adapter of a PEFT run into `outDir` (see the file header), pointing at `baseDir`
 * (the pretrained folder the run started from) or, when null, at `base/` written here from
 * `baseStateDict` (the run's initial weights). With `merge`, also `merged/`. `configJson` is the
 * model's config.json (written beside the base and the merged model). Returns the files written.
  * @example
  * ```ts
  * const written = peft.savePeftRun(model, 'out/ner-lora', { baseDir: 'out/bert-base', baseStateDict: null, configJson: model.config.toJSON() });
  * ```
 */
export function savePeftRun(model: Module, outDir: string, o: {
  baseDir: string | null; baseStateDict: StateDict | null; configJson: Record<string, unknown>; merge?: boolean;
}): string[] {
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  let pointer: string;
  if (o.baseDir) {
    pointer = resolve(o.baseDir); // absolute: Python peft resolves the pointer from its working directory
  } else {
    if (!o.baseStateDict) throw new Error('savePeftRun: without baseDir the run must pass baseStateDict (its initial weights)');
    const b = join(outDir, 'base');
    mkdirSync(b, { recursive: true });
    saveSafetensors(o.baseStateDict, join(b, 'model.safetensors'));
    writeFileSync(join(b, 'config.json'), JSON.stringify(o.configJson, null, 2));
    files.push(join(b, 'model.safetensors'), join(b, 'config.json'));
    pointer = 'base';
  }
  const w = savePeftAdapter(model, outDir, { baseModelNameOrPath: pointer });
  files.unshift(w.config, w.weights);
  if (o.merge) {
    const method = peftState(model)?.method;
    if (method === 'adapter') throw new Error('savePeftRun: merge applies to LoRA and BitFit, not to bottleneck adapters');
    const m = join(outDir, 'merged');
    mkdirSync(m, { recursive: true });
    if (method === 'lora') mergeAndUnload(model);
    saveSafetensors(model.stateDict(), join(m, 'model.safetensors'));
    writeFileSync(join(m, 'config.json'), JSON.stringify(o.configJson, null, 2));
    files.push(join(m, 'model.safetensors'), join(m, 'config.json'));
  }
  return files;
}

/** A folder's files by name (text or bytes), as the training loop's atomic writer commits them. */
export type FileMap = Record<string, Uint8Array | string>;

/** What a PEFT run writes, by folder: the run folder, `base/` (no pretrained base given), `merged/` (on request). */
export interface PeftRunFiles {
  /** The run folder: the full model's files without the weights, plus the adapter. */
  adapter: FileMap;
  /** The `base/` folder: the model before the method (its random initialisation), written when no pretrained base folder was given. */
  base?: FileMap;
  /** Merges LoRA into the model (in place) and returns the full model's files: call it last. */
  merged?: () => FileMap;
}

/**
 * The model files of a training run that used a PEFT method (null when it did not: the run
 * then writes `modelFiles()` as usual). `modelFiles()` gives the full model's files (weights,
 * config.json, tokenizer files) for the model as it is now; `baseFiles` are those files taken
 * before the method was applied, needed when the run had no pretrained base (`baseDir` null):
 * they become `base/`, and the adapter points at it. With `peft.merge`, `merged()` folds LoRA in.
  * @example
  * ```ts
  * const files = peft.peftRunFiles(model, { peft: { method: 'lora' }, baseDir: null, baseFiles, modelFiles });
  * files?.adapter;                       // adapter_config.json, adapter_model.safetensors, config.json, …
  * files?.base;                          // the initial weights, written to base/
  * ```
 */
export function peftRunFiles(model: Module, o: {
  peft?: PeftOptions | null; baseDir: string | null; baseFiles: FileMap | null; modelFiles: () => FileMap;
}): PeftRunFiles | null {
  if (!savesAdapter(model)) return null;
  if (!o.baseDir && !o.baseFiles) throw new Error('peftRunFiles: a run without a pretrained base (baseDir) must pass baseFiles (its initial model)');
  const { 'model.safetensors': _weights, ...rest } = o.modelFiles();
  const out: PeftRunFiles = { adapter: { ...rest, ...adapterFiles(model, o.baseDir ? resolve(o.baseDir) : 'base') } };
  if (!o.baseDir) out.base = o.baseFiles!;
  if (o.peft?.merge) {
    out.merged = () => {
      if (peftState(model)?.method === 'lora') mergeAndUnload(model);
      return o.modelFiles();
    };
  }
  return out;
}

/**
 * The base folder an adapter folder points at, resolved (relative to the adapter folder, then the working directory).
 * @example
 * ```ts
 * peft.resolveAdapterBase('out/ner-lora'); // '/abs/path/out/ner-lora/base'
 * ```
 */
export function resolveAdapterBase(dir: string): string {
  const ptr = adapterBasePath(dir);
  if (!ptr) throw new Error(`${join(dir, ADAPTER_CONFIG_NAME)} has no base_model_name_or_path: cannot tell which base model the adapter belongs to`);
  const candidates = isAbsolute(ptr) ? [ptr] : [resolve(dir, ptr), resolve(ptr)];
  for (const c of candidates) if (existsSync(join(c, 'model.safetensors'))) return c;
  throw new Error(`${join(dir, ADAPTER_CONFIG_NAME)} points at base '${ptr}', but no model.safetensors is there (looked in ${candidates.join(', ')})`);
}

/**
 * Loads base + adapter into `model` (built from the run's config.json): the base weights from
 * the folder the adapter points at (`loadPretrained` where the model has it, so a pre-training
 * checkpoint's head is skipped as in training), then the adapter. Returns the base folder.
 *
 * @example
 * const model = new nn.BertForTokenClassification(config);
 * loadWithAdapter(model, 'out/ner-lora');   // out/ner-lora → its base → + the LoRA adapter
 */
export function loadWithAdapter(model: Module, dir: string): string {
  const base = resolveAdapterBase(dir);
  const weights = loadSafetensors(join(base, 'model.safetensors'));
  const m = model as Module & { loadPretrained?: (sd: StateDict) => unknown };
  if (typeof m.loadPretrained === 'function') m.loadPretrained(weights);
  else model.loadStateDict(weights);
  loadPeftAdapter(model, dir);
  return base;
}
