/**
 * BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
 * Language Understanding"), module for module as HuggingFace transformers' `modeling_bert.py`,
 * so that parameter names and layouts match real checkpoints exactly:
 *
 *   bert.embeddings.{word,position,token_type}_embeddings.weight, bert.embeddings.LayerNorm.*
 *   bert.encoder.layer.{i}.attention.self.{query,key,value}.*
 *   bert.encoder.layer.{i}.attention.output.{dense,LayerNorm}.*
 *   bert.encoder.layer.{i}.intermediate.dense.*, bert.encoder.layer.{i}.output.{dense,LayerNorm}.*
 *   bert.pooler.dense.*, classifier.*, cls.predictions.{transform.*,bias,decoder.*}
 *
 * Details kept from the reference: LayerNorm ε = 1e-12, GELU in its exact erf form, the
 * additive attention mask (1 − mask)·min(dtype), the pooler tanh(dense(h[CLS])), post-LN
 * residual blocks, init N(0, 0.02) with zero biases and the padding row zeroed.
 */
import { noGrad } from '../autograd/engine.js';
import { getMaxAllocationBytes } from '../core/limits.js';
import { scaledMaskedSoftmax } from '../autograd/ops.js';
import { flashAttention } from '../autograd/ops/attention.js';
import { arange, fromTypedArray, zeros } from '../tensor/creation.js';
import type { DType } from '../core/dtype.js';
import { fmtShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { extendedAttentionMask, lengthsFromCuSeqlens, PackedBatch } from './attention-mask.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Dropout, Embedding, LayerNorm, Linear, ModuleList } from './layers.js';
import { checkStateDictArg, Module, Parameter, StateDictError, type LoadStateDictResult, type StateDict } from './module.js';

/** BERT's feed-forward activation (HF `hidden_act`): exact GELU, the tanh GELU ('gelu_new' = 'gelu_pytorch_tanh'), ReLU or tanh. */
export type HiddenAct = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'tanh';
export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

/** A HuggingFace `config.json` for BERT (snake_case, as on disk). */
export interface HFBertConfig {
  /** Vocabulary size V: rows of `word_embeddings` and of the MLM decoder (BertConfig.vocabSize; default 30522). */
  vocab_size?: number;
  /** Hidden width H of every token vector (BertConfig.hiddenSize; default 768); a multiple of `num_attention_heads`. */
  hidden_size?: number;
  /** Number of Transformer blocks L in the encoder (BertConfig.numHiddenLayers; default 12). */
  num_hidden_layers?: number;
  /** Attention heads per layer; head size = hidden_size / num_attention_heads (BertConfig.numAttentionHeads; default 12). */
  num_attention_heads?: number;
  /** Width of the feed-forward block's inner layer (BertConfig.intermediateSize; default 3072). */
  intermediate_size?: number;
  /**
   * Feed-forward activation: 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu' or 'tanh' (another value fails in BertConfig.validate; default 'gelu').
   */
  hidden_act?: string;
  /** Dropout probability in [0, 1] after the embeddings and after each sub-block's output projection (default 0.1). */
  hidden_dropout_prob?: number;
  /** Dropout probability in [0, 1] on the attention probabilities (default 0.1). */
  attention_probs_dropout_prob?: number;
  /** Longest sequence the learned position embeddings cover (rows of `position_embeddings`; default 512). */
  max_position_embeddings?: number;
  /** Number of token types (segments A/B) in `token_type_embeddings` (default 2). */
  type_vocab_size?: number;
  /** Standard deviation of the N(0, σ) weight initialisation (default 0.02). */
  initializer_range?: number;
  /** ε added to the variance in every LayerNorm (default 1e-12). */
  layer_norm_eps?: number;
  /** Id of the padding token; its word-embedding row is initialised to zero (default 0). */
  pad_token_id?: number;
  /** Number of classes of a task head; taken from `id2label` when absent (default 2). */
  num_labels?: number;
  /** Class index (as a string key "0", "1", …) → label name; keys must be exactly 0 … n − 1. */
  id2label?: Record<string, string>;
  /** Label name → class index; written by BertConfig.toJSON, ignored when read (`id2label` is authoritative). */
  label2id?: Record<string, number>;
  /** Dropout before a task head; null means `hidden_dropout_prob`. */
  classifier_dropout?: number | null;
  /** Loss of BertForSequenceClassification; null lets the model infer it from `num_labels` and the labels' dtype. */
  problem_type?: ProblemType | null;
  [k: string]: unknown;
}

/** HF config.json names of the size fields, for error messages. */
const HF_NAMES: Partial<Record<keyof BertConfig, string>> = {
  vocabSize: 'vocab_size', hiddenSize: 'hidden_size', numHiddenLayers: 'num_hidden_layers',
  numAttentionHeads: 'num_attention_heads', intermediateSize: 'intermediate_size',
  maxPositionEmbeddings: 'max_position_embeddings', typeVocabSize: 'type_vocab_size', numLabels: 'num_labels',
};

/** bert-base sizes: the yardstick for which field made a config too large. */
const BASE_SIZES: Partial<Record<keyof BertConfig, number>> = {
  vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072,
  maxPositionEmbeddings: 512, typeVocabSize: 2, numLabels: 2,
};

function fieldName(k: keyof BertConfig): string {
  return HF_NAMES[k] ? `${k} (${HF_NAMES[k]})` : k;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (Array.isArray(v)) return `[${v.slice(0, 6).map((x) => JSON.stringify(x)).join(', ')}${v.length > 6 ? ', …' : ''}]`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Checks an id2label map (HF: string keys "0", "1", …; here also numbers) and returns the
 * labels in index order. Keys must be exactly 0 … n − 1, values strings.
 */
function checkId2label(m: unknown): string[] {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    throw new Error(`BertConfig: id2label must be an object of class index → label name (e.g. {"0": "O", "1": "B-PER"}), got ${describeValue(m)}`);
  }
  const entries = Object.entries(m as Record<string, unknown>);
  const labels: string[] = new Array<string>(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!/^(0|[1-9][0-9]*)$/.test(k) || i >= entries.length) {
      throw new Error(`BertConfig: id2label keys must be the class indices 0 … ${entries.length - 1}, got the key ${JSON.stringify(k)}`);
    }
    if (typeof v !== 'string') throw new Error(`BertConfig: id2label[${k}] must be a label name (a string), got ${describeValue(v)}`);
    labels[i] = v;
  }
  return labels;
}

/**
 * BERT hyperparameters; defaults are bert-base-uncased's.
 * @example
 * ```ts
 * const config = new nn.BertConfig({ vocabSize: 100, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64 });
 * config.headDim;                         // 8
 * nn.BertConfig.fromJSON({ hidden_size: 30, num_attention_heads: 4 }); // throws: hiddenSize (hidden_size) = 30 is not a multiple of …
 * ```
 */
