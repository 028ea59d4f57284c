/**
 * Fill-mask, as transformers' `FillMaskPipeline`: for each [MASK] of the text, the softmax over
 * the vocabulary at its position and the `topK` (default 5) most likely tokens, each with
 * `sequence` — the text with the mask replaced, decoded (special tokens skipped when there is a
 * single mask, kept when there are several, as transformers). One mask → a list of candidates;
 * several masks → one list per mask. A text without [MASK] is an InputError.
 */
import { EncoderPipeline, checks, type ParamSpec } from './base.js';
import { InputError, softmaxRow, topKIndices, type EncodedText, type PreprocessOptions } from './encoder.js';
import type { LoadedEncoder } from './load.js';

export interface FillMaskParams {
  /** Candidates per mask (default 5). */
  topK?: number;
}

/** One prediction for a [MASK] (transformers' fill-mask output): its probability, token id and text, and the sequence with the mask replaced. */
export interface FillMaskCandidate {
  /** Softmax probability of the token at the [MASK] position, in [0, 1]. */
  score: number;
  /** The predicted token's vocabulary id. */
  token: number;
  /** The predicted token as text. */
  token_str: string;
  /** The input text with this token in place of the [MASK] (decoded from the tokens). */
  sequence: string;
}

/**
 * The fill-mask pipeline (transformers' `FillMaskPipeline`): for each [MASK] in a text, the `topK`
 * most likely tokens of a BertForMaskedLM folder.
 *
 * @example
 * const fill = pipeline('fill-mask', 'out/mlm');
 * fill('call me [MASK].'); // [{ score, token, token_str: 'ishmael', sequence: 'call me ishmael.' }, …]
 */
export class FillMaskPipeline extends EncoderPipeline<FillMaskParams, FillMaskCandidate[] | FillMaskCandidate[][]> {
  /** Always 'fill-mask'. */
  readonly task = 'fill-mask' as const;
  protected readonly perToken = true;
  protected readonly paramSpecs: ParamSpec[] = [{ name: 'topK', check: checks.posInt }];

  constructor(loaded: LoadedEncoder, readonly defaults: FillMaskParams = {}) {
    super(loaded);
  }

  override preprocess(text: unknown, opts: PreprocessOptions = {}): EncodedText {
    const e = super.preprocess(text, opts);
    if (!e.inputIds.includes(this.loaded.tokenizer.maskTokenId)) {
      const field = opts.field ?? 'inputs';
      throw new InputError(`${field} has no [MASK] token${e.truncated ? ' left after truncation' : ''} (write [MASK] where a word should be predicted)`, field);
    }
    return e;
  }

  postprocess(item: EncodedText, logits: Float32Array, params: FillMaskParams): FillMaskCandidate[] | FillMaskCandidate[][] {
    const tok = this.loaded.tokenizer;
    const V = this.loaded.config.vocabSize;
    const k = params.topK ?? this.defaults.topK ?? 5;
    const maskAt = item.inputIds.flatMap((id, i) => (id === tok.maskTokenId ? [i] : []));
    const single = maskAt.length === 1;
    const rows = maskAt.map((pos) => {
      const p = softmaxRow(logits, pos * V, V);
      return topKIndices(p, k).map((id) => {
        const ids = item.inputIds.slice();
        ids[pos] = id;
        return {
          score: p[id]!, token: id, token_str: tok.decode([id]),
          sequence: tok.decode(ids, { skipSpecialTokens: single }),
        };
      });
    });
    return single ? rows[0]! : rows;
  }
}
