/**
 * GPT: a decoder-only Transformer language model (Radford et al. 2019, "Language Models are
 * Unsupervised Multitask Learners" — GPT-2), laid out module for module like Andrej Karpathy's
 * nanoGPT `model.py`, so parameter names match nanoGPT (and, after transposing HuggingFace's
 * Conv1D weights, GPT-2) checkpoints:
 *
 *   transformer.wte.weight, transformer.wpe.weight
 *   transformer.h.{i}.ln_1.*, transformer.h.{i}.attn.c_attn.*  (fused q, k, v: nEmbd → 3·nEmbd)
 *   transformer.h.{i}.attn.c_proj.*, transformer.h.{i}.ln_2.*
 *   transformer.h.{i}.mlp.c_fc.*, transformer.h.{i}.mlp.c_proj.*
 *   transformer.ln_f.*, lm_head.weight (tied to transformer.wte.weight, Press & Wolf 2017)
 *
 * Kept from GPT-2 / nanoGPT: pre-LN residual blocks (GPT-2 §2.3: layer norm moved to the input
 * of each sub-block, plus a final layer norm), learned absolute position embeddings, causal
 * self-attention, init N(0, 0.02) with the residual projections (`c_proj.weight`) scaled by
 * 1/√(2·nLayer) ("we scale the weights of residual layers at initialization by a factor of
 * 1/√N where N is the number of residual layers"), zero biases, LayerNorm ε = 1e-5.
 *
 * Departures, written down:
 * - GELU is the tanh approximation, as the original GPT-2 code (HF's `gelu_new`); nanoGPT uses
 *   the exact erf form (`nn.GELU()`). The two differ by < 1e-3.
 * - No causal-mask buffer (`attn.bias`) is registered (nanoGPT's flash-attention path); HF
 *   checkpoints' `attn.bias` / `attn.masked_bias` buffers are ignored by `loadPretrained`.
 * - `forward` always returns the logits of every position (nanoGPT computes only the last one
 *   at inference); `generate` projects only the last position.
 * - `generate` keeps a key/value cache (nanoGPT recomputes the whole window every step); the
 *   result is the same, see `generate`.
 */
import { isGradEnabled, noGrad } from '../autograd/engine.js';
import { cat, ge, unsqueeze } from '../autograd/ops.js';
import { arange, fromTypedArray } from '../tensor/creation.js';
import type { DType } from '../core/dtype.js';
import { defaultGenerator, sampleCategorical } from '../tensor/random.js';
import { fmtShape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Dropout, Embedding, GELU, LayerNorm, Linear, ModuleList } from './layers.js';
import { Module, type LoadStateDictResult, type StateDict } from './module.js';
import { causalAttentionContiguous } from './row-attention.js';

/** nanoGPT / GPT-2 initializer range: weights ~ N(0, 0.02²). */
const INIT_STD = 0.02;
/** LayerNorm ε of GPT-2 (`layer_norm_epsilon`) and nanoGPT (F.layer_norm's 1e-5). */
const LN_EPS = 1e-5;
/** The MLP's hidden width is 4·nEmbd (GPT-2 inherits it from Vaswani et al.'s d_ff = 4·d_model). */
const MLP_EXPANSION = 4;

const GPT_CONFIG_KEYS: readonly string[] = ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'dropout', 'bias'];

/**
 * GPT hyperparameters (nanoGPT's `GPTConfig`; defaults are nanoGPT's GPT-2 124M: vocabulary
 * 50304 = 50257 padded up to a multiple of 64, context 1024, 12 layers, 12 heads, width 768).
 * @example
 * const config = new GPTConfig({ vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16 });
 */
export class GPTConfig {
  /** Vocabulary size V: rows of `wte` and columns of the logits. Default 50304 (GPT-2's 50257 padded to a multiple of 64). */
  vocabSize = 50304;
  /** Context length: the longest sequence (rows of `wpe`); longer inputs are rejected by forward. Default 1024. */
  blockSize = 1024;
  /** Number of Transformer blocks. Default 12. */
  nLayer = 12;
  /** Attention heads per block; must divide nEmbd. Default 12. */
  nHead = 12;
  /** Embedding width C of every token vector. Default 768. */
  nEmbd = 768;
  /** Dropout probability used after the embeddings, on attention weights and on both residual branches. */
  dropout = 0;
  /** Biases in the Linear layers and LayerNorms (GPT-2: true). */
  bias = true;

  constructor(opts: Partial<Pick<GPTConfig, 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'dropout' | 'bias'>> = {}) {
    if (opts === null || typeof opts !== 'object') throw new Error(`GPTConfig: options must be an object, got ${String(opts)}`);
    for (const [k, v] of Object.entries(opts)) {
      if (!GPT_CONFIG_KEYS.includes(k)) throw new Error(`GPTConfig: unknown option '${k}' (expected one of ${GPT_CONFIG_KEYS.join(', ')})`);
      if (v !== undefined) (this as unknown as Record<string, unknown>)[k] = v;
    }
    this.validate();
  }