export class BertConfig {
  /** Vocabulary size V (rows of the word embedding and of the MLM decoder). Default 30522 (bert-base-uncased). */
  vocabSize = 30522;
  /** Hidden width H of every token vector; must be a multiple of `numAttentionHeads`. Default 768. */
  hiddenSize = 768;
  /** Number of Transformer blocks in the encoder. Default 12. */
  numHiddenLayers = 12;
  /** Attention heads per layer (head size = hiddenSize / numAttentionHeads, see {@link BertConfig.headDim}). Default 12. */
  numAttentionHeads = 12;
  /** Width of the feed-forward block's inner layer (BertIntermediate's output). Default 3072. */
  intermediateSize = 3072;
  /** Feed-forward activation (see {@link HiddenAct}). Default 'gelu' (exact erf GELU). */
  hiddenAct: HiddenAct = 'gelu';
  /**
   * Dropout probability in [0, 1] after the embeddings and each sub-block's output projection; also the task heads' dropout when `classifierDropout` is null. Default 0.1.
   */
  hiddenDropoutProb = 0.1;
  /** Dropout probability in [0, 1] on the attention probabilities. Default 0.1. */
  attentionProbsDropoutProb = 0.1;
  /** Longest sequence T the learned position embeddings cover; a longer input throws in BertEmbeddings.forward. Default 512. */
  maxPositionEmbeddings = 512;
  /** Number of token types (segments); tokenTypeIds must be below it. Default 2. */
  typeVocabSize = 2;
  /** Standard deviation σ of the N(0, σ) init of Linear and Embedding weights. Default 0.02. */
  initializerRange = 0.02;
  /** ε of every LayerNorm. Default 1e-12 (as the reference BERT). */
  layerNormEps = 1e-12;
  /** Padding token id: that word-embedding row starts at zero. Default 0. */
  padTokenId = 0;
  /** Number of output classes of a task head (1 for regression). Default 2, or the size of `id2label` when only that is given. */
  numLabels = 2;
  /**
   * Class index → label name (e.g. `{ 0: 'O', 1: 'B-PER' }`), or null; when set it must name exactly `numLabels` labels 0 … numLabels − 1. Default null.
   */
  id2label: Record<number, string> | null = null;
  /** Dropout probability before a task head's classifier; null uses `hiddenDropoutProb`. Default null. */
  classifierDropout: number | null = null;
  /**
   * Loss of BertForSequenceClassification: 'regression' (MSE), 'single_label_classification' (cross-entropy) or
   * 'multi_label_classification' (BCE with logits); null infers it (numLabels = 1 → regression, int32 labels → single-label, else multi-label). Default null.
   */
  problemType: ProblemType | null = null;
  /** Attention heads removed per layer (HF's `pruned_heads`: layer → original head indices); see BertModel.pruneHeads. */
  prunedHeads: Record<number, number[]> | null = null;

  constructor(opts: Partial<Omit<BertConfig, 'toJSON' | 'validate' | 'headDim'>> = {}) {
    if (opts === null || typeof opts !== 'object') throw new Error(`BertConfig: opts must be an object, got ${describeValue(opts)}`);
    Object.assign(this, opts);
    if (opts.id2label && typeof opts.id2label === 'object' && opts.numLabels === undefined) this.numLabels = Object.keys(opts.id2label).length;
    this.validate();
  }

  /** Size of one attention head: hiddenSize / numAttentionHeads (validate guarantees it is an integer). */
  get headDim(): number {
    return this.hiddenSize / this.numAttentionHeads;
  }

  /**
   * Checks every field up front, so that a bad config fails here with a message naming
   * the field (as in this class and in HF's config.json), its value and the limit, and
   * never later as an out-of-memory abort inside the model's constructor:
   *   - size fields are positive integers, the hidden size a multiple of the heads;
   *   - the estimated parameter memory (float32; see {@link BertConfig.estimateParameters})
   *     is at most {@link BertConfig.maxParameterBytes} (default: the shared allocation
   *     limit, `setMaxAllocationBytes`, half the physical memory);
   *   - `id2label` maps 0 … numLabels − 1 to strings, and agrees with `numLabels`.
   *
   * @example
   * ```ts
   * BertConfig.fromJSON({ num_hidden_layers: 1e9 });
   * // Error: BertConfig: numHiddenLayers (num_hidden_layers) = 1000000000 gives about 28.3 TB of parameters …
   * ```
   */
  validate(): void {
    const ints: [keyof BertConfig, number][] = [
      ['vocabSize', this.vocabSize], ['hiddenSize', this.hiddenSize], ['numHiddenLayers', this.numHiddenLayers],
      ['numAttentionHeads', this.numAttentionHeads], ['intermediateSize', this.intermediateSize],
      ['maxPositionEmbeddings', this.maxPositionEmbeddings], ['typeVocabSize', this.typeVocabSize], ['numLabels', this.numLabels],
    ];
    for (const [k, v] of ints) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`BertConfig: ${fieldName(k)} must be a positive integer, got ${describeValue(v)}`);
    }
    if (this.hiddenSize % this.numAttentionHeads !== 0) {
      throw new Error(
        `BertConfig: hiddenSize (hidden_size) = ${this.hiddenSize} is not a multiple of numAttentionHeads (num_attention_heads) = ${this.numAttentionHeads}`,
      );
    }
    const limit = BertConfig.maxParameterBytes;
    const bytes = 4 * BertConfig.estimateParameters(this);
    if (!(bytes <= limit)) {
      // The field furthest above its bert-base default is the one to blame.
      let worst: keyof BertConfig = 'numHiddenLayers';
      let ratio = 0;
      for (const [k, v] of ints) {
        const r = v / (BASE_SIZES[k] ?? 1);
        if (r > ratio) [worst, ratio] = [k, r];
      }
      throw new Error(
        `BertConfig: ${fieldName(worst)} = ${this[worst] as number} gives about ${formatBytes(bytes)} (${bytes.toExponential(3)} bytes) of float32 parameters, ` +
          `over the limit of ${formatBytes(limit)} (${limit} bytes, BertConfig.maxParameterBytes; by default the allocation limit of setMaxAllocationBytes, half the physical memory). ` +
          `Sizes: vocab_size ${this.vocabSize}, hidden_size ${this.hiddenSize}, num_hidden_layers ${this.numHiddenLayers}, ` +
          `intermediate_size ${this.intermediateSize}, max_position_embeddings ${this.maxPositionEmbeddings}`,
      );
    }
    if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'tanh'].includes(this.hiddenAct)) {
      throw new Error(`BertConfig: hiddenAct '${this.hiddenAct}' is not supported (expected gelu, gelu_new, gelu_pytorch_tanh, relu or tanh)`);
    }
    for (const [k, v] of [['hiddenDropoutProb', this.hiddenDropoutProb], ['attentionProbsDropoutProb', this.attentionProbsDropoutProb]] as const) {
      if (!(v >= 0 && v <= 1)) throw new Error(`BertConfig: ${k} must be in [0, 1], got ${v}`);
    }
    if (this.id2label !== null) {
      const labels = checkId2label(this.id2label);
      if (labels.length !== this.numLabels) {
        throw new Error(
          `BertConfig: numLabels (num_labels) = ${this.numLabels} disagrees with id2label, which names ${labels.length} label(s) ` +
            `(${describeValue(labels)}); give one of them, or make them agree`,
        );
      }
    }
  }

  /**
   * Number of parameters of a BERT with these sizes: embeddings (V + P + T)·H + 2H, per
   * layer 4(H² + H) + H·I + I + I·H + H + 4H, the pooler H² + H, and the larger of the
   * task heads (classifier H·L + L, MLM head H² + 3H + V).
   */
  static estimateParameters(c: Pick<BertConfig, 'vocabSize' | 'hiddenSize' | 'numHiddenLayers' | 'intermediateSize' | 'maxPositionEmbeddings' | 'typeVocabSize' | 'numLabels'>): number {
    const { vocabSize: V, hiddenSize: H, numHiddenLayers: N, intermediateSize: I, maxPositionEmbeddings: P, typeVocabSize: T, numLabels: L } = c;
    const embeddings = (V + P + T) * H + 2 * H;
    const layer = 4 * (H * H + H) + H * I + I + I * H + H + 4 * H;
    const pooler = H * H + H;
    const head = Math.max(H * L + L, H * H + 3 * H + V);
    return embeddings + N * layer + pooler + head;
  }

  private static maxParameterBytesSet: number | undefined;

  /**
   * The most parameter memory (bytes, float32) a config may ask for; checked by
   * {@link BertConfig.validate}. Default: the tensor layer's per-allocation limit
   * (`getMaxAllocationBytes()`, src/core/limits.ts: half the physical memory unless changed
   * with `setMaxAllocationBytes`). Set a number to change it for configs only, `undefined`
   * to follow the shared limit again.
   *
   * @example
   * ```ts
   * BertConfig.maxParameterBytes = 2 ** 30; // refuse models over 1 GiB
   * ```
   */
  static get maxParameterBytes(): number {
    return BertConfig.maxParameterBytesSet ?? getMaxAllocationBytes();
  }

  static set maxParameterBytes(v: number | undefined) {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
      throw new Error(`BertConfig.maxParameterBytes must be a positive finite number of bytes (or undefined for the default), got ${describeValue(v)}`);
    }
    BertConfig.maxParameterBytesSet = v;
  }

  /**
   * Reads a HuggingFace config.json object; validated as {@link BertConfig.validate}
   * (every size, `id2label`, `num_labels`) before anything is allocated.
   */
  static fromJSON(hf: HFBertConfig): BertConfig {
    if (hf === null || typeof hf !== 'object' || Array.isArray(hf)) {
      throw new Error(`BertConfig.fromJSON: expected a config.json object, got ${describeValue(hf)}`);
    }
    const c: Partial<BertConfig> = {};
    const map: [keyof HFBertConfig, keyof BertConfig][] = [
      ['vocab_size', 'vocabSize'], ['hidden_size', 'hiddenSize'], ['num_hidden_layers', 'numHiddenLayers'],
      ['num_attention_heads', 'numAttentionHeads'], ['intermediate_size', 'intermediateSize'], ['hidden_act', 'hiddenAct'],
      ['hidden_dropout_prob', 'hiddenDropoutProb'], ['attention_probs_dropout_prob', 'attentionProbsDropoutProb'],
      ['max_position_embeddings', 'maxPositionEmbeddings'], ['type_vocab_size', 'typeVocabSize'],
      ['initializer_range', 'initializerRange'], ['layer_norm_eps', 'layerNormEps'], ['pad_token_id', 'padTokenId'],
      ['num_labels', 'numLabels'], ['classifier_dropout', 'classifierDropout'], ['problem_type', 'problemType'],
    ];
    for (const [h, k] of map) if (hf[h] !== undefined) (c as Record<string, unknown>)[k] = hf[h];
    if (hf.pruned_heads !== undefined && hf.pruned_heads !== null && Object.keys(hf.pruned_heads as object).length > 0) {
      c.prunedHeads = Object.fromEntries(Object.entries(hf.pruned_heads as Record<string, number[]>).map(([k, v]) => [Number(k), [...v]]));
    }
    if (hf.id2label !== undefined && hf.id2label !== null) {
      const labels = checkId2label(hf.id2label);
      c.id2label = Object.fromEntries(labels.map((v, i) => [i, v]));
      if (hf.num_labels === undefined) c.numLabels = labels.length;
    }
    return new BertConfig(c);
  }

  /** A HuggingFace config.json object. */
  toJSON(): HFBertConfig {
    return {
      architectures: undefined,
      model_type: 'bert',
      vocab_size: this.vocabSize, hidden_size: this.hiddenSize, num_hidden_layers: this.numHiddenLayers,
      num_attention_heads: this.numAttentionHeads, intermediate_size: this.intermediateSize, hidden_act: this.hiddenAct,
      hidden_dropout_prob: this.hiddenDropoutProb, attention_probs_dropout_prob: this.attentionProbsDropoutProb,
      max_position_embeddings: this.maxPositionEmbeddings, type_vocab_size: this.typeVocabSize,
      initializer_range: this.initializerRange, layer_norm_eps: this.layerNormEps, pad_token_id: this.padTokenId,
      num_labels: this.numLabels, classifier_dropout: this.classifierDropout, problem_type: this.problemType,
      ...(this.prunedHeads ? { pruned_heads: Object.fromEntries(Object.entries(this.prunedHeads).map(([k, v]) => [k, [...v]])) } : {}),
      ...(this.id2label ? {
        id2label: Object.fromEntries(Object.entries(this.id2label).map(([k, v]) => [k, v])),
        label2id: Object.fromEntries(Object.entries(this.id2label).map(([k, v]) => [v, Number(k)])),
      } : {}),
    };
  }
}

