/**
 * The shared shape of the BERT pipelines: parameters checked once (camelCase or HF's snake_case
 * keys, errors naming the key), then preprocess → packed forward in batches → postprocess.
 */
import { checkBatchSize, encodeText, forwardBatch, InputError, maxTokensOf, type EncodedText, type PreprocessOptions } from './encoder.js';
import type { LoadedEncoder } from './load.js';

/** A parameter spec: its camelCase name and a checker returning the value. */
export interface ParamSpec {
  name: string;
  check: (v: unknown, field: string) => unknown;
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Reads `raw` against `specs`: each key may be camelCase (`topK`) or snake_case (`top_k`);
 * unknown keys and bad values throw an InputError naming `${prefix}${key}`.
 */
export function readParams(raw: unknown, specs: ParamSpec[], prefix = ''): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`${prefix || 'parameters'} must be an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`, prefix.replace(/\.$/, '') || 'parameters');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const spec = specs.find((s) => s.name === k || snake(s.name) === k);
    if (!spec) {
      throw new InputError(`${prefix}${k} is not a parameter of this task (expected ${specs.map((s) => snake(s.name)).join(', ') || 'none'})`, `${prefix}${k}`);
    }
    if (v === undefined) continue;
    out[spec.name] = spec.check(v, `${prefix}${k}`);
  }
  return out;
}

export const checks = {
  bool: (v: unknown, f: string): boolean => {
    if (typeof v !== 'boolean') throw new InputError(`${f} must be true or false, got ${JSON.stringify(v)}`, f);
    return v;
  },
  posInt: (v: unknown, f: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(`${f} must be a positive integer, got ${JSON.stringify(v)}`, f);
    return v;
  },
  posIntOrNull: (v: unknown, f: string): number | null => (v === null ? null : checks.posInt(v, f)),
  nonNegInt: (v: unknown, f: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InputError(`${f} must be an integer ≥ 0, got ${JSON.stringify(v)}`, f);
    return v;
  },
  num: (lo: number, hi: number, loOpen = false) => (v: unknown, f: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) {
      throw new InputError(`${f} must be a number in ${loOpen ? '(' : '['}${lo}, ${hi === Infinity ? '∞)' : `${hi}]`}, got ${JSON.stringify(v)}`, f);
    }
    return v;
  },
  oneOf: <T extends string>(choices: readonly T[]) => (v: unknown, f: string): T => {
    if (typeof v !== 'string' || !choices.includes(v as T)) throw new InputError(`${f} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`, f);
    return v as T;
  },
  strings: (v: unknown, f: string): string[] => {
    const a = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(a) || a.some((s) => typeof s !== 'string' || s === '')) throw new InputError(`${f} must be a non-empty string or a list of them, got ${JSON.stringify(v)}`, f);
    return a as string[];
  },
};

/** The common parameters of every BERT pipeline. */
export const COMMON_PARAMS: ParamSpec[] = [
  { name: 'truncation', check: checks.bool },
  { name: 'batchSize', check: checks.posInt },
];

/**
 * A BERT pipeline: `run(text | texts, params)`. Subclasses give the parameter specs, whether
 * the head is per token, and `postprocess`.
 */
export abstract class EncoderPipeline<P extends object, R> {
  abstract readonly task: LoadedEncoder['task'];
  /** The logits are per token (B, T, C) rather than per text (B, C). */
  protected abstract readonly perToken: boolean;
  /** The longest input in tokens, special tokens included. */
  readonly maxTokens: number;

  constructor(readonly loaded: LoadedEncoder) {
    this.maxTokens = maxTokensOf(loaded);
  }

  /** This task's own parameters (beyond truncation and batchSize). */
  protected abstract readonly paramSpecs: ParamSpec[];

  /** Checks raw parameters (camelCase or snake_case keys); errors name the key after `prefix`. */
  checkParams(raw: unknown, prefix = ''): P & { truncation?: boolean; batchSize?: number } {
    return readParams(raw, [...COMMON_PARAMS, ...this.paramSpecs], prefix) as P & { truncation?: boolean; batchSize?: number };
  }

  /** Tokenizes one text (InputError / InputTooLongError for bad or over-long input). */
  preprocess(text: unknown, opts: PreprocessOptions = {}): EncodedText {
    return encodeText(this.loaded.tokenizer, this.maxTokens, text, opts);
  }

  /** Logits of each item from one packed forward pass. */
  forward(items: EncodedText[]): Float32Array[] {
    return forwardBatch(this.loaded.model, items, this.perToken);
  }

  /** Turns one item's logits into the task's answer. */
  abstract postprocess(item: EncodedText, logits: Float32Array, params: P): R;

  /**
   * Runs the pipeline on one text (→ its result) or a list (→ a list of results), in forward
   * passes of `batchSize` texts (default 32).
   */
  run(inputs: string, params?: Partial<P> & { truncation?: boolean; batchSize?: number }): R;
  run(inputs: string[], params?: Partial<P> & { truncation?: boolean; batchSize?: number }): R[];
  run(inputs: string | string[], params: Partial<P> & { truncation?: boolean; batchSize?: number } = {}): R | R[] {
    const p = this.checkParams(params);
    const batchSize = checkBatchSize(this.task, p.batchSize);
    const single = !Array.isArray(inputs);
    const texts = single ? [inputs] : inputs;
    if (!single && texts.length === 0) return [];
    const items = texts.map((t, i) => this.preprocess(t, { truncation: p.truncation ?? false, field: single ? 'inputs' : `inputs[${i}]` }));
    const out: R[] = [];
    for (let i = 0; i < items.length; i += batchSize) {
      const chunk = items.slice(i, i + batchSize);
      const logits = this.forward(chunk);
      chunk.forEach((item, j) => out.push(this.postprocess(item, logits[j]!, p)));
    }
    return single ? out[0]! : out;
  }
}