  /** Width of one attention head, nEmbd / nHead. */
  get headDim(): number {
    return this.nEmbd / this.nHead;
  }

  /**
   * Checks the fields (the constructor calls it): sizes are positive integers, nEmbd is divisible by nHead, dropout is in [0, 1], bias is a boolean.
   * @throws Error naming the first field that fails, with its value.
   */
  validate(): void {
    const ints: [string, number][] = [
      ['vocabSize', this.vocabSize], ['blockSize', this.blockSize], ['nLayer', this.nLayer], ['nHead', this.nHead], ['nEmbd', this.nEmbd],
    ];
    for (const [k, v] of ints) if (!Number.isInteger(v) || v <= 0) throw new Error(`GPTConfig: ${k} must be a positive integer, got ${v}`);
    if (this.nEmbd % this.nHead !== 0) {
      throw new Error(`GPTConfig: nEmbd (${this.nEmbd}) must be divisible by nHead (${this.nHead}); got remainder ${this.nEmbd % this.nHead}`);
    }
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout <= 1)) {
      throw new Error(`GPTConfig: dropout must be a number in [0, 1], got ${this.dropout}`);
    }
    if (typeof this.bias !== 'boolean') throw new Error(`GPTConfig: bias must be a boolean, got ${String(this.bias)}`);
  }

  /**
   * Reads a HuggingFace GPT-2 `config.json` (`n_positions`, `n_embd`, `n_layer`, `n_head`,
   * `vocab_size`, `resid_pdrop`, …) or a nanoGPT / train-gpt one (`block_size`, `dropout`,
   * `bias`). GPT-2 settings this GPT cannot reproduce are errors naming the key:
   * `activation_function` other than the tanh GELU (`gelu_new`, `gelu_pytorch_tanh`), `n_inner`
   * other than 4·n_embd, `layer_norm_epsilon` other than 1e-5. GPT-2's three dropouts
   * (`resid_pdrop`, `embd_pdrop`, `attn_pdrop`) become the one `dropout`: `resid_pdrop` (they only
   * matter for training).
   * @example
   * const c = GPTConfig.fromJSON({ model_type: 'gpt2', vocab_size: 65, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 4 });
   * c.blockSize; // 64
   */
  static fromJSON(j: Record<string, unknown>): GPTConfig {
    if (j === null || typeof j !== 'object') throw new Error(`GPTConfig.fromJSON: expected a config object, got ${String(j)}`);
    const num = (k: string): number | undefined => {
      const v = j[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number') throw new Error(`GPTConfig.fromJSON: "${k}" must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    const nEmbd = num('n_embd');
    const act = j.activation_function;
    if (act !== undefined && act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
      throw new Error(`GPTConfig.fromJSON: "activation_function" '${String(act)}' is not supported (this GPT uses the tanh GELU: gelu_new or gelu_pytorch_tanh)`);
    }
    const nInner = num('n_inner');
    if (nInner !== undefined && nEmbd !== undefined && nInner !== MLP_EXPANSION * nEmbd) {
      throw new Error(`GPTConfig.fromJSON: "n_inner" ${nInner} is not supported (the MLP is 4·n_embd = ${MLP_EXPANSION * nEmbd} wide)`);
    }
    const eps = num('layer_norm_epsilon');
    if (eps !== undefined && eps !== LN_EPS) throw new Error(`GPTConfig.fromJSON: "layer_norm_epsilon" ${eps} is not supported (this GPT uses ${LN_EPS})`);
    if (j.tie_word_embeddings === false) throw new Error('GPTConfig.fromJSON: "tie_word_embeddings": false is not supported (lm_head is tied to wte)');
    const opts: Partial<Pick<GPTConfig, 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'dropout' | 'bias'>> = {
      vocabSize: num('vocab_size'), blockSize: num('n_positions') ?? num('block_size') ?? num('n_ctx'),
      nLayer: num('n_layer'), nHead: num('n_head'), nEmbd, dropout: num('resid_pdrop') ?? num('dropout'),
    };
    if (j.bias !== undefined) {
      if (typeof j.bias !== 'boolean') throw new Error(`GPTConfig.fromJSON: "bias" must be a boolean, got ${JSON.stringify(j.bias)}`);
      opts.bias = j.bias;
    }
    return new GPTConfig(opts);
  }

  /**
   * A HuggingFace GPT-2 `config.json` object (`GPT2LMHeadModel`, loads with
   * `GPT2Config.from_pretrained`); `bias` is kept as an extra key.
   * @example
   * JSON.stringify(new GPTConfig({ vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32 }).toJSON());
   */
  toJSON(): Record<string, unknown> {
    return {
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2',
      vocab_size: this.vocabSize, n_positions: this.blockSize, n_ctx: this.blockSize, n_embd: this.nEmbd, n_layer: this.nLayer,
      n_head: this.nHead, n_inner: null, activation_function: 'gelu_new', resid_pdrop: this.dropout, embd_pdrop: this.dropout,
      attn_pdrop: this.dropout, layer_norm_epsilon: LN_EPS, initializer_range: INIT_STD, tie_word_embeddings: true,
      bos_token_id: null, eos_token_id: null, bias: this.bias, // no GPT-2 BPE ids in a character vocabulary
    };
  }
}

/** Where GPT creates its parameters (dtype, device) besides its {@link GPTConfig}. */
export interface GPTOptions {
  /** Parameter dtype; default 'float32'. */
  dtype?: DType;
  /** Device the parameters live on; default the current default device. */
  device?: string;
}

/** One layer's cached keys and values, (B, nh, P, hs) each, or null before the first step. */
export interface LayerKV {
  /** Cached keys (B, nHead, P, headDim) of the P positions seen so far, or null before the first step. */
  k: Tensor | null;
  /** Cached values (B, nHead, P, headDim), or null before the first step. */
  v: Tensor | null;
}

/**
 * The key/value cache of autoregressive decoding: per layer, the keys and values of every
 * position fed so far, so that each new token attends to them without recomputing them.
 * Passed to `GPT.forward(idx, targets, { kvCache })`, which appends to it.
 *
 * Shape: per layer, k and v (B, nHead, P, headDim).
 * @example
 * const cache = gpt.newCache();
 * gpt.forward(tensor([[1, 2, 3]], { dtype: 'int32' }), null, { kvCache: cache }); // cache.length 3
 * const { logits } = gpt.forward(tensor([[4]], { dtype: 'int32' }), null, { kvCache: cache }); // position 3 only: [1, 1, V]
 */
export class KVCache {
  /** One key/value pair per block, index = layer; CausalSelfAttention.forward appends the new positions along dim 2. */
  readonly layers: LayerKV[];
  constructor(readonly nLayer: number) {
    if (!Number.isInteger(nLayer) || nLayer <= 0) throw new Error(`KVCache: nLayer must be a positive integer, got ${nLayer}`);
    this.layers = Array.from({ length: nLayer }, () => ({ k: null, v: null }));
  }
  /** Number of positions cached (P). */
  get length(): number {
    return this.layers[0]!.k?.shape[2] ?? 0;
  }
  /** Batch size of the cached tensors, or null when empty. */
  get batchSize(): number | null {
    return this.layers[0]!.k?.shape[0] ?? null;
  }
  /** Empties the cache. */
  reset(): void {
    for (const l of this.layers) {
      l.k = null;
      l.v = null;
    }
  }
}

/**
 * Multi-head causal self-attention with the q, k, v projections fused into one Linear
 * (`c_attn`, nEmbd → 3·nEmbd) as GPT-2. Eq. (1) of Vaswani et al. per head,
 *   Attention(Q, K, V) = softmax(QKᵀ/√d_k + M)·V,   M_ij = −∞ for j > i (no peeking ahead),
 * then the heads are concatenated and projected by `c_proj`.
 *
 * With a `LayerKV` cache of P earlier positions the new keys/values are appended and the T new
 * queries (absolute positions P…P+T−1) attend to all P+T keys up to their own position.
 *
 * Shape: (B, T, nEmbd) → (B, T, nEmbd).
 * @example
 * const attn = new CausalSelfAttention(new GPTConfig({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }));
 * const y = attn.forward(randn([2, 5, 8])); // [2, 5, 8]
 */
export class CausalSelfAttention extends Module {
  /** Fused q, k, v projection: Linear(nEmbd, 3·nEmbd) (bias per config.bias); its output splits into q, k, v along the last dim. */
  c_attn: Linear;
  /** Output projection: Linear(nEmbd, nEmbd), initialised N(0, (0.02/√(2·nLayer))²). */
  c_proj: Linear;
  /** Dropout(config.dropout) on the attention probabilities. */
  attn_dropout: Dropout;
  /** Dropout(config.dropout) on the output projection, before the residual add. */
  resid_dropout: Dropout;
  /** Number of heads (config.nHead). */
  readonly nHead: number;
  /** Input and output width C (config.nEmbd). */
  readonly nEmbd: number;
  constructor(readonly config: GPTConfig, opts: GPTOptions = {}) {
    super();
    const C = config.nEmbd;
    this.c_attn = new Linear(C, 3 * C, { ...opts, bias: config.bias });
    this.c_proj = new Linear(C, C, { ...opts, bias: config.bias });
    this.attn_dropout = new Dropout(config.dropout);
    this.resid_dropout = new Dropout(config.dropout);
    this.nHead = config.nHead;
    this.nEmbd = C;
  }

  /** With `attentions`, this layer's probabilities (B, nHead, T, P+T) are pushed onto it (outputAttentions). */
  forward(x: Tensor, cache: LayerKV | null = null, attentions?: Tensor[]): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.nEmbd) {
      throw new Error(`CausalSelfAttention: input must be (B, T, nEmbd = ${this.nEmbd}), got ${fmtShape(x.shape)}`);
    }
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.nHead, hs = C / nh;
    const [q, k, v] = this.c_attn.forward(x).split(C, 2); // 3 × (B, T, C)
    const heads = (t: Tensor) => t.reshape([B, T, nh, hs]).transpose(1, 2); // (B, T, C) → (B, T, nh, hs) → (B, nh, T, hs)
    const qh = heads(q!);
    let kh = heads(k!);
    let vh = heads(v!);
    const past = cache?.k ? cache.k.shape[2]! : 0;
    if (cache) {
      if (cache.k && cache.v) {
        if (cache.k.shape[0] !== B) throw new Error(`CausalSelfAttention: the cache holds a batch of ${cache.k.shape[0]}, got input batch ${B}`);
        kh = cat([cache.k, kh], 2); // (B, nh, P+T, hs)
        vh = cat([cache.v, vh], 2); // (B, nh, P+T, hs)
      }
      cache.k = kh;
      cache.v = vh;
    }
    if (!attentions && !isGradEnabled() && (!this.training || this.attn_dropout.p === 0) && (x.dtype === 'float32' || x.dtype === 'float64')) {
      // inference (noGrad, no dropout): every query row through the one-reduction-order kernel
      // that the serving engine's PagedAttention also uses (row-attention.ts), so prefill, decode
      // and any batch composition give bit-identical outputs for the same positions
      const out = x.dtype === 'float32' ? new Float32Array(B * T * C) : new Float64Array(B * T * C);
      causalAttentionContiguous(
        qh.toTypedArray() as Float32Array, kh.toTypedArray() as Float32Array, vh.toTypedArray() as Float32Array, B, nh, T, hs, past, out,
      );
      const merged = fromTypedArray(out, [B, T, C], { dtype: x.dtype, device: x.device }); // (B, T, C): heads side by side
      return this.resid_dropout.forward(this.c_proj.forward(merged));
    }
    const sdpaOpts = { dropoutP: this.attn_dropout.p, training: this.training };
    // outputAttentions: the path that materialises the probabilities (attentionWithWeights)
    const sdpa = (o: Parameters<typeof F.scaledDotProductAttention>[3]): Tensor => {
      if (!attentions) return F.scaledDotProductAttention(qh, kh, vh, o);
      const r = F.attentionWithWeights(qh, kh, vh, o);
      attentions.push(r.weights); // (B, nh, T, P+T)
      return r.output;
    };
    let y: Tensor;
    if (past === 0) {
      y = sdpa({ ...sdpaOpts, isCausal: true }); // (B, nh, T, hs)
    } else if (T === 1) {
      // the one new query is the last position: every cached key is in its past, no mask needed
      y = sdpa(sdpaOpts); // (B, nh, 1, hs)
    } else {
      // query i sits at absolute position P + i and may see keys j ≤ P + i: a (T, P+T) keep-mask
      const qi = unsqueeze(arange(past, past + T, 1, { dtype: 'int32', device: x.device }), 1); // (T, 1)
      const kj = unsqueeze(arange(0, past + T, 1, { dtype: 'int32', device: x.device }), 0); // (1, P+T)
      y = sdpa({ ...sdpaOpts, attnMask: ge(qi, kj) }); // (B, nh, T, hs)
    }
    const merged = y.transpose(1, 2).reshape([B, T, C]); // (B, nh, T, hs) → (B, T, nh, hs) → (B, T, C): heads side by side
    return this.resid_dropout.forward(this.c_proj.forward(merged));
  }
  override extraRepr(): string {
    return `nEmbd=${this.nEmbd}, nHead=${this.nHead}`;
  }
}