export interface ModelOptions {
  dtype?: DType;
  device?: string;
}

function activation(act: HiddenAct, x: Tensor): Tensor {
  switch (act) {
    case 'gelu': return F.gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh': return F.gelu(x, { approximate: 'tanh' });
    case 'relu': return x.relu();
    case 'tanh': return x.tanh();
  }
}

/**
 * word + position + token-type embeddings → LayerNorm → dropout.  Shape: (B, T) → (B, T, H).
 * @example
 * ```ts
 * const emb = new nn.BertEmbeddings(new nn.BertConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32 }));
 * const h = emb.forward(tensor([[2, 5, 7]], { dtype: 'int32' })); // (1, 3, 16)
 * ```
 */
export class BertEmbeddings extends Module {
  /** Token embedding table (vocabSize, H); row `padTokenId` is the padding row. */
  word_embeddings: Embedding;
  /** Learned absolute position embeddings (maxPositionEmbeddings, H). */
  position_embeddings: Embedding;
  /** Segment embeddings (typeVocabSize, H). */
  token_type_embeddings: Embedding;
  /** LayerNorm over H applied to the sum of the three embeddings (ε = config.layerNormEps; HF's capitalised name). */
  LayerNorm: LayerNorm;
  /** Dropout(config.hiddenDropoutProb) after the LayerNorm. */
  dropout: Dropout;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    const H = config.hiddenSize;
    this.word_embeddings = new Embedding(config.vocabSize, H, { ...opts, paddingIdx: config.padTokenId });
    this.position_embeddings = new Embedding(config.maxPositionEmbeddings, H, opts);
    this.token_type_embeddings = new Embedding(config.typeVocabSize, H, opts);
    this.LayerNorm = new LayerNorm(H, { ...opts, eps: config.layerNormEps });
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }
  /**
   * Embeds token ids: Dropout(LayerNorm(word[ids] + tokenType[tt] + position[pos])).
   * @param inputIds - int32 token ids (B, T).
   * @param tokenTypeIds - int32 segment ids (B, T); null/absent means all 0.
   * @param positionIds - int32 positions broadcastable to (B, T); null/absent means 0 … T − 1.
   * @returns (B, T, H).
   * @throws Error when T exceeds config.maxPositionEmbeddings.
   */
  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null, positionIds?: Tensor | null): Tensor {
    const [B, T] = inputIds.shape as [number, number];
    // (given position ids are checked by the lookup itself: a packed row (1, N) may be longer than the table)
    if (!positionIds && T > this.config.maxPositionEmbeddings) {
      throw new Error(`BertEmbeddings: sequence length ${T} exceeds maxPositionEmbeddings ${this.config.maxPositionEmbeddings}`);
    }
    const pos = positionIds ?? arange(0, T, 1, { dtype: 'int32', device: inputIds.device }).unsqueeze(0); // (1, T)
    const tt = tokenTypeIds ?? zeros([B, T], { dtype: 'int32', device: inputIds.device });
    const e = this.word_embeddings.forward(inputIds)
      .add(this.token_type_embeddings.forward(tt))
      .add(this.position_embeddings.forward(pos)); // (B, T, H)
    return this.dropout.forward(this.LayerNorm.forward(e));
  }
}

/**
 * Multi-head self-attention, Eq. (1) of Vaswani et al.: softmax(QKᵀ/√d_k + M)·V per head.
 * Shape: (B, T, H), additive mask (B, 1, 1, T) → (B, T, H).
  * @example
  * ```ts
  * const att = new nn.BertSelfAttention(new nn.BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 }));
  * const probs: Tensor[] = [];
  * const ctx = att.forward(randn([2, 5, 8]), null, probs); // (2, 5, 8); probs[0] is (2, 2, 5, 5)
  * ```
 */
