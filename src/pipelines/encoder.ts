/**
 * What the three BERT pipelines share: tokenizing a text into a {@link EncodedText} (ids,
 * character offsets, special-token mask; an over-long text is an error or truncated, as asked),
 * one packed forward pass for a batch of them, and softmax/sigmoid.
 *
 * The three phases are separate so that the server can tokenize on the event loop (to sort
 * requests by length and reject over-long ones at once) and run the packed forward pass and the
 * post-processing in its worker thread:
 *
 *   preprocess(text) → EncodedText        (cheap, main thread)
 *   forward(EncodedText[]) → logits[]     (one packed batch, the worker)
 *   postprocess(EncodedText, logits)      (per text, the worker)
 *
 * Batches are packed, without padding (BertInputs.cuSeqlens): the token-wise layers see each
 * text's own rows, and the attention, run in a padded layout, zeroes the padded keys (their
 * softmax weight is exp(−3.4e38 − max) = 0 exactly), so a text's logits do not depend on the
 * batch it is in; `test/pipelines/pipelines.test.ts` checks that batched and one-at-a-time
 * results are identical.
 */
import { noGrad } from '../autograd/engine.js';
import { fromTypedArray } from '../tensor/creation.js';
import { tidy } from '../tensor/scope.js';
import type { BertTokenizer } from '../data/tokenizer/index.js';
import { BertForSequenceClassification } from '../nn/bert.js';
import { Linear } from '../nn/layers.js';
import type { EncoderModel, LoadedEncoder } from './load.js';

/** An input that is not a usable text (→ HTTP 422), naming what was wrong. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(message: string, readonly field: string = 'inputs') {
    super(message);
  }
}

/** A text longer than the model's positions when truncation was not asked for (→ HTTP 422). */
export class InputTooLongError extends InputError {
  override name = 'InputTooLongError';
  constructor(readonly tokens: number, readonly maxTokens: number, field = 'inputs') {
    super(`${field}: the text is ${tokens} tokens long (special tokens included) but the model takes at most ${maxTokens}; shorten it or pass "truncation": true`, field);
  }
}

/** One tokenized text, ready for a forward pass. */
export interface EncodedText {
  text: string;
  /** [CLS] … [SEP] ids. */
  inputIds: number[];
  /** [start, end) UTF-16 offsets into `text`; [0, 0] for special tokens. */
  offsets: [number, number][];
  /** True for [CLS]/[SEP]. */
  special: boolean[];
  /** True when the text was cut to fit the model. */
  truncated: boolean;
}

export interface PreprocessOptions {
  /** Cut texts longer than the model's positions instead of throwing an InputTooLongError. Default false. */
  truncation?: boolean;
  /** Name of the input in error messages (default `inputs`). */
  field?: string;
}

/** The longest input (special tokens included) a model takes: its position table, and the tokenizer's model_max_length. */
export function maxTokensOf(loaded: LoadedEncoder): number {
  return loaded.config.maxPositionEmbeddings;
}

/** Tokenizes one text for a BERT pipeline. */
export function encodeText(tokenizer: BertTokenizer, maxTokens: number, text: unknown, opts: PreprocessOptions = {}): EncodedText {
  const field = opts.field ?? 'inputs';
  if (typeof text !== 'string') throw new InputError(`${field} must be a string, got ${text === null ? 'null' : Array.isArray(text) ? 'an array' : typeof text}`, field);
  if (text.trim() === '') throw new InputError(`${field} is empty`, field);
  const full = tokenizer.encode(text, { returnOffsets: true });
  let enc = full;
  let truncated = false;
  if (full.inputIds.length > maxTokens) {
    if (!opts.truncation) throw new InputTooLongError(full.inputIds.length, maxTokens, field);
    enc = tokenizer.encode(text, { returnOffsets: true, maxLength: maxTokens, truncation: true });
    truncated = true;
  }
  return {
    text, inputIds: enc.inputIds, offsets: enc.offsets!, special: enc.wordIds.map((w) => w === null), truncated,
  };
}

/**
 * One forward pass of `model` over `items`, as a padding-free packed batch (BertInputs.cuSeqlens:
 * the texts one after the other in one row of N = ΣT_i tokens, so the Linear layers, GELU and
 * LayerNorm compute no padding rows; only the attention runs padded, see nn/attention-mask.ts);
 * returns each item's logits, row-major: (T_i, C) for per-token heads, (C) for sequence heads.
 * `perToken` selects which.
 */
