/**
 * `pipeline(task, modelDir, opts)` — transformers' habit: load a folder once, call it on a
 * string or a list of strings.
 *
 *   const ner = pipeline('token-classification', 'out/ner', { aggregationStrategy: 'simple' });
 *   ner('Ishmael sailed from Nantucket');        // [{ entity_group: 'PER', score, word, start, end }, …]
 *   ner(['one text', 'another']);               // one list per text
 *
 * The returned function also carries the pipeline object (`.pipeline`) for the phases the
 * server uses (preprocess / forward / postprocess) and `.loaded` (model, tokenizer, config).
 */
import { loadModelFolder, normalizeTask, PipelineError, type LoadedEncoder, type LoadedGenerator, type LoadedModel, type LoadOptions, type PipelineTask } from './load.js';
import { TokenClassificationPipeline, type GroupedEntity, type TokenClassificationParams, type TokenEntity } from './token-classification.js';
import { TextClassificationPipeline, type LabelScore, type TextClassificationParams } from './text-classification.js';
import { FillMaskPipeline, type FillMaskCandidate, type FillMaskParams } from './fill-mask.js';
import { TextGenerationPipeline, type GeneratedText, type TextGenerationParams } from './text-generation.js';

export * from './load.js';
export { InputError, InputTooLongError, type EncodedText } from './encoder.js';
export * from './token-classification.js';
export * from './text-classification.js';
export * from './fill-mask.js';
export * from './text-generation.js';
export { EncoderPipeline } from './base.js';

type Common = { truncation?: boolean; batchSize?: number };

/** A callable pipeline: `p(text)` → one result, `p(texts)` → a list. */
export interface Callable<P, R> {
  (inputs: string, params?: P): R;
  (inputs: string[], params?: P): R[];
}

export type TokenClassifier = Callable<TokenClassificationParams & Common, (TokenEntity | GroupedEntity)[]> & { pipeline: TokenClassificationPipeline; loaded: LoadedEncoder };
export type TextClassifier = Callable<TextClassificationParams & Common, LabelScore[]> & { pipeline: TextClassificationPipeline; loaded: LoadedEncoder };
export type MaskFiller = Callable<FillMaskParams & Common, FillMaskCandidate[] | FillMaskCandidate[][]> & { pipeline: FillMaskPipeline; loaded: LoadedEncoder };
export type TextGenerator = Callable<TextGenerationParams, GeneratedText[]> & { pipeline: TextGenerationPipeline; loaded: LoadedGenerator };

export type AnyPipeline = TokenClassificationPipeline | TextClassificationPipeline | FillMaskPipeline | TextGenerationPipeline;

/** Options of `pipeline()`: how to load the folder (task, device, dtype, adapter) and the default parameters of every call. */
export interface PipelineOptions extends LoadOptions {
  /** Default parameters of every call (per-call parameters win). */
  aggregationStrategy?: TokenClassificationParams['aggregationStrategy'];
  /** token-classification: labels whose entities are dropped (default ['O']). */
  ignoreLabels?: string[];
  /** text-classification: how many best labels per text (default 1; null for all); fill-mask: candidates per [MASK] (default 5). */
  topK?: number | null;
  /**
   * text-classification: 'softmax', 'sigmoid' or 'none' on the logits (default: sigmoid for multi-label or one label, none for regression, else softmax).
   */
  functionToApply?: TextClassificationParams['functionToApply'];
  /** text-generation: default generation parameters (maxNewTokens, doSample, temperature, topK, topP, seed, …). */
  generation?: TextGenerationParams;
}

/**
 * The pipeline object (no call sugar) for a loaded folder.
 * @example
 * ```ts
 * const loaded = loadModelFolder('out/classifier');
 * const clf = pipelineFor(loaded, { topK: null });
 * clf.run('win a free cruise');          // [{ label: 'spam', score: 0.97 }, { label: 'ham', score: 0.03 }]
 * ```
 */
export function pipelineFor(loaded: LoadedModel, opts: PipelineOptions = {}): AnyPipeline {
  if (loaded.kind === 'generator') return new TextGenerationPipeline(loaded, opts.generation ?? {});
  switch (loaded.task) {
    case 'token-classification':
      return new TokenClassificationPipeline(loaded, {
        ...(opts.aggregationStrategy !== undefined ? { aggregationStrategy: opts.aggregationStrategy } : {}),
        ...(opts.ignoreLabels !== undefined ? { ignoreLabels: opts.ignoreLabels } : {}),
      });
    case 'text-classification':
      return new TextClassificationPipeline(loaded, {
        ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
        ...(opts.functionToApply !== undefined ? { functionToApply: opts.functionToApply } : {}),
      });
    case 'fill-mask':
      return new FillMaskPipeline(loaded, opts.topK !== undefined && opts.topK !== null ? { topK: opts.topK } : {});
  }
}

/**
 * Loads `modelDir` for `task` and returns a function of a text or a list of texts.
 * @example
 * const ner = pipeline('token-classification', 'out/ner', { aggregationStrategy: 'simple' });
 * const entities = ner('Captain Ahab of the Pequod');
 * const clf = pipeline('text-classification', 'out/classifier');
 * clf(['free money!!!', 'see you at lunch'], { topK: null });
 * const gen = pipeline('text-generation', 'out/gpt-char');
 * gen('Call me', { maxNewTokens: 40, doSample: true, topP: 0.9, seed: 1 });
 */
export function pipeline(task: 'token-classification' | 'ner', modelDir: string, opts?: PipelineOptions): TokenClassifier;
export function pipeline(task: 'text-classification' | 'sentiment-analysis', modelDir: string, opts?: PipelineOptions): TextClassifier;
export function pipeline(task: 'fill-mask', modelDir: string, opts?: PipelineOptions): MaskFiller;
export function pipeline(task: 'text-generation', modelDir: string, opts?: PipelineOptions): TextGenerator;
export function pipeline(task: PipelineTask | string, modelDir: string, opts?: PipelineOptions): TokenClassifier | TextClassifier | MaskFiller | TextGenerator;
export function pipeline(task: PipelineTask | string, modelDir: string, opts: PipelineOptions = {}): TokenClassifier | TextClassifier | MaskFiller | TextGenerator {
  const t = normalizeTask(task);
  const loaded = loadModelFolder(modelDir, { ...opts, task: t });
  if (loaded.task !== t) throw new PipelineError(`${modelDir}: loaded for '${loaded.task}', asked for '${t}'`);
  const p = pipelineFor(loaded, opts);
  const fn = ((inputs: string | string[], params?: object) => (p.run as (i: string | string[], q?: object) => unknown)(inputs, params)) as unknown as
    TokenClassifier & TextClassifier & MaskFiller & TextGenerator;
  Object.assign(fn, { pipeline: p, loaded });
  return fn;
}
