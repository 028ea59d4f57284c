/**
 * Text generation with a GPT trained by `train-gpt` (character vocabulary), with the decoding
 * controls of transformers' `generate` (logits processors applied in this order, as
 * transformers' `_get_logits_processor`):
 *
 *   repetition penalty (Keskar et al. 2019, CTRL §4.1): for every token already in the sequence,
 *       z ← z / θ if z > 0, z · θ if z < 0   (θ > 1 discourages repeats)
 *   greedy (doSample false, the default, or temperature 0): the argmax
 *   temperature: z ← z / T
 *   top-k: keep the k largest logits (ties with the k-th kept)
 *   top-p (Holtzman et al. 2020, nucleus sampling): keep the smallest set of most likely tokens
 *       whose probabilities sum to ≥ p (at least one)
 *   then sample from softmax(z) with a seeded generator (the pipeline's own: a given seed gives
 *   the same text whatever else runs).
 *
 * Stops after `maxNewTokens` or when the generated text contains one of `stop` (the stop string
 * is cut off, as HF's `stop_strings` with the pipeline's post-processing). The prompt runs once
 * through the model with a key/value cache, then each step feeds one token; past the context
 * window each step recomputes the last blockSize tokens (position embeddings shift).
 */
import { noGrad } from '../autograd/engine.js';
import { fromTypedArray } from '../tensor/creation.js';
import { Generator } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { KVCache } from '../nn/gpt.js';
import { checks, readParams, type ParamSpec } from './base.js';
import { InputError } from './encoder.js';
import type { LoadedGenerator } from './load.js';

/** Decoding parameters of the text-generation pipeline (transformers' `generate` names): length, sampling, temperature, top-k, top-p, repetition penalty, seed. */
export interface TextGenerationParams {
  /** Tokens (characters) to generate at most (default 50). */
  maxNewTokens?: number;
  /** Sample (true) or take the argmax (false, default — as transformers). */
  doSample?: boolean;
  /** Divides the logits when sampling (default 1; 0 means greedy). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number | null;
  /** Nucleus sampling: the smallest set of tokens with probability mass ≥ topP (default 1: all). */
  topP?: number;
  /** θ of the CTRL repetition penalty (default 1: none). */
  repetitionPenalty?: number;
  /** Stop when the generated text contains one of these (cut off from the result). */
  stop?: string[];
  /** Seed of the sampler (default 0). */
  seed?: number;
  /** Return the prompt followed by the continuation (default true, as transformers) or the continuation only. */
  returnFullText?: boolean;
}

/** One text-generation result (transformers' shape): the prompt followed by the generated text. */
export interface GeneratedText {
  /** The prompt followed by the continuation (only the continuation with `returnFullText: false`). */
  generated_text: string;
}

/** Timing of the last `run`. */
export interface GenerationStats {
  newTokens: number;
  seconds: number;
  tokensPerSecond: number;
}

export const TEXT_GENERATION_PARAMS: ParamSpec[] = [
  { name: 'maxNewTokens', check: checks.nonNegInt },
  { name: 'doSample', check: checks.bool },
  { name: 'temperature', check: checks.num(0, Infinity) },
  { name: 'topK', check: checks.posIntOrNull },
  { name: 'topP', check: checks.num(0, 1, true) },
  { name: 'repetitionPenalty', check: checks.num(0, Infinity, true) },
  { name: 'stop', check: checks.strings },
  { name: 'seed', check: (v, f) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new InputError(`${f} must be an integer, got ${JSON.stringify(v)}`, f);
    return v;
  } },
  { name: 'returnFullText', check: checks.bool },
];

/** Applies the logits processors to z (float64, modified in place) and picks the next token. */
export function pickNextToken(z: Float64Array, seen: Iterable<number>, p: Required<Omit<TextGenerationParams, 'stop' | 'seed' | 'maxNewTokens' | 'returnFullText'>>, rng: Generator): number {
  const V = z.length;
  if (p.repetitionPenalty !== 1) {
    for (const id of new Set(seen)) z[id] = z[id]! > 0 ? z[id]! / p.repetitionPenalty : z[id]! * p.repetitionPenalty;
  }
  if (!p.doSample || p.temperature === 0) {
    let b = 0;
    for (let j = 1; j < V; j++) if (z[j]! > z[b]!) b = j;
    return b;
  }
  for (let j = 0; j < V; j++) z[j]! /= p.temperature;
  if (p.topK !== null && p.topK < V) {
    const kth = Float64Array.from(z).sort()[V - p.topK]!; // the k-th largest
    for (let j = 0; j < V; j++) if (z[j]! < kth) z[j] = -Infinity;
  }
  let m = -Infinity;
  for (let j = 0; j < V; j++) if (z[j]! > m) m = z[j]!;
  if (!Number.isFinite(m)) throw new Error(`text-generation: the logits are not finite (max ${m}); cannot sample`);
  const pr = new Float64Array(V);
  let total = 0;
  for (let j = 0; j < V; j++) total += pr[j] = Math.exp(z[j]! - m);
  for (let j = 0; j < V; j++) pr[j]! /= total;
  if (p.topP < 1) {
    const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => pr[b]! - pr[a]! || a - b);
    let acc = 0;
    let keep = 0;
    while (keep < V && acc < p.topP) acc += pr[order[keep++]!]!; // the smallest prefix with mass ≥ topP
    for (let r = keep; r < V; r++) pr[order[r]!] = 0;
    total = acc;
  } else total = 1;
  const u = rng.random() * total;
  let acc = 0;
  let pick = -1;
  for (let j = 0; j < V; j++) {
    if (pr[j]! === 0) continue;
    acc += pr[j]!;
    pick = j;
    if (u < acc) break;
  }
  return pick;
}

