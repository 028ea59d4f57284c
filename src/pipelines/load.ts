/**
 * Loading a model folder for inference — the one place where a folder on disk becomes a model,
 * a tokenizer and a task. Every pipeline, `tensorgrad predict` and `tensorgrad serve` (and its
 * worker thread) load through {@link loadModelFolder}; adapter loading (PEFT) plugs in here
 * through the `adapter` option's hook, so callers do not change.
 *
 * A folder is what the `train-*` commands (or HF `save_pretrained`) write:
 *
 *   config.json          HF config (BERT: `architectures`, `id2label`; GPT: model_type gpt2 or
 *                        char-gpt, with the character list `chars`)
 *   model.safetensors    the weights (HF names)
 *   vocab.txt            WordPiece vocabulary (BERT); optional: without it the bundled
 *                        bert-base-uncased vocabulary is used when config.vocab_size is 30522
 *   tokenizer_config.json  optional: do_lower_case, model_max_length
 *
 * An int8 folder written by `tensorgrad quantize` (src/compress: `saveQuantized`) has
 * model-int8.safetensors (I8 weights + F32 per-channel scales) instead of model.safetensors: the
 * float model is built from config.json and its listed Linear layers become QuantizedLinear
 * (`loadQuantized`), so pipelines, `predict` and `serve` run it as any other folder.
 *
 * A PEFT run folder (`train-* --peft …`) has adapter_config.json + adapter_model.safetensors
 * instead of model.safetensors: the weights are read from the base folder the adapter points at
 * (`base_model_name_or_path`) and the adapter is applied on top (src/peft).
 *
 * The task comes from `architectures` (BertForTokenClassification → token-classification,
 * BertForSequenceClassification → text-classification, BertForMaskedLM → fill-mask,
 * GPT2LMHeadModel / model_type gpt2 / char-gpt → text-generation), or from the weights' names
 * when `architectures` is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BertConfig, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, type HFBertConfig } from '../nn/bert.js';
import { GPT, GPTConfig } from '../nn/gpt.js';
import { BertTokenizer, type BertTokenizerOptions } from '../data/tokenizer/index.js';
import { loadSafetensors } from '../data/safetensors.js';
import { CharVocab } from '../tasks/gpt-char.js';
import type { Tensor } from '../tensor/tensor.js';
import { isAdapterDir, loadPeftAdapter } from '../peft/io.js';
import { resolveAdapterBase } from '../peft/setup.js';
import { loadQuantized } from '../compress/quantize-io.js';
import { parseSafetensors } from '../data/safetensors-format.js';

/** The weights file of an int8 folder (tensorgrad quantize / compress.saveQuantized). */
export const INT8_WEIGHTS = 'model-int8.safetensors';

/** Thrown for folders that cannot be loaded, naming the file and what was expected. */
export class PipelineError extends Error {
  override name = 'PipelineError';
}

/** The tasks `pipeline()` serves (HF's names; `ner` and `sentiment-analysis` are accepted as aliases). */
export type PipelineTask = 'token-classification' | 'text-classification' | 'fill-mask' | 'text-generation';
export const PIPELINE_TASKS: readonly PipelineTask[] = ['token-classification', 'text-classification', 'fill-mask', 'text-generation'];

/** HF task aliases accepted by `pipeline()` (transformers accepts `ner` for token-classification, …). */
const TASK_ALIASES: Record<string, PipelineTask> = {
  ner: 'token-classification', 'sentiment-analysis': 'text-classification', 'text-generation': 'text-generation',
  'token-classification': 'token-classification', 'text-classification': 'text-classification', 'fill-mask': 'fill-mask',
};

/** Resolves a task name or HF alias (`ner`, `sentiment-analysis`); throws naming the valid ones. */
export function normalizeTask(task: string): PipelineTask {
  const t = TASK_ALIASES[task];
  if (!t) throw new PipelineError(`unknown task '${task}' (expected one of ${PIPELINE_TASKS.join(', ')}, or the aliases ner, sentiment-analysis)`);
  return t;
}

export type EncoderModel = BertForTokenClassification | BertForSequenceClassification | BertForMaskedLM;