export class BertSelfAttention extends Module {
  /** Query projection W_Q: Linear(H, numHeads·headDim) (H before any head is pruned). */
  query: Linear;
  /** Key projection W_K: Linear(H, numHeads·headDim). */
  key: Linear;
  /** Value projection W_V: Linear(H, numHeads·headDim). */
  value: Linear;
  /** Dropout(config.attentionProbsDropoutProb) on the attention probabilities (B, nh, T, T). */
  dropout: Dropout;
  /** Heads this layer computes: config.numAttentionHeads less the pruned ones (BertAttention.pruneHeads). */
  numHeads: number;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.numHeads = config.numAttentionHeads;
    const H = config.hiddenSize;
    this.query = new Linear(H, H, opts);
    this.key = new Linear(H, H, opts);
    this.value = new Linear(H, H, opts);
    this.dropout = new Dropout(config.attentionProbsDropoutProb);
  }
  /**
   * h (B, T, H) under an additive mask (B, 1, 1, T) or none; or a packed batch h (1, N, H) with
   * its {@link PackedBatch}: the projections run on the N real tokens, the attention in the
   * padded layout, and the result is packed again (1, N, A). With `attentions`, this layer's
   * probabilities (B, nh, T, T) are pushed onto it (outputAttentions; T_max for a packed batch).
   */
  forward(h: Tensor, mask: AttentionMaskArg, attentions?: Tensor[]): Tensor {
    const nh = this.numHeads, hs = this.config.headDim;
    const [B, T] = h.shape as [number, number, number];
    const split = (x: Tensor) => x.reshape([B, T, nh, hs]).permute(0, 2, 1, 3); // (B, nh, T, hs)
    const merge = (ctx: Tensor) => ctx.permute(0, 2, 1, 3).reshape([B, T, nh * hs]); // (B, T, A), A = nh·hs: H, less hs per pruned head
    if (mask instanceof PackedBatch) {
      // A packed batch never takes the fused kernel, whose choice depends on the whole batch's
      // size (F.useFusedAttention): so each sequence's result is the same bits in any batch.
      // One sequence has no padding: a plain pass, no mask
      if (mask.numSequences === 1) return merge(this.attendHeads(split(this.query.forward(h)), split(this.key.forward(h)), split(this.value.forward(h)), null, attentions, false));
      // the packed rows gathered straight into the heads' padded layout (B, nh, T_max, hs), and back
      const ctx = this.attendHeads(mask.padHeads(this.query.forward(h), nh), mask.padHeads(this.key.forward(h), nh), mask.padHeads(this.value.forward(h), nh), mask.extendedMask, attentions, false);
      return mask.unpadHeads(ctx); // (1, N, A)
    }
    return merge(this.attendHeads(split(this.query.forward(h)), split(this.key.forward(h)), split(this.value.forward(h)), mask, attentions, true));
  }
  /**
   * softmax(QKᵀ/√d_k + M)·V per head, for q, k, v (B, nh, T, hs); returns the context (B, nh, T, hs).
   * `allowFused`: whether F.useFusedAttention may pick the fused kernel.
   */
  private attendHeads(q: Tensor, k: Tensor, v: Tensor, extendedMask: Tensor | null, attentions: Tensor[] | undefined, allowFused: boolean): Tensor {
    const hs = this.config.headDim;
    if (allowFused && !attentions && (!this.training || this.dropout.p === 0) && F.useFusedAttention(q, k, v, extendedMask)) {
      // the fused kernel (online softmax, O(T) memory per query row; F.useFusedAttention's rule)
      return flashAttention(q, k, v, { attnMask: extendedMask, scale: 1 / Math.sqrt(hs) }); // (B, nh, T, hs)
    }
    const scores = q.matmul(k.transpose(-1, -2)); // (B, nh, T, T)
    // softmax(scores/√d_k + M) in one fused pass (M: the additive extended mask, or none); when
    // the probabilities are asked for (outputAttentions), the composite that materialises them
    let probs: Tensor;
    if (attentions) {
      const z = scores.mul(1 / Math.sqrt(hs));
      probs = this.dropout.forward(F.softmax(extendedMask ? z.add(extendedMask) : z, -1)); // (B, nh, T, T)
      attentions.push(probs);
    } else probs = this.dropout.forward(scaledMaskedSoftmax(scores, 1 / Math.sqrt(hs), extendedMask));
    return probs.matmul(v); // (B, nh, T, hs)
  }
}

/**
 * The attention block's output: LayerNorm(Dropout(dense(x)) + residual) (post-LN, Devlin et al. §3).
 *
 * Shape: x (B, T, inSize), residual (B, T, H) → (B, T, H).
 */
export class BertSelfOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;
  constructor(config: BertConfig, opts: ModelOptions = {}, inSize = config.hiddenSize) {
    super();
    this.dense = new Linear(inSize, config.hiddenSize, opts);
    this.LayerNorm = new LayerNorm(config.hiddenSize, { ...opts, eps: config.layerNormEps });
    this.dropout = new Dropout(config.hiddenDropoutProb);
  }
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(x)).add(residual));
  }
}

/**
 * Self-attention with its output projection and residual (HF's `BertAttention`):
 *   y = LayerNorm(Dropout(W_o·MultiHead(h) + b_o) + h)
 * where MultiHead is BertSelfAttention (softmax(QKᵀ/√d_k + M)·V per head, heads concatenated).
 * With `attentions`, the attention probabilities (B, nh, T, T) are pushed onto it.
 *
 * Shape: h (B, T, H), extendedMask (B, 1, 1, T) additive or null → (B, T, H).
 *
 * @example
 * const att = new BertAttention(new BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 }));
 * const y = att.forward(randn([2, 5, 8]), null); // (2, 5, 8)
 */
export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertSelfOutput;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.self = new BertSelfAttention(config, opts);
    this.output = new BertSelfOutput(config, opts);
  }
  forward(h: Tensor, extendedMask: AttentionMaskArg, attentions?: Tensor[]): Tensor {
    return this.output.forward(this.self.forward(h, extendedMask, attentions), h);
  }

  /** Original indices of the heads removed so far. */
  prunedHeads = new Set<number>();

  /**
   * Removes attention heads (HF's `BertAttention.prune_heads`; Michel et al. 2019): the rows of
   * W_Q, W_K, W_V (and their biases) that compute the heads, and the matching columns of the
   * output projection W_O, so the layer computes the remaining heads exactly as before.
   * `heads` are original indices (0 … numAttentionHeads − 1); already-pruned ones are skipped.
   */
  pruneHeads(heads: readonly number[]): void {
    const nh0 = this.self.config.numAttentionHeads, hs = this.self.config.headDim;
    for (const h of heads) {
      if (!Number.isInteger(h) || h < 0 || h >= nh0) throw new Error(`BertAttention.pruneHeads: head ${h} is not in [0, ${nh0})`);
    }
    const todo = [...new Set(heads)].filter((h) => !this.prunedHeads.has(h));
    if (todo.length === 0) return;
    const remaining = Array.from({ length: nh0 }, (_, i) => i).filter((i) => !this.prunedHeads.has(i)); // original index of each current head
    if (remaining.length - todo.length < 1) throw new Error(`BertAttention.pruneHeads: pruning heads ${todo.join(', ')} would leave no head in the layer (keep at least one)`);
    const keepHeads = remaining.map((orig, cur) => [orig, cur] as const).filter(([orig]) => !todo.includes(orig)).map(([, cur]) => cur);
    const index = keepHeads.flatMap((c) => Array.from({ length: hs }, (_, j) => c * hs + j)); // kept rows of Q/K/V = columns of O
    const idx = fromTypedArray(Int32Array.from(index), [index.length], { dtype: 'int32' });
    const slice = (l: Linear, dim: 0 | 1): Linear => {
      const w = l.weight.detach();
      const out = dim === 0 ? index.length : l.outFeatures, inn = dim === 0 ? l.inFeatures : index.length;
      const n = new Linear(inn, out, { bias: l.bias !== null, dtype: w.dtype, device: w.device });
      noGrad(() => {
        n.weight.copy_(w.indexSelect(dim, idx.to(w.device)));
        if (l.bias && n.bias) n.bias.copy_(dim === 0 ? l.bias.detach().indexSelect(0, idx.to(w.device)) : l.bias.detach());
      });
      return n;
    };
    this.self.query = slice(this.self.query, 0);
    this.self.key = slice(this.self.key, 0);
    this.self.value = slice(this.self.value, 0);
    this.output.dense = slice(this.output.dense, 1);
    this.self.numHeads = keepHeads.length;
    for (const h of todo) this.prunedHeads.add(h);
  }
}

/** The feed-forward block's first half: act(dense(x)).  Shape: (B, T, H) → (B, T, intermediateSize). */
export class BertIntermediate extends Module {
  dense: Linear;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.dense = new Linear(config.hiddenSize, config.intermediateSize, opts);
  }
  forward(x: Tensor): Tensor {
    return activation(this.config.hiddenAct, this.dense.forward(x));
  }
}

/** The feed-forward block's second half: LayerNorm(Dropout(dense(x)) + residual).  Shape: (B, T, intermediateSize), residual (B, T, H) → (B, T, H). */
export class BertOutput extends BertSelfOutput {
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super(config, opts, config.intermediateSize);
  }
}