/**
 * The position-wise feed-forward network: c_proj(GELU(c_fc(x))), nEmbd → 4·nEmbd → nEmbd.
 *
 * Shape: (B, T, nEmbd) → (B, T, nEmbd).
 * @example
 * const mlp = new MLP(new GPTConfig({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }));
 * const y = mlp.forward(randn([2, 5, 8])); // [2, 5, 8]
 */
export class MLP extends Module {
  /** Up-projection: Linear(nEmbd, 4·nEmbd). */
  c_fc: Linear;
  /** The tanh-approximated GELU (GPT-2's `gelu_new`). */
  gelu: GELU;
  /** Down-projection: Linear(4·nEmbd, nEmbd), initialised N(0, (0.02/√(2·nLayer))²). */
  c_proj: Linear;
  /** Dropout(config.dropout) on the MLP output, before the residual add. */
  dropout: Dropout;
  constructor(readonly config: GPTConfig, opts: GPTOptions = {}) {
    super();
    const C = config.nEmbd;
    this.c_fc = new Linear(C, MLP_EXPANSION * C, { ...opts, bias: config.bias });
    this.gelu = new GELU('tanh');
    this.c_proj = new Linear(MLP_EXPANSION * C, C, { ...opts, bias: config.bias });
    this.dropout = new Dropout(config.dropout);
  }
  /**
   * dropout(c_proj(GELU(c_fc(x)))).
   * @param x - (B, T, nEmbd).
   * @returns (B, T, nEmbd).
   */
  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.c_proj.forward(this.gelu.forward(this.c_fc.forward(x))));
  }
}