export function forwardBatch(model: EncoderModel, items: EncodedText[], perToken: boolean): Float32Array[] {
  if (items.length === 0) return [];
  const B = items.length;
  const cuSeqlens = [0];
  for (const e of items) cuSeqlens.push(cuSeqlens[cuSeqlens.length - 1]! + e.inputIds.length);
  const N = cuSeqlens[B]!;
  const ids = new Int32Array(N);
  items.forEach((e, b) => ids.set(e.inputIds, cuSeqlens[b]!));
  // (one text too: a packed batch of one runs as a plain pass, and always the same attention
  // kernel as in any batch — see BertSelfAttention.forward)
  const inputs = () => ({
    inputIds: fromTypedArray(ids, [1, N], { dtype: 'int32' }), // (1, N): the texts packed
    cuSeqlens,
  });
  const logits = noGrad(() => tidy(() => {
    // (an int8 head — QuantizedLinear, tensorgrad quantize — is batch-invariant itself: per-row
    // activation scales and exact int32 sums; it runs as the model's own layer)
    if (model instanceof BertForSequenceClassification && model.classifier instanceof Linear) {
      // the head runs here in float64: the backend picks its matmul kernel by size (a B×H·H×L
      // product under 64 multiply-adds takes the float64 reference loop, a larger one the float32
      // SIMD kernel), so the library's head could round one text alone differently from the same
      // text in a batch
      const pooled = model.bert.forward(inputs()).poolerOutput!.toTypedArray(); // (B, H)
      return linearRows(pooled, B, model.classifier.weight.toTypedArray(), model.classifier.bias?.toTypedArray() ?? null);
    }
    return model.forward(inputs()).logits.toTypedArray() as Float32Array; // (1, N, C) or (B, C)
  }));
  const C = perToken ? logits.length / N : logits.length / B;
  return items.map((_, b) => perToken
    ? logits.slice(cuSeqlens[b]! * C, cuSeqlens[b + 1]! * C) // (T_i, C)
    : logits.slice(b * C, (b + 1) * C));
}

/** y = x·Wᵀ + b for each of the B rows of x (B, H), W (C, H), in float64, rounded to float32 once. */
function linearRows(x: ArrayLike<number>, B: number, W: ArrayLike<number>, b: ArrayLike<number> | null): Float32Array {
  const H = x.length / B;
  const C = W.length / H;
  const y = new Float32Array(B * C);
  for (let r = 0; r < B; r++) {
    for (let c = 0; c < C; c++) {
      let s = b ? b[c]! : 0;
      for (let k = 0; k < H; k++) s += x[r * H + k]! * W[c * H + k]!;
      y[r * C + c] = s;
    }
  }
  return y;
}

/** softmax over a row, in float64: p_i = exp(z_i − max z) / Σ_j exp(z_j − max z). */
export function softmaxRow(z: ArrayLike<number>, start = 0, n = z.length): Float64Array {
  const p = new Float64Array(n);
  let m = -Infinity;
  for (let j = 0; j < n; j++) m = Math.max(m, z[start + j]!);
  let s = 0;
  for (let j = 0; j < n; j++) s += p[j] = Math.exp(z[start + j]! - m);
  for (let j = 0; j < n; j++) p[j]! /= s;
  return p;
}

/** σ(z) = 1 / (1 + e^−z), elementwise, in float64. */
export function sigmoidRow(z: ArrayLike<number>): Float64Array {
  return Float64Array.from(z as ArrayLike<number>, (v) => 1 / (1 + Math.exp(-v)));
}

/** Indices of the k largest values, largest first (ties: lower index first, as a stable sort). */
export function topKIndices(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => (v[b]! - v[a]!) || a - b);
  return idx.slice(0, Math.min(k, v.length));
}

/**
 * HF's WordPiece decoder for a list of tokens (`convert_tokens_to_string` of a fast BERT
 * tokenizer): `##` pieces join the previous token (the first token is kept as it is), others
 * are separated by a space, then
 * `clean_up_tokenization` (" ." → ".", " n't" → "n't", …).
 */
export function tokensToString(tokens: string[]): string {
  let s = '';
  tokens.forEach((t, i) => {
    if (i === 0) s += t; // the decoder keeps a leading "##" (a group that starts inside a word)
    else if (t.startsWith('##')) s += t.slice(2);
    else s += ' ' + t;
  });
  return cleanUpTokenization(s);
}

/** transformers' `clean_up_tokenization`. */
export function cleanUpTokenization(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

/** Checks `opts.batchSize` (texts per forward pass). */
export function checkBatchSize(where: string, v: unknown): number {
  if (v === undefined) return 32;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(`${where}: batchSize must be a positive integer, got ${JSON.stringify(v)}`, 'batchSize');
  return v;
}