/**
 * One post-LN Transformer block.  Shape: (B, T, H) → (B, T, H).
 * @example
 * ```ts
 * const layer = new nn.BertLayer(new nn.BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 }));
 * const mask = nn.extendedAttentionMask(tensor([[1, 1, 1, 0]]), 'float32'); // (1, 1, 1, 4)
 * const y = layer.forward(randn([1, 4, 8]), mask); // (1, 4, 8)
 * ```
 */
export class BertLayer extends Module {
  /** Self-attention with output projection and residual LayerNorm. */
  attention: BertAttention;
  /** Feed-forward first half, act(dense(x)): (B, T, H) → (B, T, intermediateSize). */
  intermediate: BertIntermediate;
  /** Feed-forward second half, LayerNorm(Dropout(dense(x)) + a): (B, T, intermediateSize) → (B, T, H). */
  output: BertOutput;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.attention = new BertAttention(config, opts);
    this.intermediate = new BertIntermediate(config, opts);
    this.output = new BertOutput(config, opts);
  }
  /**
   * One block: a = attention(h, mask); output(intermediate(a), a).
   * @param h - hidden states (B, T, H).
   * @param extendedMask - additive mask (B, 1, 1, T) from {@link extendedAttentionMask}, or null for no masking.
   * @param attentions - when given, this layer's attention probabilities (B, nh, T, T) are pushed onto it.
   * @returns (B, T, H).
   */
  forward(h: Tensor, extendedMask: AttentionMaskArg, attentions?: Tensor[]): Tensor {
    const a = this.attention.forward(h, extendedMask, attentions);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

/**
 * The stack of `numHiddenLayers` BertLayers (HF's `BertEncoder`, `encoder.layer.{i}.*` in
 * checkpoints): h ← BertLayer_i(h, mask) for i = 0 … L−1.
 *
 * Shape: h (B, T, H), extendedMask (B, 1, 1, T) additive or null → (B, T, H).
 *
 * @example
 * const enc = new BertEncoder(new BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16 }));
 * const h = enc.forward(randn([1, 4, 8]), null); // (1, 4, 8)
 */
export class BertEncoder extends Module {
  /** The `numHiddenLayers` blocks, in order (`encoder.layer.{i}.*` in checkpoints). */
  layer: ModuleList<BertLayer>;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.layer = new ModuleList(Array.from({ length: config.numHiddenLayers }, () => new BertLayer(config, opts)));
  }
  /** With `attentions`, each layer pushes its attention probabilities (B, nh, T, T) onto it, in order. */
  forward(h: Tensor, extendedMask: AttentionMaskArg, attentions?: Tensor[]): Tensor {
    for (const l of this.layer) h = l.forward(h, extendedMask, attentions);
    return h;
  }
}

/**
 * tanh(dense(h[:, 0])): the [CLS] summary.  Shape: (B, T, H) → (B, H).
 * @example
 * ```ts
 * const pooler = new nn.BertPooler(new nn.BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 }));
 * const cls = pooler.forward(randn([3, 6, 8])); // (3, 8), values in (−1, 1)
 * ```
 */
export class BertPooler extends Module {
  /** Linear(H, H) applied to the first ([CLS]) token. */
  dense: Linear;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, opts);
  }
  /**
   * tanh(dense(h[:, 0])).
   * @param h - hidden states (B, T, H).
   * @returns the pooled [CLS] vector (B, H).
   */
  forward(h: Tensor): Tensor {
    return this.dense.forward(h.select(1, 0)).tanh();
  }
}

/** HF's init: Linear/Embedding N(0, initializerRange), biases 0, LayerNorm 1/0, padding row 0. */
function initBertWeights(config: BertConfig) {
  return (m: Module): void => {
    if (m instanceof Linear) {
      init.normal_(m.weight, 0, config.initializerRange);
      if (m.bias) init.zeros_(m.bias);
    } else if (m instanceof Embedding) {
      init.normal_(m.weight, 0, config.initializerRange);
      if (m.paddingIdx !== null) noGrad(() => m.weight.select(0, m.paddingIdx!).zero_());
    } else if (m instanceof LayerNorm) {
      if (m.weight) init.ones_(m.weight);
      if (m.bias) init.zeros_(m.bias);
    }
  };
}

export { extendedAttentionMask, PackedBatch };

/**
 * What the encoder's layers take as their attention mask: an additive mask (B, 1, 1, T) from
 * {@link extendedAttentionMask}, a {@link PackedBatch} for a padding-free batch (1, N, H), or
 * null for no masking.
 */
export type AttentionMaskArg = Tensor | PackedBatch | null;

/** The inputs of the BERT models (HF's names in camelCase): token ids (B, T), attention mask, token type ids, position ids, labels, and `outputAttentions`. */
export interface BertInputs {
  /** Token ids, int32 (B, T). */
  inputIds: Tensor;
  /** 1 for tokens to attend to, 0 for padding, (B, T); absent or null: attend to everything. */
  attentionMask?: Tensor | null;
  /** Segment ids, int32 (B, T), each below config.typeVocabSize; absent or null: all 0. */
  tokenTypeIds?: Tensor | null;
  /** Position ids, int32, broadcastable to (B, T); absent or null: 0 … T − 1. */
  positionIds?: Tensor | null;
  /**
   * Targets for the loss; when given, the model's output has `loss`. Token classification and MLM: int32 (B, T) with −100 for
   * ignored positions; sequence classification: int32 (B) class indices, or float (B) / (B, numLabels) for regression / multi-label.
   */
  labels?: Tensor | null;
  /**
   * A padding-free batch: `inputIds` (1, N) holds B sequences one after the other, and
   * cuSeqlens = [0, T₁, T₁ + T₂, …, N] marks where each starts (FlashAttention-2's `cu_seqlens`;
   * see {@link PackedBatch}). Positions restart at 0 in each sequence (unless `positionIds` are
   * given), attention stays within a sequence, `lastHiddenState` and per-token logits are (1, N, ·),
   * and `poolerOutput` / sequence logits are (B, ·), each sequence's values the same as alone.
   * Excludes `attentionMask` (a packed batch has no padding).
   */
  cuSeqlens?: readonly number[] | Int32Array | null;
  /**
   * Also return each layer's attention probabilities (`attentions`, per layer (B, nHeads, T, T):
   * rows sum to 1 over the keys, masked keys get 0; after attention dropout, as HF).
   */
  outputAttentions?: boolean;
}

function checkInputs(model: string, inp: BertInputs, config: BertConfig): void {
  const ids = inp.inputIds;
  if (!(ids instanceof Tensor) || ids.dtype !== 'int32' || ids.ndim !== 2) {
    throw new Error(`${model}: inputIds must be an int32 tensor of shape (B, T), got ${ids instanceof Tensor ? `${ids.dtype} ${fmtShape(ids.shape)}` : typeof ids}`);
  }
  if (inp.cuSeqlens) {
    if (ids.shape[0] !== 1) throw new Error(`${model}: with cuSeqlens, inputIds must be one packed row (1, N), got ${fmtShape(ids.shape)}`);
    if (inp.attentionMask) throw new Error(`${model}: attentionMask and cuSeqlens exclude each other (a packed batch has no padding to mask)`);
    lengthsFromCuSeqlens(model, inp.cuSeqlens, ids.shape[1]!, inp.positionIds ? Infinity : config.maxPositionEmbeddings);
  }
  for (const [k, t] of [['attentionMask', inp.attentionMask], ['tokenTypeIds', inp.tokenTypeIds]] as const) {
    if (t && (t.ndim !== 2 || t.shape[0] !== ids.shape[0] || t.shape[1] !== ids.shape[1])) {
      throw new Error(`${model}: ${k} must have the shape of inputIds ${fmtShape(ids.shape)}, got ${fmtShape(t.shape)}`);
    }
  }
  if (inp.tokenTypeIds) {
    const mx = inp.tokenTypeIds.max().item();
    if (mx >= config.typeVocabSize) throw new Error(`${model}: tokenTypeIds contain ${mx} but typeVocabSize is ${config.typeVocabSize}`);
  }
}