/**
 * One pre-LN Transformer block (GPT-2 §2.3):
 *   x = x + attn(ln_1(x));   x = x + mlp(ln_2(x))
 *
 * Shape: (B, T, nEmbd) → (B, T, nEmbd).
 * @example
 * const block = new Block(new GPTConfig({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }));
 * const y = block.forward(randn([2, 5, 8])); // [2, 5, 8]
 */
export class Block extends Module {
  /** LayerNorm(nEmbd, ε = 1e-5) before the attention. */
  ln_1: LayerNorm;
  /** Causal self-attention. */
  attn: CausalSelfAttention;
  /** LayerNorm(nEmbd, ε = 1e-5) before the MLP. */
  ln_2: LayerNorm;
  /** The feed-forward network (nEmbd → 4·nEmbd → nEmbd). */
  mlp: MLP;
  constructor(readonly config: GPTConfig, opts: GPTOptions = {}) {
    super();
    this.ln_1 = new LayerNorm(config.nEmbd, { ...opts, eps: LN_EPS, bias: config.bias });
    this.attn = new CausalSelfAttention(config, opts);
    this.ln_2 = new LayerNorm(config.nEmbd, { ...opts, eps: LN_EPS, bias: config.bias });
    this.mlp = new MLP(config, opts);
  }
  /**
   * x + attn(ln_1(x)), then + mlp(ln_2(x)).
   * @param x - (B, T, nEmbd).
   * @param cache - this layer's key/value cache, appended to (see CausalSelfAttention), or null.
   * @param attentions - when given, the layer's attention probabilities (B, nHead, T, P+T) are pushed onto it.
   * @returns (B, T, nEmbd).
   */
  forward(x: Tensor, cache: LayerKV | null = null, attentions?: Tensor[]): Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x), cache, attentions));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