/**
 * The text-generation pipeline (transformers' `TextGenerationPipeline`) for a character GPT folder:
 * greedy or sampled decoding with the KV cache and the logits processors of `TextGenerationParams`.
 *
 * @example
 * const gen = pipeline('text-generation', 'out/gpt-char');
 * gen('Call me', { maxNewTokens: 40, doSample: true, temperature: 0.8, topP: 0.9, seed: 1 }); // [{ generated_text: 'Call me …' }]
 */
export class TextGenerationPipeline {
  /** Always 'text-generation'. */
  readonly task = 'text-generation' as const;
  /** New tokens, seconds and tokens per second of the last `run` (all zero before the first). */
  lastStats: GenerationStats = { newTokens: 0, seconds: 0, tokensPerSecond: 0 };

  constructor(readonly loaded: LoadedGenerator, readonly defaults: TextGenerationParams = {}) {}

  /**
   * Validates raw generation parameters (e.g. a request's JSON) against the task's parameter table.
   * @param raw - an object of parameters.
   * @param prefix - prepended to parameter names in error messages (e.g. 'parameters.').
   * @returns the parameters, typed.
   * @throws InputError naming the field when `raw` is not an object, has an unknown key or a value of the wrong type or range.
   */
  checkParams(raw: unknown, prefix = ''): TextGenerationParams {
    return readParams(raw, TEXT_GENERATION_PARAMS, prefix) as TextGenerationParams;
  }

  /**
   * Generates a continuation of each prompt with the model's KV cache.
   * @param inputs - a prompt, or a list of prompts (each generated independently).
   * @param params - per-call generation parameters; they override the pipeline's defaults.
   * @param onToken - called with each new character as it is generated (streaming).
   * @returns one `[{ generated_text }]` per prompt.
   * @throws InputError for a prompt that is not a string, holds characters outside the vocabulary, or bad parameters.
   */
  run(inputs: string, params?: TextGenerationParams, onToken?: (text: string) => void): GeneratedText[];
  run(inputs: string[], params?: TextGenerationParams, onToken?: (text: string) => void): GeneratedText[][];
  run(inputs: string | string[], params: TextGenerationParams = {}, onToken?: (text: string) => void): GeneratedText[] | GeneratedText[][] {
    const p = { ...this.defaults, ...this.checkParams(params) };
    const t0 = performance.now();
    let newTokens = 0;
    const one = (prompt: unknown, field: string): GeneratedText[] => {
      const r = this.generateOne(prompt, p, field, onToken);
      newTokens += r.newTokens;
      return [{ generated_text: r.text }];
    };
    const out = Array.isArray(inputs) ? inputs.map((t, i) => one(t, `inputs[${i}]`)) : one(inputs, 'inputs');
    const seconds = (performance.now() - t0) / 1000;
    this.lastStats = { newTokens, seconds, tokensPerSecond: seconds > 0 ? newTokens / seconds : 0 };
    return out;
  }

  private generateOne(prompt: unknown, p: TextGenerationParams, field: string, onToken?: (text: string) => void): { text: string; newTokens: number } {
    const { model, vocab, config } = this.loaded;
    if (typeof prompt !== 'string') throw new InputError(`${field} must be a string, got ${prompt === null ? 'null' : typeof prompt}`, field);
    const unknown = vocab.unknownChars(prompt);
    if (unknown.length) {
      throw new InputError(`${field}: ${unknown.slice(0, 5).map((c) => JSON.stringify(c)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the model's vocabulary of ${vocab.size} characters`, field);
    }
    const start = prompt.length ? prompt : vocab.has('\n') ? '\n' : vocab.chars[0]!; // nanoGPT's default start
    const seq = vocab.encode(start);
    const maxNew = p.maxNewTokens ?? 50;
    const proc = {
      doSample: p.doSample ?? false, temperature: p.temperature ?? 1, topK: p.topK ?? null, topP: p.topP ?? 1,
      repetitionPenalty: p.repetitionPenalty ?? 1,
    };
    const rng = new Generator(p.seed ?? 0);
    const stops = p.stop ?? [];
    const T = config.blockSize;
    let cache: KVCache | null = model.newCache();
    let fed = 0; // tokens of seq in the cache
    let generated = '';
    let n = 0;
    for (; n < maxNew; n++) {
      const { z } = noGrad(() => tidy(() => {
        let feed: number[];
        let kv: KVCache | null = null;
        if (cache && seq.length <= T) {
          feed = seq.slice(fed);
          kv = cache;
        } else {
          cache = null; // past the window: recompute the last T tokens every step
          feed = seq.slice(-T);
        }
        const idx = fromTypedArray(Int32Array.from(feed), [1, feed.length], { dtype: 'int32' }); // (1, t)
        const logits = model.forward(idx, null, { kvCache: kv }).logits; // (1, t, V)
        // the cache's keys/values are returned so that tidy keeps them for the next step
        return { z: Float64Array.from(logits.select(1, feed.length - 1).toTypedArray()), kept: kv ? kv.layers : null }; // z: (V) of the last position
      }));
      fed = seq.length;
      const next = pickNextToken(z, seq, proc, rng);
      seq.push(next);
      generated += vocab.chars[next]!;
      onToken?.(vocab.chars[next]!);
      const hit = stops.map((s) => generated.indexOf(s)).filter((i) => i >= 0);
      if (hit.length) {
        generated = generated.slice(0, Math.min(...hit));
        n++;
        break;
      }
    }
    const returnFull = p.returnFullText ?? true;
    return { text: (returnFull ? prompt : '') + generated, newTokens: n };
  }
}