/**
 * Checks int32 class labels before the loss: the expected shape (so that, e.g., transposed
 * (T, B) token labels are not silently flattened into the wrong order), and each label in
 * [0, numClasses) or −100 (ignored), naming the offending value and its position.
 */
function checkClassLabels(model: string, labels: Tensor, shape: readonly number[], numClasses: number): void {
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32' || !shapesEqual(labels.shape, shape)) {
    throw new Error(`${model}: labels must be an int32 tensor of shape ${fmtShape(shape)}, got ${labels instanceof Tensor ? `${labels.dtype} ${fmtShape(labels.shape)}` : typeof labels}`);
  }
  const v = labels.toTypedArray();
  for (let i = 0; i < v.length; i++) {
    const y = v[i]!;
    if (y === -100 || (y >= 0 && y < numClasses)) continue;
    const pos: number[] = [];
    for (let d = shape.length - 1, r = i; d >= 0; d--) {
      pos.unshift(r % shape[d]!);
      r = Math.floor(r / shape[d]!);
    }
    throw new Error(`${model}: label ${y} at position [${pos.join(',')}] is out of range: expected a class index in [0, ${numClasses}) or -100 (ignored)`);
  }
}

/** Keys HF checkpoints may carry that are not parameters here (HF's _keys_to_ignore_on_load_unexpected). */
const IGNORABLE = [/\.position_ids$/, /^bert\.pooler\./, /^pooler\./];

/**
 * Shared loading logic: legacy names, prefix handling, tolerated missing head weights.
 * @example
 * ```ts
 * const config = nn.BertConfig.fromJSON(JSON.parse(readFileSync('bert-base-cased/config.json', 'utf8')));
 * const model = new nn.BertForTokenClassification(config);       // any BERT model class
 * model.loadPretrained(data.loadSafetensors('bert-base-cased/model.safetensors')); // the encoder loads, the fresh classifier keeps its init
 * ```
 */
export abstract class BertPreTrainedModel extends Module {
  /** The model's hyperparameters (shared with its submodules; pruneHeads updates `prunedHeads` in it). */
  abstract readonly config: BertConfig;

  /**
   * Module.loadStateDict for HuggingFace files: legacy TF names (`LayerNorm.gamma` / `.beta`)
   * are read as `.weight` / `.bias`, the non-persistent `position_ids` buffer that older
   * checkpoints carry is ignored, and tied weights stored once are filled in. Everything else
   * (missing or unexpected keys under `strict`, shape mismatches) is reported as usual.
   * Use `loadPretrained` to also adapt the `bert.` prefix and tolerate a fresh task head.
   */
  override loadStateDict(sd: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const src = checkStateDictArg(`${this.constructor.name}.loadStateDict`, sd);
    const fixed: StateDict = {};
    for (const [k, v] of Object.entries(src)) {
      if (/(^|\.)position_ids$/.test(k)) continue;
      fixed[k.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias')] = v;
    }
    this.completeTiedKeys(fixed);
    return super.loadStateDict(fixed, opts);
  }

  /**
   * Loads a HuggingFace BERT state dict: maps legacy TF names (`LayerNorm.gamma/beta`),
   * adds or strips the `bert.` prefix to fit this model, ignores keys HF ignores (position_ids,
   * an unused pooler, another task's head such as `cls.*` in a sequence classifier), and allows
   * a task model's head and absent pooler to be missing (they keep their fresh init, as
   * `from_pretrained` does).
   *
   * `strict` (default true, as PyTorch's `load_state_dict`): every other missing or
   * unexpected key is an error. `strict: false` (as `load_state_dict(strict=False)` and HF's
   * `from_pretrained`): whatever is missing keeps its fresh initialisation (e.g. the pooler
   * of a `BertModel` loaded from an MLM checkpoint, which has none), unexpected keys are
   * skipped, and a warning lists both (`process.emitWarning`, code
   * `TENSORGRAD_PARTIAL_LOAD`). A shape mismatch is an error either way.
   *
   * @returns `{ missingKeys, unexpectedKeys }`: the model's keys left at their init, and the
   *   checkpoint's keys not used (ignored task heads included), in checkpoint naming.
   * @example
   * ```ts
   * const bert = new BertModel(config);
   * const { missingKeys } = bert.loadPretrained(loadSafetensors('mlm/model.safetensors'), { strict: false });
   * missingKeys; // ['pooler.dense.weight', 'pooler.dense.bias']
   * ```
   */
  loadPretrained(sd: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const where = `${this.constructor.name}.loadPretrained`;
    const src = { ...checkStateDictArg(where, sd) };
    if (opts === null || typeof opts !== 'object') throw new StateDictError(`${where}: opts must be an object such as { strict: false }, got ${String(opts)}`);
    if (opts.strict !== undefined && typeof opts.strict !== 'boolean') throw new StateDictError(`${where}: opts.strict must be a boolean, got ${String(opts.strict)}`);
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const wantsPrefix = Object.keys(own).some((k) => k.startsWith('bert.'));
    const fixed: StateDict = {};
    const ignoredHeadKeys: string[] = [];
    for (let [k, v] of Object.entries(src)) {
      k = k.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
      // a task model's checkpoint loaded into the bare encoder: its head is not used (as HF)
      if (!wantsPrefix && /^(cls|classifier|qa_outputs)\./.test(k)) {
        ignoredHeadKeys.push(k);
        continue;
      }
      // another task's head (cls.* of a pre-training checkpoint in a sequence classifier, cls.seq_relationship in an MLM): not used (as HF)
      if (wantsPrefix && /^(cls|classifier|qa_outputs)\./.test(k) && !Object.hasOwn(own, k)) {
        ignoredHeadKeys.push(k);
        continue;
      }
      if (wantsPrefix && !k.startsWith('bert.') && !k.startsWith('cls.') && !k.startsWith('classifier.') && !k.startsWith('qa_outputs.')) k = `bert.${k}`;
      if (!wantsPrefix && k.startsWith('bert.')) k = k.slice(5);
      fixed[k] = v;
    }
    for (const k of Object.keys(fixed)) if (!Object.hasOwn(own, k) && IGNORABLE.some((r) => r.test(k))) delete fixed[k];
    this.completeTiedKeys(fixed);
    // a pooler that the checkpoint lacks altogether (BertForMaskedLM has none) keeps its fresh init, as HF
    const poolerMissing = !Object.keys(fixed).some((k) => k.startsWith('bert.pooler.'));
    const headMissing = Object.keys(own).filter((k) => !Object.hasOwn(fixed, k) && wantsPrefix && (!k.startsWith('bert.') || (poolerMissing && k.startsWith('bert.pooler.'))));
    const res = this.loadStateDict(fixed, { strict: false });
    const missing = res.missingKeys.filter((k) => !headMissing.includes(k));
    if (strict && (missing.length || res.unexpectedKeys.length)) {
      throw new StateDictError(
        `${where}: ` +
          (missing.length ? `missing keys ${missing.map((k) => `"${k}"`).join(', ')}` : '') +
          (missing.length && res.unexpectedKeys.length ? '; ' : '') +
          (res.unexpectedKeys.length ? `unexpected keys ${res.unexpectedKeys.map((k) => `"${k}"`).join(', ')}` : '') +
          ' (pass { strict: false } to keep missing weights at their initialisation and skip unexpected ones, as HF from_pretrained does)',
      );
    }
    const unexpectedKeys = [...ignoredHeadKeys, ...res.unexpectedKeys];
    if (!strict && (missing.length || res.unexpectedKeys.length)) {
      const msg =
        `${where}: ` +
        (missing.length ? `some weights were not in the checkpoint and keep their fresh initialisation: ${missing.join(', ')}` : '') +
        (missing.length && res.unexpectedKeys.length ? '; ' : '') +
        (res.unexpectedKeys.length ? `some checkpoint weights were not used: ${res.unexpectedKeys.join(', ')}` : '');
      if (typeof process !== 'undefined' && typeof process.emitWarning === 'function') process.emitWarning(msg, { code: 'TENSORGRAD_PARTIAL_LOAD' });
    }
    return { missingKeys: res.missingKeys, unexpectedKeys };
  }

  /** Fills keys of tied weights that a checkpoint stored once (safetensors drops duplicates). */
  protected completeTiedKeys(_sd: StateDict): void {}
}

/**
 * The BERT encoder: embeddings → N post-LN layers → optional pooler.
 *
 * Shape: inputIds (B, T) int32, attentionMask (B, T) 1/0, tokenTypeIds (B, T) →
 *   lastHiddenState (B, T, H), poolerOutput (B, H) | null.
 * @example
 * const bert = new BertModel(new BertConfig({ vocabSize: 100, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64 }));
 * const { lastHiddenState } = bert.forward({ inputIds: tensor([[2, 5, 7, 3]], { dtype: 'int32' }) });
 */
export class BertModel extends BertPreTrainedModel {
  /** Token + position + segment embeddings: (B, T) → (B, T, H). */
  embeddings: BertEmbeddings;
  /** The stack of `numHiddenLayers` Transformer blocks. */
  encoder: BertEncoder;
  /** tanh(dense(h[CLS])), or null when constructed with `addPoolingLayer: false` (token classification, MLM). */
  pooler: BertPooler | null;
  constructor(readonly config: BertConfig, opts: ModelOptions & { addPoolingLayer?: boolean } = {}) {
    super();
    this.embeddings = new BertEmbeddings(config, opts);
    this.encoder = new BertEncoder(config, opts);
    this.pooler = opts.addPoolingLayer === false ? null : new BertPooler(config, opts);
    this.apply(initBertWeights(config));
    // a config with pruned_heads describes a pruned model: build its shapes (HF's init_weights does the same)
    if (config.prunedHeads) {
      const ph = config.prunedHeads;
      config.prunedHeads = null;
      this.pruneHeads(ph);
    }
  }