/**
 * nanoGPT's `transformer` ModuleDict: wte, wpe, drop, h, ln_f.
 * @example
 * ```ts
 * const gpt = new nn.GPT(new nn.GPTConfig({ vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16 }));
 * gpt.transformer.h.length;               // 2 blocks
 * gpt.transformer.wte.weight.shape;       // [65, 16]
 * ```
 */
export class GPTTransformer extends Module {
  /** Token embedding (vocabSize, nEmbd); shared with `GPT.lm_head.weight`. */
  wte: Embedding;
  /** Learned position embedding (blockSize, nEmbd). */
  wpe: Embedding;
  /** Dropout(config.dropout) on the summed embeddings. */
  drop: Dropout;
  /** The nLayer blocks, in order (`transformer.h.{i}.*`). */
  h: ModuleList<Block>;
  /** Final LayerNorm(nEmbd, ε = 1e-5) before lm_head. */
  ln_f: LayerNorm;
  constructor(config: GPTConfig, opts: GPTOptions = {}) {
    super();
    this.wte = new Embedding(config.vocabSize, config.nEmbd, opts);
    this.wpe = new Embedding(config.blockSize, config.nEmbd, opts);
    this.drop = new Dropout(config.dropout);
    this.h = new ModuleList(Array.from({ length: config.nLayer }, () => new Block(config, opts)));
    this.ln_f = new LayerNorm(config.nEmbd, { ...opts, eps: LN_EPS, bias: config.bias });
  }
}

/** What `GPT.forward` returns: logits (B, T, V), the mean cross-entropy loss when targets were given, and the per-layer attention probabilities when asked. */
export interface GPTOutput {
  /** (B, T, vocabSize) unnormalised next-token scores. */
  logits: Tensor;
  /** Mean cross-entropy over the targets that are not −100, when targets are given. */
  loss?: Tensor;
  /** With `outputAttentions`: per layer, the causal attention probabilities (B, nHead, T, P+T). */
  attentions?: Tensor[];
}