/** A loaded BERT folder. */
export interface LoadedEncoder {
  kind: 'encoder';
  task: Exclude<PipelineTask, 'text-generation'>;
  dir: string;
  config: BertConfig;
  model: EncoderModel;
  tokenizer: BertTokenizer;
  /** Where the vocabulary came from: the folder's vocab.txt or the bundled bert-base-uncased one. */
  vocabSource: 'folder' | 'bundled bert-base-uncased';
  /** id → label (classification heads), in id order. */
  labels: string[];
}

/** A loaded GPT folder with its character vocabulary. */
export interface LoadedGenerator {
  kind: 'generator';
  task: 'text-generation';
  dir: string;
  config: GPTConfig;
  model: GPT;
  vocab: CharVocab;
}

/** A model folder loaded for inference (`loadModelFolder`): an encoder (BERT with its tokenizer and labels) or a generator (a character GPT). */
export type LoadedModel = LoadedEncoder | LoadedGenerator;

export interface LoadOptions {
  /** The task; default: read from the folder (architectures / model_type / weight names). */
  task?: PipelineTask | string;
  /**
   * Hook for adapters (PEFT): called with the freshly loaded model before it is put in eval
   * mode, e.g. to merge or attach LoRA weights. The one seam for adapter loading.
   */
  adapter?: (loaded: LoadedModel) => void;
}