  /**
   * Removes attention heads: `{ layer: [head, …] }` with original head indices (HF's
   * `prune_heads`). The config records them (`pruned_heads` in config.json), so a saved model
   * loads back with the same shapes.
   * @example
   * model.bert.pruneHeads({ 0: [1], 2: [0, 3] });
   */
  pruneHeads(heads: Record<number, readonly number[]>): void {
    const L = this.config.numHiddenLayers;
    for (const [k, hs] of Object.entries(heads)) {
      const l = Number(k);
      if (!Number.isInteger(l) || l < 0 || l >= L) throw new Error(`BertModel.pruneHeads: layer ${k} is not in [0, ${L})`);
      const layer = this.encoder.layer.at(l);
      layer.attention.pruneHeads(hs);
      const all = [...layer.attention.prunedHeads].sort((a, b) => a - b);
      this.config.prunedHeads = { ...(this.config.prunedHeads ?? {}), [l]: all };
    }
  }
  /**
   * Runs the encoder.
   * @param inp - ids (B, T) int32 and optional mask, token types, positions; `outputAttentions` adds the per-layer probabilities. `labels` is ignored here. With `cuSeqlens`, ids (1, N) are a packed batch of B sequences (see {@link BertInputs.cuSeqlens}).
   * @returns `lastHiddenState` (B, T, H) — (1, N, H) packed —, `poolerOutput` (B, H) or null without a pooler, and `attentions` (per layer (B, nh, T, T); T_max packed) when asked.
   * @throws Error when inputIds is not int32 (B, T), the mask or token types have another shape, or a token type is ≥ typeVocabSize.
   */
  forward(inp: BertInputs): { lastHiddenState: Tensor; poolerOutput: Tensor | null; attentions?: Tensor[] } {
    checkInputs('BertModel', inp, this.config);
    const device = inp.inputIds.device;
    const packed = inp.cuSeqlens ? new PackedBatch(inp.cuSeqlens, { device, maxLen: inp.positionIds ? Infinity : this.config.maxPositionEmbeddings, dtype: this.embeddings.word_embeddings.weight.dtype }) : null;
    const h0 = this.embeddings.forward(inp.inputIds, inp.tokenTypeIds, inp.positionIds ?? packed?.positionIds); // (B, T, H) or packed (1, N, H)
    const mask: AttentionMaskArg = packed ?? (inp.attentionMask ? extendedAttentionMask(inp.attentionMask, h0.dtype) : null);
    const attentions: Tensor[] | undefined = inp.outputAttentions ? [] : undefined;
    const h = this.encoder.forward(h0, mask, attentions);
    // the pooler reads token 0 of (B, T, H): for a packed batch, each sequence's first token (B, 1, H)
    const pooled = this.pooler ? this.pooler.forward(packed ? packed.firstTokens(h) : h) : null;
    const out: { lastHiddenState: Tensor; poolerOutput: Tensor | null; attentions?: Tensor[] } = { lastHiddenState: h, poolerOutput: pooled };
    if (attentions) out.attentions = attentions;
    return out;
  }
}

/** What the BERT models return (HF's `ModelOutput`): the loss when labels were given, logits or hidden states, and the attention probabilities when asked. */
export interface ModelOutput {
  /** Unnormalised scores: (B, T, numLabels) per token, (B, numLabels) per sequence, or (B, T, vocabSize) for the MLM. */
  logits: Tensor;
  /** Scalar loss (mean over the non-ignored targets), present only when `labels` were given. */
  loss?: Tensor;
  /** The encoder's last hidden states (B, T, H). */
  hiddenStates?: Tensor;
  /** With `outputAttentions`: per layer, the attention probabilities (B, nHeads, T, T). */
  attentions?: Tensor[];
}

/**
 * BERT with a per-token linear head (NER): logits = classifier(dropout(h)).
 * Loss: crossEntropy over (B·T, numLabels) with ignoreIndex −100 (sub-words, padding).
 *
 * Shape: inputIds (B, T) → logits (B, T, numLabels); labels (B, T) int32.
  * @example
  * ```ts
  * const config = new nn.BertConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, numLabels: 5 });
  * const model = new nn.BertForTokenClassification(config);
  * const out = model.forward({
  *   inputIds: tensor([[2, 11, 12, 3]], { dtype: 'int32' }),
  *   labels: tensor([[-100, 1, 2, -100]], { dtype: 'int32' }), // [CLS] and [SEP] ignored
  * });
  * out.logits.shape;                       // [1, 4, 5]
  * out.loss!.backward();
  * ```
 */
export class BertForTokenClassification extends BertPreTrainedModel {
  /** The encoder (without a pooler). */
  bert: BertModel;
  /** Dropout before the classifier (config.classifierDropout, or hiddenDropoutProb when null). */
  dropout: Dropout;
  /** Linear(H, numLabels) applied to every token. */
  classifier: Linear;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.bert = new BertModel(config, { ...opts, addPoolingLayer: false });
    this.dropout = new Dropout(config.classifierDropout ?? config.hiddenDropoutProb);
    this.classifier = new Linear(config.hiddenSize, config.numLabels, opts);
    initBertWeights(config)(this.classifier);
  }
  /**
   * Per-token logits, and the cross-entropy loss when `inp.labels` is given (positions labelled −100 are ignored).
   * @returns `logits` (B, T, numLabels), `hiddenStates` (B, T, H), `loss` with labels, `attentions` with outputAttentions.
   * @throws Error when the labels are not int32 of the shape of inputIds, or a label is outside [0, numLabels) and not −100.
   */
  forward(inp: BertInputs): ModelOutput {
    const { lastHiddenState, attentions } = this.bert.forward(inp);
    const logits = this.classifier.forward(this.dropout.forward(lastHiddenState)); // (B, T, L)
    const out: ModelOutput = { logits, hiddenStates: lastHiddenState };
    if (attentions) out.attentions = attentions;
    if (inp.labels) {
      const L = this.config.numLabels;
      checkClassLabels('BertForTokenClassification', inp.labels, inp.inputIds.shape, L);
      out.loss = F.crossEntropy(logits.reshape([-1, L]), inp.labels.reshape([-1])); // (B·T, L) vs (B·T)
    }
    return out;
  }
}