/** Options of `GPT.generate` (nanoGPT's): new tokens, temperature (0: greedy), top-k, the seed, whether to use the KV cache, and a per-step callback. */
export interface GenerateOptions {
  /** Number of tokens to append. */
  maxNewTokens: number;
  /** Divides the logits before sampling; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens (ties with the k-th are kept, as nanoGPT). */
  topK?: number | null;
  /** Reseeds the default generator (`manualSeed(seed)`) before sampling. */
  seed?: number | string;
  /** Use the key/value cache (default true); false recomputes the whole window every step, as nanoGPT. */
  useCache?: boolean;
  /** Called after each step with the last position's logits (B, vocabSize) before temperature, and the chosen ids (B, 1). */
  onStep?: (step: number, logits: Tensor, next: Tensor) => void;
}

/**
 * The GPT language model: token + position embeddings → nLayer pre-LN blocks → ln_f → lm_head,
 * with lm_head's weight tied to the token embedding.
 *
 * Shape: idx (B, T) int32 with T ≤ blockSize, targets (B, T) int32 (−100 = ignored)
 *   → logits (B, T, vocabSize), loss () when targets are given.
 * @example
 * manualSeed(0);
 * const gpt = new GPT(new GPTConfig({ vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 16 }));
 * const idx = tensor([[1, 2, 3]], { dtype: 'int32' });
 * const { logits, loss } = gpt.forward(idx, tensor([[2, 3, 4]], { dtype: 'int32' })); // logits [1, 3, 65]
 * const out = gpt.eval().generate(idx, { maxNewTokens: 10, temperature: 0.8, topK: 5, seed: 1 }); // [1, 13]
 */
export class GPT extends Module {
  /** Embeddings, blocks and the final LayerNorm (nanoGPT's `transformer`). */
  transformer: GPTTransformer;
  /** Linear(nEmbd, vocabSize) without bias, its weight tied to `transformer.wte.weight`: (B, T, nEmbd) → (B, T, vocabSize). */
  lm_head: Linear;
  constructor(readonly config: GPTConfig, opts: GPTOptions = {}) {
    super();
    if (!(config instanceof GPTConfig)) throw new Error(`GPT: expected a GPTConfig, got ${config === null ? 'null' : typeof config}`);
    this.transformer = new GPTTransformer(config, opts);
    this.lm_head = new Linear(config.nEmbd, config.vocabSize, { ...opts, bias: false });
    this.retie();
    this.apply(initGPTWeights);
    // GPT-2's scaled init of the residual projections: N(0, (0.02/√(2·nLayer))²)
    const residualStd = INIT_STD / Math.sqrt(2 * config.nLayer);
    for (const [name, p] of this.namedParameters()) if (name.endsWith('c_proj.weight')) init.normal_(p, 0, residualStd);
  }

  /** lm_head.weight is transformer.wte.weight (the same Parameter), also after `to()`. */
  protected override retie(): void {
    this.lm_head.weight = this.transformer.wte.weight;
  }

  /**
   * Number of parameters; by default without the position embeddings (nanoGPT's
   * `get_num_params(non_embedding=True)`; the token embedding counts, as it is lm_head too).
   */
  getNumParams(nonEmbedding = true): number {
    const n = this.numParameters();
    return nonEmbedding ? n - this.transformer.wpe.weight.numel() : n;
  }

  /** A fresh, empty key/value cache for this model. */
  newCache(): KVCache {
    return new KVCache(this.config.nLayer);
  }

  /**
   * Logits for every position, and the mean cross-entropy against `targets` (ignoreIndex −100).
   * With `kvCache`, idx continues the cached positions (position ids start at the cache length)
   * and the new keys/values are appended to it. With `outputAttentions`, `attentions` holds each
   * layer's attention probabilities (B, nHead, T, P+T): rows sum to 1, future keys get 0.
   */
  forward(idx: Tensor, targets?: Tensor | null, opts: { kvCache?: KVCache | null; outputAttentions?: boolean } = {}): GPTOutput {
    const attentions: Tensor[] | undefined = opts.outputAttentions ? [] : undefined;
    const x = this.hidden(idx, opts.kvCache ?? null, attentions);
    const logits = this.lm_head.forward(x); // (B, T, V)
    const out: GPTOutput = { logits };
    if (attentions) out.attentions = attentions;
    if (targets) {
      if (!(targets instanceof Tensor) || targets.dtype !== 'int32' || targets.ndim !== 2 || targets.shape[0] !== idx.shape[0] || targets.shape[1] !== idx.shape[1]) {
        throw new Error(`GPT: targets must be an int32 tensor of idx's shape ${fmtShape(idx.shape)} (B, T), got ${targets instanceof Tensor ? `${targets.dtype} ${fmtShape(targets.shape)}` : typeof targets}`);
      }
      const V = this.config.vocabSize;
      out.loss = F.crossEntropy(logits.reshape([-1, V]), targets.reshape([-1]), { ignoreIndex: -100 }); // (B·T, V) vs (B·T)
    }
    return out;
  }