function readJSON(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PipelineError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const j = JSON.parse(text) as unknown;
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error('not a JSON object');
    return j as Record<string, unknown>;
  } catch (e) {
    throw new PipelineError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

const ARCH_TASK: Record<string, PipelineTask> = {
  BertForTokenClassification: 'token-classification',
  BertForSequenceClassification: 'text-classification',
  BertForMaskedLM: 'fill-mask',
  GPT2LMHeadModel: 'text-generation',
};

/** The task a folder was trained for, from config.json and (without `architectures`) the weight names. */
export function detectTask(dir: string, config: Record<string, unknown>, weightNames: () => string[]): PipelineTask {
  const archs = Array.isArray(config.architectures) ? (config.architectures as unknown[]) : [];
  for (const a of archs) if (typeof a === 'string' && ARCH_TASK[a]) return ARCH_TASK[a]!;
  if (config.model_type === 'char-gpt' || config.model_type === 'gpt2') return 'text-generation';
  const names = weightNames();
  if (names.some((k) => k.startsWith('cls.predictions.'))) return 'fill-mask';
  if (names.includes('classifier.weight')) return names.some((k) => k.startsWith('bert.pooler.')) ? 'text-classification' : 'token-classification';
  throw new PipelineError(
    `${join(dir, 'config.json')}: cannot tell the task (no known "architectures" entry among ${JSON.stringify(archs)}, and the weights have no ` +
      `classifier or cls.predictions head); pass the task explicitly`,
  );
}

/**
 * The tokenizer of a BERT folder: its vocab.txt (with tokenizer_config.json's do_lower_case and
 * model_max_length when present), else the bundled bert-base-uncased vocabulary when the
 * config's vocab_size is 30522, else a PipelineError naming the mismatch.
 */
export function loadBertTokenizer(dir: string, vocabSize: number): { tokenizer: BertTokenizer; source: LoadedEncoder['vocabSource'] } {
  const tcPath = join(dir, 'tokenizer_config.json');
  const tc = existsSync(tcPath) ? readJSON(tcPath) : {};
  const lower = typeof tc.do_lower_case === 'boolean' ? tc.do_lower_case : true;
  const mml = typeof tc.model_max_length === 'number' && Number.isInteger(tc.model_max_length) && tc.model_max_length > 0 && tc.model_max_length < 1e9
    ? tc.model_max_length : undefined;
  // the settings HF's BertTokenizer reads from tokenizer_config.json (toHFFiles writes them)
  const opts: BertTokenizerOptions = { doLowerCase: lower, ...(mml ? { modelMaxLength: mml } : {}) };
  if (typeof tc.strip_accents === 'boolean') opts.stripAccents = tc.strip_accents;
  if (typeof tc.tokenize_chinese_chars === 'boolean') opts.tokenizeChineseChars = tc.tokenize_chinese_chars;
  for (const [key, opt] of [['unk_token', 'unkToken'], ['sep_token', 'sepToken'], ['pad_token', 'padToken'], ['cls_token', 'clsToken'], ['mask_token', 'maskToken']] as const) {
    if (typeof tc[key] === 'string') opts[opt] = tc[key] as string;
  }
  const vocabPath = join(dir, 'vocab.txt');
  let tokenizer: BertTokenizer;
  let source: LoadedEncoder['vocabSource'];
  if (existsSync(vocabPath)) {
    try {
      tokenizer = BertTokenizer.fromVocabFile(vocabPath, opts);
    } catch (e) {
      throw new PipelineError(`${vocabPath} with ${tcPath}: ${(e as Error).message}`);
    }
    source = 'folder';
  } else {
    const base = BertTokenizer.bertBaseUncased();
    if (vocabSize !== base.vocabSize) {
      throw new PipelineError(
        `${vocabPath} is missing and config.json's vocab_size is ${vocabSize}, not the ${base.vocabSize} of the bundled bert-base-uncased ` +
          `vocabulary; copy the vocab.txt the model was trained with into the folder`,
      );
    }
    tokenizer = base;
    source = 'bundled bert-base-uncased';
  }
  if (tokenizer.vocabSize > vocabSize) {
    throw new PipelineError(`${source === 'folder' ? vocabPath : 'the bundled vocabulary'} has ${tokenizer.vocabSize} tokens but config.json's vocab_size is only ${vocabSize}`);
  }
  return { tokenizer, source };
}

function loadWeights(dir: string): Record<string, Tensor> {
  const p = join(dir, 'model.safetensors');
  if (!existsSync(p)) throw new PipelineError(`${p} is missing (expected a folder written by a train-* command or save_pretrained)`);
  return loadSafetensors(p);
}

/**
 * Loads a model folder for inference (eval mode). The one model-loading function of the
 * pipelines, `predict` and `serve`.
 * @example
 * const m = loadModelFolder('out/ner'); // m.task === 'token-classification', m.tokenizer, m.model
 */
export function loadModelFolder(dirIn: string, opts: LoadOptions = {}): LoadedModel {
  if (typeof dirIn !== 'string' || !dirIn) throw new PipelineError(`loadModelFolder: dir must be a folder path, got ${JSON.stringify(dirIn)}`);
  const dir = resolve(dirIn);
  if (!existsSync(dir)) throw new PipelineError(`${dir} does not exist`);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new PipelineError(`${cfgPath} is missing (expected a folder written by a train-* command or save_pretrained)`);
  const raw = readJSON(cfgPath);
  // a PEFT run folder (train-* --peft): config.json, tokenizer files and an adapter; the weights
  // come from the base folder the adapter points at, then the adapter is applied (src/peft/setup.ts)
  const adapterDir = !existsSync(join(dir, 'model.safetensors')) && isAdapterDir(dir) ? dir : null;
  // an int8 folder (tensorgrad quantize): model-int8.safetensors instead of model.safetensors
  const int8Path = !adapterDir && !existsSync(join(dir, 'model.safetensors')) && existsSync(join(dir, INT8_WEIGHTS)) ? join(dir, INT8_WEIGHTS) : null;
  let int8Bytes: Uint8Array | null = null;
  const readInt8 = () => (int8Bytes ??= new Uint8Array(readFileSync(int8Path!)));
  let weightsDir = dir;
  if (adapterDir) {
    try {
      weightsDir = resolveAdapterBase(adapterDir);
    } catch (e) {
      throw new PipelineError((e as Error).message);
    }
  }
  let weights: Record<string, Tensor> | null = null;
  const getWeights = () => (weights ??= loadWeights(weightsDir));
  const weightNames = () => {
    if (!int8Path) return Object.keys(getWeights());
    try {
      return Object.keys(parseSafetensors(readInt8()).tensors);
    } catch (e) {
      throw new PipelineError(`${int8Path}: ${(e as Error).message}`);
    }
  };
  const task = opts.task !== undefined ? normalizeTask(String(opts.task)) : detectTask(dir, raw, weightNames);
  if (int8Path && task === 'text-generation') throw new PipelineError(`${int8Path}: int8 folders hold BERT models; an int8 text-generation model cannot be loaded`);
  let loaded: LoadedModel;
  if (task === 'text-generation') {
    loaded = loadGenerator(dir, raw, getWeights());
  } else {
    if (raw.model_type !== undefined && raw.model_type !== 'bert') {
      throw new PipelineError(`${cfgPath}: model_type '${String(raw.model_type)}' cannot run the '${task}' task (expected a BERT folder, model_type "bert")`);
    }
    let config: BertConfig;
    try {
      config = BertConfig.fromJSON(raw as HFBertConfig);
    } catch (e) {
      throw new PipelineError(`${cfgPath}: ${(e as Error).message}`);
    }
    const model = task === 'token-classification' ? new BertForTokenClassification(config)
      : task === 'text-classification' ? new BertForSequenceClassification(config) : new BertForMaskedLM(config);
    const headKey = task === 'fill-mask' ? 'cls.predictions.bias' : 'classifier.weight';
    if (int8Path) {
      if (!weightNames().includes(headKey)) throw new PipelineError(`${int8Path} has no '${headKey}': the folder holds no ${task} head`);
      try {
        loadQuantized(model, readInt8());
      } catch (e) {
        throw new PipelineError(`${int8Path}: ${(e as Error).message}`);
      }
    } else {
      const sd = getWeights();
      if (!(headKey in sd) && !adapterDir) {
        throw new PipelineError(`${join(dir, 'model.safetensors')} has no '${headKey}': the folder holds no ${task} head (a fresh head would give random outputs)`);
      }
      try {
        model.loadPretrained(sd);
      } catch (e) {
        throw new PipelineError(`${join(dir, 'model.safetensors')}: ${(e as Error).message}`);
      }
    }
    const { tokenizer, source } = loadBertTokenizer(dir, config.vocabSize);
    const labels = Array.from({ length: config.numLabels }, (_, i) => config.id2label?.[i] ?? `LABEL_${i}`);
    loaded = { kind: 'encoder', task, dir, config, model, tokenizer, vocabSource: source, labels };
  }
  if (adapterDir) {
    try {
      loadPeftAdapter(loaded.model, adapterDir);
    } catch (e) {
      throw new PipelineError((e as Error).message);
    }
  }
  opts.adapter?.(loaded);
  loaded.model.eval();
  return loaded;
}

function loadGenerator(dir: string, raw: Record<string, unknown>, sd: Record<string, Tensor>): LoadedGenerator {
  const cfgPath = join(dir, 'config.json');
  if (!Array.isArray(raw.chars)) {
    throw new PipelineError(
      `${cfgPath}: text-generation needs the character vocabulary ("chars") that train-gpt writes; GPT-2's byte-level BPE tokenizer is not implemented`,
    );
  }
  let config: GPTConfig;
  let vocab: CharVocab;
  try {
    config = GPTConfig.fromJSON(raw);
    vocab = new CharVocab(raw.chars as string[]);
  } catch (e) {
    throw new PipelineError(`${cfgPath}: ${(e as Error).message}`);
  }
  if (vocab.size !== config.vocabSize) throw new PipelineError(`${cfgPath}: ${vocab.size} characters in "chars" but vocab_size is ${config.vocabSize}`);
  const model = new GPT(config);
  try {
    if (raw.model_type === 'char-gpt') {
      // the nanoGPT (Linear) layout the first train-gpt versions wrote
      if (!sd['lm_head.weight'] && sd['transformer.wte.weight']) sd['lm_head.weight'] = sd['transformer.wte.weight'];
      model.loadStateDict(sd);
    } else {
      model.loadPretrained(sd); // HF GPT-2 layout (Conv1D weights stored (in, out))
    }
  } catch (e) {
    throw new PipelineError(`${join(dir, 'model.safetensors')}: ${(e as Error).message}`);
  }
  return { kind: 'generator', task: 'text-generation', dir, config, model, vocab };
}
