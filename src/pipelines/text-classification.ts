/**
 * Text classification, as transformers' `TextClassificationPipeline`: the head's logits through
 * `functionToApply` — by default softmax for a single-label classifier with ≥ 2 labels, sigmoid
 * for one label or `problem_type: multi_label_classification`, none for regression — then the
 * labels sorted by score, the first `topK` (default 1; `null` for all).
 *
 * Unlike transformers' legacy call without `top_k` (a bare `{label, score}`), the result for one
 * text is always a list, which is what HF Inference Endpoints answer too.
 */
import { EncoderPipeline, checks, type ParamSpec } from './base.js';
import { sigmoidRow, softmaxRow, topKIndices, type EncodedText } from './encoder.js';
import type { LoadedEncoder } from './load.js';

export type ClassificationFunction = 'softmax' | 'sigmoid' | 'none';

export interface TextClassificationParams {
  /** How many labels to return, best first (default 1; null = all). */
  topK?: number | null;
  /** Default: from the config, as transformers. */
  functionToApply?: ClassificationFunction;
}

/** One class of a text-classification result: its label and probability. */
export interface LabelScore {
  /** The class name (the model's id2label). */
  label: string;
  /** The class's score after functionToApply: a probability for softmax/sigmoid, the raw logit for 'none'. */
  score: number;
}

/**
 * The text-classification pipeline (transformers' `TextClassificationPipeline`): softmax (or
 * sigmoid, multi-label) scores of a BertForSequenceClassification folder, the `topK` best per text.
 *
 * @example
 * const clf = pipeline('text-classification', 'out/classifier');
 * clf('Win a FREE cruise now!!!', { topK: null }); // [{ label: 'spam', score: 0.97 }, { label: 'ham', score: 0.03 }]
 */
export class TextClassificationPipeline extends EncoderPipeline<TextClassificationParams, LabelScore[]> {
  /** Always 'text-classification'. */
  readonly task = 'text-classification' as const;
  protected readonly perToken = false;
  protected readonly paramSpecs: ParamSpec[] = [
    { name: 'topK', check: checks.posIntOrNull },
    { name: 'functionToApply', check: checks.oneOf(['softmax', 'sigmoid', 'none'] as const) },
  ];

  constructor(loaded: LoadedEncoder, readonly defaults: TextClassificationParams = {}) {
    super(loaded);
  }

  /** transformers' default: regression → none; multi-label or one label → sigmoid; else softmax. */
  defaultFunction(): ClassificationFunction {
    const c = this.loaded.config;
    if (c.problemType === 'regression') return 'none';
    if (c.problemType === 'multi_label_classification' || c.numLabels === 1) return 'sigmoid';
    return 'softmax';
  }

  postprocess(_item: EncodedText, logits: Float32Array, params: TextClassificationParams): LabelScore[] {
    const fn = params.functionToApply ?? this.defaults.functionToApply ?? this.defaultFunction();
    const scores = fn === 'softmax' ? softmaxRow(logits) : fn === 'sigmoid' ? sigmoidRow(logits) : Float64Array.from(logits);
    const k = params.topK !== undefined ? params.topK : this.defaults.topK !== undefined ? this.defaults.topK : 1;
    return topKIndices(scores, k ?? scores.length).map((i) => ({ label: this.loaded.labels[i]!, score: scores[i]! }));
  }
}