  /** The final hidden states ln_f(h), (B, T, nEmbd). */
  private hidden(idx: Tensor, cache: KVCache | null, attentions?: Tensor[]): Tensor {
    if (!(idx instanceof Tensor) || idx.dtype !== 'int32' || idx.ndim !== 2) {
      throw new Error(`GPT: idx must be an int32 tensor of shape (B, T), got ${idx instanceof Tensor ? `${idx.dtype} ${fmtShape(idx.shape)}` : typeof idx}`);
    }
    const [B, T] = idx.shape as [number, number];
    if (T === 0) throw new Error('GPT: idx must hold at least one token, got T = 0');
    const past = cache ? cache.length : 0;
    if (cache) {
      if (cache.nLayer !== this.config.nLayer) throw new Error(`GPT: the KV cache has ${cache.nLayer} layers, the model ${this.config.nLayer}`);
      if (cache.batchSize !== null && cache.batchSize !== B) throw new Error(`GPT: the KV cache holds a batch of ${cache.batchSize}, got idx batch ${B}`);
    }
    if (past + T > this.config.blockSize) {
      throw new Error(
        `GPT: cannot forward a sequence of length ${past + T}${past ? ` (${past} cached + ${T} new)` : ''}, block size is only ${this.config.blockSize}`,
      );
    }
    const pos = arange(past, past + T, 1, { dtype: 'int32', device: idx.device }); // (T)
    const tok = this.transformer.wte.forward(idx); // (B, T, C)
    let x = this.transformer.drop.forward(tok.add(this.transformer.wpe.forward(pos))); // (B, T, C) + (T, C)
    let i = 0;
    for (const block of this.transformer.h) x = block.forward(x, cache ? cache.layers[i++]! : null, attentions);
    return this.transformer.ln_f.forward(x);
  }