/**
 * BERT with a sentence-level head on the pooled [CLS] vector.
 * Loss by problemType: regression (numLabels = 1) → MSE; single-label → cross-entropy;
 * multi-label → BCE with logits (as HF).
 *
 * Shape: inputIds (B, T) → logits (B, numLabels); labels (B) int32, or (B)/(B, L) float.
  * @example
  * ```ts
  * const config = new nn.BertConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, numLabels: 2 });
  * const model = new nn.BertForSequenceClassification(config);
  * const out = model.forward({
  *   inputIds: tensor([[2, 11, 12, 3], [2, 13, 3, 0]], { dtype: 'int32' }),
  *   attentionMask: tensor([[1, 1, 1, 1], [1, 1, 1, 0]], { dtype: 'int32' }),
  *   labels: tensor([1, 0], { dtype: 'int32' }),
  * });
  * out.logits.shape;                       // [2, 2]
  * out.loss!.item();                       // cross-entropy, ≈ ln 2 at initialisation
  * ```
 */
export class BertForSequenceClassification extends BertPreTrainedModel {
  /** The encoder, with the pooler (its [CLS] output feeds the classifier). */
  bert: BertModel;
  /** Dropout on the pooled vector (config.classifierDropout, or hiddenDropoutProb when null). */
  dropout: Dropout;
  /** Linear(H, numLabels) on the pooled [CLS] vector. */
  classifier: Linear;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.bert = new BertModel(config, opts);
    this.dropout = new Dropout(config.classifierDropout ?? config.hiddenDropoutProb);
    this.classifier = new Linear(config.hiddenSize, config.numLabels, opts);
    initBertWeights(config)(this.classifier);
  }
  /**
   * Sentence-level logits, and the loss when `inp.labels` is given (MSE, cross-entropy or BCE by config.problemType, see the class).
   * @returns `logits` (B, numLabels), `hiddenStates` (B, T, H), `loss` with labels, `attentions` with outputAttentions.
   * @throws Error for single-label classification when the labels are not int32 (B) or a label is outside [0, numLabels) and not −100.
   */
  forward(inp: BertInputs): ModelOutput {
    const { poolerOutput, lastHiddenState, attentions } = this.bert.forward(inp);
    const logits = this.classifier.forward(this.dropout.forward(poolerOutput!)); // (B, L)
    const out: ModelOutput = { logits, hiddenStates: lastHiddenState };
    if (attentions) out.attentions = attentions;
    const labels = inp.labels;
    if (labels) {
      const L = this.config.numLabels;
      const problem = this.config.problemType ?? (L === 1 ? 'regression' : labels.dtype === 'int32' ? 'single_label_classification' : 'multi_label_classification');
      if (problem === 'regression') out.loss = F.mseLoss(logits.reshape([-1]), labels.to(logits.dtype).reshape([-1]));
      else if (problem === 'single_label_classification') {
        checkClassLabels('BertForSequenceClassification', labels, [logits.shape[0]!], L);
        out.loss = F.crossEntropy(logits.reshape([-1, L]), labels.reshape([-1]));
      } else out.loss = F.binaryCrossEntropyWithLogits(logits, labels.to(logits.dtype));
    }
    return out;
  }
}

/** The MLM head's transform: LayerNorm(act(dense(h))).  Shape: (…, H) → (…, H). */
export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.dense = new Linear(config.hiddenSize, config.hiddenSize, opts);
    this.LayerNorm = new LayerNorm(config.hiddenSize, { ...opts, eps: config.layerNormEps });
  }
  forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(activation(this.config.hiddenAct, this.dense.forward(h)));
  }
}

/** transform → decoder (weights tied to the word embeddings) + bias.  Shape: (…, H) → (…, vocabSize). */
export class BertLMPredictionHead extends Module {
  transform: BertPredictionHeadTransform;
  decoder: Linear;
  bias: Parameter;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.transform = new BertPredictionHeadTransform(config, opts);
    this.decoder = new Linear(config.hiddenSize, config.vocabSize, { ...opts, bias: false });
    this.bias = new Parameter(zeros([config.vocabSize], { dtype: opts.dtype, device: opts.device }));
    this.decoder.bias = this.bias; // HF: self.decoder.bias = self.bias
  }
  forward(h: Tensor): Tensor {
    return this.decoder.forward(this.transform.forward(h));
  }
  protected override retie(): void {
    this.decoder.bias = this.bias;
  }
}

/**
 * The masked-LM head as HF names it in checkpoints (`cls.predictions.*`): a holder of the
 * BertLMPredictionHead, whose forward maps hidden states to vocabulary logits,
 *   logits = W_e·LayerNorm(act(W_t·h + b_t)) + b   (W_e tied to the word embeddings).
 * BertForMaskedLM calls `cls.predictions.forward(h)`; this class adds no computation of its own.
 *
 * Shape: `predictions.forward`: (…, H) → (…, vocabSize).
 *
 * @example
 * const head = new BertOnlyMLMHead(config);
 * const logits = head.predictions.forward(hidden); // (B, T, vocabSize)
 */
export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;
  constructor(config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.predictions = new BertLMPredictionHead(config, opts);
  }
}

/**
 * BERT's masked-language-model pre-training head (§3.1, Task #1): predicts the original id of
 * each masked token; labels are −100 except at masked positions. The decoder shares its
 * weight with `bert.embeddings.word_embeddings` (Press & Wolf 2017).
 *
 * Shape: inputIds (B, T) → logits (B, T, vocabSize).
  * @example
  * ```ts
  * const config = new nn.BertConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32 });
  * const mlm = new nn.BertForMaskedLM(config);
  * const out = mlm.forward({
  *   inputIds: tensor([[2, 4, 50, 3]], { dtype: 'int32' }),        // 4 = [MASK] in this toy vocabulary
  *   labels: tensor([[-100, 17, -100, -100]], { dtype: 'int32' }), // predict the original id 17 there
  * });
  * out.logits.shape;                       // [1, 4, 100]
  * mlm.cls.predictions.decoder.weight === mlm.bert.embeddings.word_embeddings.weight; // true (tied)
  * ```
 */
export class BertForMaskedLM extends BertPreTrainedModel {
  /** The encoder (without a pooler); its word embeddings are tied to the decoder. */
  bert: BertModel;
  /** The MLM head (`cls.predictions.*` in checkpoints). */
  cls: BertOnlyMLMHead;
  constructor(readonly config: BertConfig, opts: ModelOptions = {}) {
    super();
    this.bert = new BertModel(config, { ...opts, addPoolingLayer: false });
    this.cls = new BertOnlyMLMHead(config, opts);
    this.cls.apply(initBertWeights(config));
    this.retie();
  }
  protected override retie(): void {
    this.cls.predictions.decoder.weight = this.bert.embeddings.word_embeddings.weight;
    this.cls.predictions.decoder.bias = this.cls.predictions.bias;
  }
  protected override completeTiedKeys(sd: StateDict): void {
    const w = sd['bert.embeddings.word_embeddings.weight'];
    if (w && !sd['cls.predictions.decoder.weight']) sd['cls.predictions.decoder.weight'] = w;
    const b = sd['cls.predictions.bias'] ?? sd['cls.predictions.decoder.bias'];
    if (b) {
      sd['cls.predictions.bias'] ??= b;
      sd['cls.predictions.decoder.bias'] ??= b;
    }
  }
  /**
   * Vocabulary logits at every position, and the MLM cross-entropy when `inp.labels` is given (−100 = not masked, ignored).
   * @returns `logits` (B, T, vocabSize), `hiddenStates` (B, T, H), `loss` with labels, `attentions` with outputAttentions.
   * @throws Error when the labels are not int32 of the shape of inputIds, or a label is outside [0, vocabSize) and not −100.
   */
  forward(inp: BertInputs): ModelOutput {
    const { lastHiddenState, attentions } = this.bert.forward(inp);
    const logits = this.cls.predictions.forward(lastHiddenState); // (B, T, V)
    const out: ModelOutput = { logits, hiddenStates: lastHiddenState };
    if (attentions) out.attentions = attentions;
    if (inp.labels) {
      checkClassLabels('BertForMaskedLM', inp.labels, inp.inputIds.shape, this.config.vocabSize);
      out.loss = F.crossEntropy(logits.reshape([-1, this.config.vocabSize]), inp.labels.reshape([-1])); // (B·T, V) vs (B·T)
    }
    return out;
  }
}