  /**
   * Autoregressive generation: appends `maxNewTokens` tokens to idx (B, T) and returns the
   * (B, T + maxNewTokens) int32 sequence. Each step takes the logits of the last position,
   * divides them by `temperature`, keeps the `topK` largest, and samples from the softmax with
   * the default generator (`seed` reseeds it first), or takes the argmax when temperature is 0.
   *
   * With the key/value cache (default) the prompt is run once and each later step feeds only the
   * new token, attending to the cached keys and values. Once the sequence no longer fits the
   * context (blockSize), every step recomputes the cropped window of the last blockSize tokens,
   * exactly as nanoGPT (position embeddings shift, so cached keys cannot be reused). Runs under
   * noGrad; call `eval()` first if the model has dropout.
   *
   * Shape: idx (B, T) int32 → (B, T + maxNewTokens) int32.
   */
  generate(idx: Tensor, opts: GenerateOptions): Tensor {
    if (!opts || typeof opts !== 'object') throw new Error(`GPT.generate: options { maxNewTokens, … } are required, got ${String(opts)}`);
    const { maxNewTokens, temperature = 1, topK = null, seed, useCache = true, onStep } = opts;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new Error(`GPT.generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
    if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
      throw new Error(`GPT.generate: temperature must be a finite number ≥ 0 (0 = greedy), got ${temperature}`);
    }
    if (topK !== null && (!Number.isInteger(topK) || topK <= 0)) throw new Error(`GPT.generate: topK must be a positive integer or null, got ${topK}`);
    if (!(idx instanceof Tensor) || idx.dtype !== 'int32' || idx.ndim !== 2 || idx.shape[1] === 0) {
      throw new Error(`GPT.generate: idx must be a non-empty int32 tensor of shape (B, T), got ${idx instanceof Tensor ? `${idx.dtype} ${fmtShape(idx.shape)}` : typeof idx}`);
    }
    if (seed !== undefined) defaultGenerator.manualSeed(seed);
    const blockSize = this.config.blockSize;
    return noGrad(() => {
      let seq = idx;
      const cache = useCache ? this.newCache() : null;
      let cacheValid = false; // the cache holds every position of seq but the last one fed
      for (let step = 0; step < maxNewTokens; step++) {
        const T = seq.shape[1]!;
        let h: Tensor;
        if (cache && T <= blockSize) {
          // prefill with the whole prompt once, then feed only the newest token
          const feed = cacheValid ? seq.slice(1, T - 1, T) : seq; // (B, 1) or (B, T)
          h = this.hidden(feed, cache);
          cacheValid = true;
        } else {
          const window = T <= blockSize ? seq : seq.slice(1, T - blockSize, T); // (B, ≤ blockSize): crop the context
          h = this.hidden(window, null);
        }
        const last = h.select(1, h.shape[1]! - 1); // (B, C)
        const logits = this.lm_head.forward(last); // (B, V)
        const next = temperature === 0 ? logits.argmax(-1, true) : sampleNext(logits, temperature, topK); // (B, 1) int32
        onStep?.(step, logits, next);
        seq = cat([seq, next], 1); // (B, T + 1)
      }
      return seq;
    });
  }

  /**
   * Loads a HuggingFace GPT-2 state dict (`GPT2LMHeadModel` or the bare `GPT2Model`, whose keys
   * lack the `transformer.` prefix), as nanoGPT's `from_pretrained`: the four Conv1D weights
   * (`attn.c_attn`, `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj`) are stored (in, out) and are
   * transposed to Linear's (out, in); the `attn.bias` / `attn.masked_bias` mask buffers are
   * dropped; a missing `lm_head.weight` is the tied `wte`. Other missing or unexpected keys and
   * shape mismatches are errors (all listed at once). A nanoGPT checkpoint, already in Linear
   * layout, loads with `loadStateDict`.
   */
  loadPretrained(sd: StateDict | Map<string, Tensor>): LoadStateDictResult {
    const src = sd instanceof Map ? Object.fromEntries(sd) : sd;
    const fixed: StateDict = {};
    const conv1d = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
    for (const [key, t] of Object.entries(src)) {
      let k = key;
      if (/\.attn\.(bias|masked_bias)$/.test(k)) continue; // causal-mask buffers, not parameters
      if (!k.startsWith('transformer.') && k !== 'lm_head.weight') k = `transformer.${k}`;
      fixed[k] = conv1d.test(k) && t instanceof Tensor && t.ndim === 2 ? t.transpose(0, 1) : t; // (in, out) → (out, in)
    }
    if (!fixed['lm_head.weight'] && fixed['transformer.wte.weight']) fixed['lm_head.weight'] = fixed['transformer.wte.weight'];
    return this.loadStateDict(fixed);
  }

  /**
   * The state dict in HuggingFace `GPT2LMHeadModel` layout, the inverse of `loadPretrained`:
   * the four Conv1D weights (`attn.c_attn`, the square `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj`)
   * transposed to GPT-2's (in, out), and the tied `lm_head.weight` left out (as
   * `save_pretrained` does). Throws for a model without biases (GPT-2 always has them).
   * @example
   * saveSafetensors(gpt.hfStateDict(), 'out/model.safetensors'); // GPT2LMHeadModel.from_pretrained loads it
   */
  hfStateDict(): StateDict {
    if (!this.config.bias) throw new Error('GPT.hfStateDict: a model with bias: false has no GPT-2 equivalent (GPT-2 always has biases)');
    const conv1d = /\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
    const out: StateDict = {};
    for (const [k, t] of Object.entries(this.stateDict())) {
      if (k === 'lm_head.weight') continue; // tied to transformer.wte.weight
      out[k] = conv1d.test(k) ? t.transpose(0, 1).contiguous() : t; // (out, in) → (in, out)
    }
    return out;
  }
}

/** nanoGPT's `_init_weights`: Linear and Embedding weights N(0, 0.02²), Linear biases 0. */
function initGPTWeights(m: Module): void {
  if (m instanceof Linear) {
    init.normal_(m.weight, 0, INIT_STD);
    if (m.bias) init.zeros_(m.bias);
  } else if (m instanceof Embedding) {
    init.normal_(m.weight, 0, INIT_STD);
  }
}

/**
 * One sample per row of logits (B, V) from softmax(logits/temperature), restricted to the topK
 * largest (values below the k-th largest become −∞, as nanoGPT), by inverse-CDF sampling with
 * the default generator (one uniform per row). → (B, 1) int32.
 */
function sampleNext(logits: Tensor, temperature: number, topK: number | null): Tensor {
  const [B, V] = logits.shape as [number, number];
  const data = logits.toTypedArray();
  const out = new Int32Array(B);
  const z = new Float64Array(V);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < V; j++) z[j] = data[b * V + j]! / temperature;
    if (topK !== null && topK < V) {
      const kth = Float64Array.from(z).sort()[V - topK]!; // the k-th largest
      for (let j = 0; j < V; j++) if (z[j]! < kth) z[j] = -Infinity;
    }
    let m = -Infinity;
    for (let j = 0; j < V; j++) if (z[j]! > m) m = z[j]!;
    if (!Number.isFinite(m)) throw new Error(`GPT.generate: the logits of batch row ${b} are not finite (max ${m}); cannot sample`);
    let total = 0;
    for (let j = 0; j < V; j++) total += z[j] = Math.exp(z[j]! - m); // softmax numerators, shifted for stability
    out[b] = sampleCategorical(z, total, defaultGenerator.random());
  }
  return Tensor.fromStorage(logits.storage.backend.fromArray(out, 'int32'), [B, 1]);
}
