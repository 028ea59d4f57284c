/**
 * Layers: Linear, Embedding, LayerNorm, Dropout, activations, containers, and the Transformer
 * encoder (Vaswani et al. 2017, "Attention Is All You Need").
 *
 * Names and defaults follow torch.nn so PyTorch users can guess them. Departures: every layer
 * is batch-first ((B, T, E)), and forward is called as `layer.forward(x)`.
 */
import { zeros, ones } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../core/shape.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Module, Parameter } from './module.js';
import type { DType } from '../core/dtype.js';
import { checkAllocation } from '../core/limits.js';

/** Where a layer creates its parameters: dtype and device (default float32 on the default device), as torch's factory kwargs. */
export interface FactoryOptions {
  /** Parameter dtype; default 'float32'. */
  dtype?: DType;
  /** Device the parameters live on (e.g. 'cpu', 'gpu'); default the current default device. */
  device?: string;
}

/** Storage for a parameter that an initialiser fills right after (zeros; PyTorch leaves it uninitialised). */
function empty(shape: number[], opts: FactoryOptions, owner: string, name: string): Tensor {
  checkAllocation(owner, shape, opts.dtype ?? 'float32', `the parameter ${name}`); // before anything is allocated (the size limit, core/limits.ts)
  return zeros(shape, { dtype: opts.dtype, device: opts.device });
}

function checkPositiveInt(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${layer}: ${name} must be a positive integer, got ${v}`);
}

/**
 * Affine map y = x·Wᵀ + b. Weight (out, in) as PyTorch/HuggingFace, initialised
 * U(−1/√in, 1/√in) like torch (kaiming_uniform with a = √5), and bias likewise.
 *
 * Shape: (*, inFeatures) → (*, outFeatures).
 * @example
 * const fc = new Linear(4, 2);
 * const y = fc.forward(randn([3, 4])); // [3, 2]
 */
export class Linear extends Module {
  /** Weight W of shape (outFeatures, inFeatures), initialised U(−1/√in, 1/√in). */
  weight: Parameter;
  /** Bias b of shape (outFeatures), initialised U(−1/√in, 1/√in); null when constructed with `bias: false`. */
  bias: Parameter | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    this.weight = new Parameter(empty([outFeatures, inFeatures], opts, 'Linear', 'weight'));
    this.bias = opts.bias === false ? null : new Parameter(empty([outFeatures], opts, 'Linear', 'bias'));
    init.kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias) {
      const bound = 1 / Math.sqrt(inFeatures);
      init.uniform_(this.bias, -bound, bound);
    }
  }
  /**
   * y = x·Wᵀ + b.
   * @param x - input (*, inFeatures).
   * @returns (*, outFeatures).
   */
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * A lookup table of `numEmbeddings` vectors, initialised N(0, 1); the `paddingIdx` row is
 * zero and receives no gradient.
 *
 * Shape: int32 ids (*) → (*, embeddingDim).
  * @example
  * ```ts
  * const emb = new nn.Embedding(1000, 64, { paddingIdx: 0 });
  * const h = emb.forward(tensor([[5, 17, 0]], { dtype: 'int32' })); // (1, 3, 64); h[0, 2] is zeros
  * ```
 */
export class Embedding extends Module {
  /** The table (numEmbeddings, embeddingDim), initialised N(0, 1) with the padding row zeroed. */
  weight: Parameter;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: FactoryOptions & { paddingIdx?: number | null } = {}) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    let p = opts.paddingIdx ?? null;
    if (p !== null) {
      if (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) throw new Error(`Embedding: paddingIdx must be within [-${numEmbeddings}, ${numEmbeddings}), got ${p}`);
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    this.weight = new Parameter(empty([numEmbeddings, embeddingDim], opts, 'Embedding', 'weight'));
    init.normal_(this.weight);
    if (p !== null) this.weight.detach().select(0, p).zero_();
  }
  /** Row that stays zero and gets no gradient (a negative constructor value counts from the end and is stored non-negative), or null. */
  readonly paddingIdx: number | null;
  /**
   * Looks up rows: out[…, :] = weight[ids[…], :].
   * @param ids - int32 indices (*), each in [0, numEmbeddings).
   * @returns (*, embeddingDim).
   * @example
   * ```ts
   * const emb = new Embedding(10, 4, { paddingIdx: 0 });
   * const v = emb.forward(tensor([[1, 0, 3]], { dtype: 'int32' })); // (1, 3, 4); row 0 is zeros
   * ```
   */
  forward(ids: Tensor): Tensor {
    return F.embedding(ids, this.weight, this.paddingIdx);
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}

/**
 * Layer normalisation (Ba et al. 2016): y = (x − E[x])/√(Var[x] + ε)·γ + β over the last dims.
 * BERT uses ε = 1e-12.
 *
 * Shape: (*, ...normalizedShape) → same.
  * @example
  * ```ts
  * const ln = new nn.LayerNorm(16, { eps: 1e-12 });   // γ = 1, β = 0
  * const y = ln.forward(randn([2, 5, 16]));           // (2, 5, 16)
  * ```
 */
export class LayerNorm extends Module {
  /** Element-wise scale γ of shape normalizedShape, initialised to ones; null when `elementwiseAffine: false`. */
  weight: Parameter | null;
  /** Element-wise shift β of shape normalizedShape, initialised to zeros; null when `elementwiseAffine: false` or `bias: false`. */
  bias: Parameter | null;
  /** The trailing dimensions normalised over (a number given to the constructor becomes `[n]`). */
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], opts: FactoryOptions & { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkPositiveInt('LayerNorm', 'normalizedShape', d);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape, { dtype: opts.dtype, device: opts.device })) : null;
    this.bias = affine && opts.bias !== false ? new Parameter(zeros(this.normalizedShape, { dtype: opts.dtype, device: opts.device })) : null;
  }
  /** ε added to the variance for numerical stability; default 1e-5 (BERT passes 1e-12). */
  readonly eps: number;
  /**
   * Normalises over the last `normalizedShape.length` dims, then scales by γ and shifts by β.
   * @param x - input (*, ...normalizedShape).
   * @returns same shape as `x`.
   * @example
   * ```ts
   * const ln = new LayerNorm(8);
   * const y = ln.forward(randn([2, 5, 8])); // (2, 5, 8); each row of 8 has mean 0, variance ≈ 1
   * ```
   */
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}`;
  }
}

/**
 * Dropout (Srivastava et al. 2014): during training y = x·m/(1−p) with m ~ Bernoulli(1−p) drawn
 * from the seeded generator; the identity in eval mode.
 *
 * Shape: any → same.
  * @example
  * ```ts
  * const drop = new nn.Dropout(0.1);
  * const y = drop.forward(ones([4, 8]));   // training: about 10 % zeros, the rest 1/0.9
  * drop.eval().forward(ones([2])).toArray(); // [1, 1]: the identity in eval mode
  * ```
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }
  /**
   * In training mode zeroes each element with probability p and scales the rest by 1/(1 − p) (seeded generator); in eval mode returns `x` unchanged.
   * @param x - any shape.
   * @returns same shape as `x`.
   */
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * GELU (Hendrycks & Gimpel 2016): x·Φ(x) = ½x(1 + erf(x/√2)) (`'none'`, BERT's), or the tanh
 * approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (`'tanh'`, GPT-2's).
 *
 * Shape: any → same.
  * @example
  * ```ts
  * const gelu = new nn.GELU();             // exact; new nn.GELU('tanh') for GPT-2's approximation
  * gelu.forward(tensor([-1, 0, 1])).toArray(); // [-0.1587, 0, 0.8413]
  * ```
 */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  /**
   * GELU of every element (exact erf form, or the tanh approximation when `approximate` is 'tanh').
   * @param x - any shape.
   * @returns same shape as `x`.
   */
  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
}
/**
 * ReLU: max(x, 0).  Shape: any → same.
 * @example
 * ```ts
 * new nn.ReLU().forward(tensor([-2, 0, 3])).toArray(); // [0, 0, 3]
 * ```
 */
export class ReLU extends Module {
  /**
   * max(x, 0) element-wise.
   * @param x - any shape.
   * @returns same shape as `x`.
   */
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
/**
 * tanh(x).  Shape: any → same.
 * @example
 * ```ts
 * new nn.Tanh().forward(tensor([0])).toArray(); // [0]
 * ```
 */
export class Tanh extends Module {
  /**
   * tanh(x) element-wise.
   * @param x - any shape.
   * @returns same shape as `x`.
   */
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** A module whose forward takes one tensor. */
export interface UnaryModule extends Module {
  /** Maps one tensor to one tensor (the shape contract is the module's own). */
  forward(x: Tensor): Tensor;
}

/**
 * Applies modules in order; children are named '0', '1', ….
 *
 * Shape: the first module's input → the last module's output.
  * @example
  * ```ts
  * const mlp = new nn.Sequential(new nn.Linear(4, 16), new nn.GELU(), new nn.Linear(16, 2));
  * mlp.forward(randn([3, 4])).shape;       // [3, 2]
  * [...mlp.namedParameters()].map(([n]) => n); // ['0.weight', '0.bias', '2.weight', '2.bias']
  * ```
 */
export class Sequential extends Module {
  constructor(...mods: UnaryModule[]) {
    super();
    mods.forEach((m, i) => ((this as unknown as Record<string, Module>)[String(i)] = m));
    this.length = mods.length;
  }
  /** Number of modules in the chain. */
  readonly length: number;
  /**
   * Feeds `x` through every module in order.
   * @returns the last module's output.
   * @example
   * ```ts
   * const mlp = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 2));
   * const y = mlp.forward(randn([3, 4])); // (3, 2)
   * ```
   */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = (m as UnaryModule).forward(y);
    return y;
  }
}

/**
 * A list of submodules named '0', '1', … (HF's `encoder.layer.0…`).
 * @example
 * ```ts
 * const blocks = new nn.ModuleList([new nn.Linear(8, 8), new nn.Linear(8, 8)]);
 * let h = randn([2, 8]);
 * for (const b of blocks) h = b.forward(h).relu();
 * blocks.at(-1);                          // the last Linear; parameters are named '0.weight', '1.bias', …
 * ```
 */
export class ModuleList<M extends Module = Module> extends Module {
  private _items: M[] = [];
  constructor(mods: M[] = []) {
    super();
    for (const m of mods) this.append(m);
  }
  /**
   * Adds a module at the end as the child named by its index ('0', '1', …).
   * @returns this list, for chaining.
   */
  append(m: M): this {
    (this as unknown as Record<string, Module>)[String(this._items.length)] = m;
    this._items.push(m);
    return this;
  }
  /** Number of modules in the list. */
  get length(): number {
    return this._items.length;
  }
  /**
   * The module at index `i`; negative indices count from the end (−1 is the last).
   * @throws Error when `i` is out of range.
   */
  at(i: number): M {
    const m = this._items[i < 0 ? i + this._items.length : i];
    if (!m) throw new Error(`ModuleList: index ${i} is out of range for a list of length ${this._items.length}`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this._items[Symbol.iterator]();
  }
  protected override retie(): void {
    // to() replaced properties; keep the list in sync
    this._items = this._items.map((_, i) => (this as unknown as Record<string, M>)[String(i)]!);
  }
}

/**
 * Multi-head attention (Vaswani et al. 2017, §3.2.2):
 *   MultiHead(Q, K, V) = Concat(head₁, …, head_h)·Wᴼ,   headᵢ = Attention(Q·Wᵢᵠ, K·Wᵢᴷ, V·Wᵢⱽ)
 * Parameters are named as torch.nn.MultiheadAttention (`in_proj_weight` (3E, E),
 * `in_proj_bias`, `out_proj`) so PyTorch weights load unchanged. Batch-first.
 *
 * Shape: query (B, L, E), key/value (B, S, E); keyPaddingMask (B, S) bool, true = padding
 * (ignored, as torch); attnMask (L, S) or (B·h, L, S): bool true = NOT allowed (torch's
 * convention for this module) or additive float. → (B, L, E), weights (B, L, S) averaged over heads.
  * @example
  * ```ts
  * const mha = new nn.MultiheadAttention(16, 4);
  * const x = randn([2, 5, 16]);
  * const padding = tensor([[false, false, false, true, true], [false, false, false, false, false]]); // true = padding
  * const { output, weights } = mha.forward(x, x, x, { keyPaddingMask: padding }); // (2, 5, 16), (2, 5, 5)
  * ```
 */
export class MultiheadAttention extends Module {
  /** Packed Q/K/V projections [W_Q; W_K; W_V] of shape (3·embedDim, embedDim), Xavier-uniform initialised (torch's layout). */
  in_proj_weight: Parameter;
  /** Packed Q/K/V biases (3·embedDim), initialised to zeros; null when constructed with `bias: false`. */
  in_proj_bias: Parameter | null;
  /** Output projection W_O: Linear(embedDim, embedDim), bias initialised to zeros. */
  out_proj: Linear;
  /** Size of one head: embedDim / numHeads. */
  readonly headDim: number;
  constructor(readonly embedDim: number, readonly numHeads: number, opts: FactoryOptions & { dropout?: number; bias?: boolean } = {}) {
    super();
    checkPositiveInt('MultiheadAttention', 'embedDim', embedDim);
    checkPositiveInt('MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) throw new Error(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    this.in_proj_weight = new Parameter(empty([3 * embedDim, embedDim], opts, 'MultiheadAttention', 'in_proj_weight'));
    init.xavierUniform_(this.in_proj_weight);
    this.in_proj_bias = opts.bias === false ? null : new Parameter(zeros([3 * embedDim], { dtype: opts.dtype, device: opts.device }));
    this.out_proj = new Linear(embedDim, embedDim, { ...opts, bias: opts.bias !== false });
    if (this.out_proj.bias) init.zeros_(this.out_proj.bias);
  }
  /** Dropout probability on the attention weights during training; default 0. */
  readonly dropout: number;

  /**
   * Multi-head attention of `query` over `key`/`value` (self-attention when only `query` is given).
   * @param query - (B, L, E).
   * @param key - (B, S, E); defaults to `query`.
   * @param value - (B, S, E); defaults to `key`.
   * @param opts - `keyPaddingMask` bool (B, S), true = padding (ignored); `attnMask` (L, S) or (B·numHeads, L, S), bool true = not allowed, or an additive float mask;
   *   `isCausal` adds the causal mask; `needWeights: false` skips the averaged weights.
   * @returns `output` (B, L, E) and `weights` (B, L, S), the attention probabilities averaged over heads (null with `needWeights: false`).
   * @throws Error when the inputs' last dim is not embedDim or a mask has the wrong dtype or shape.
   * @example
   * ```ts
   * const mha = new MultiheadAttention(16, 4);
   * const { output, weights } = mha.forward(randn([2, 5, 16])); // output (2, 5, 16), weights (2, 5, 5)
   * ```
   */
  forward(
    query: Tensor,
    key: Tensor = query,
    value: Tensor = key,
    opts: { keyPaddingMask?: Tensor | null; attnMask?: Tensor | null; isCausal?: boolean; needWeights?: boolean } = {},
  ): { output: Tensor; weights: Tensor | null } {
    const E = this.embedDim, h = this.numHeads, hs = this.headDim;
    if (query.ndim !== 3 || query.shape[2] !== E) throw new Error(`MultiheadAttention: query must be (B, L, ${E}), got ${fmtShape(query.shape)}`);
    if (key.ndim !== 3 || key.shape[2] !== E || value.ndim !== 3 || value.shape[2] !== E) {
      throw new Error(`MultiheadAttention: key and value must be (B, S, ${E}), got ${fmtShape(key.shape)} and ${fmtShape(value.shape)}`);
    }
    const [B, L] = query.shape as [number, number];
    const S = key.shape[1]!;
    const [wq, wk, wv] = this.in_proj_weight.chunk(3, 0);
    const [bq, bk, bv] = this.in_proj_bias ? this.in_proj_bias.chunk(3, 0) : [null, null, null];
    const heads = (x: Tensor, T: number) => x.reshape([B, T, h, hs]).transpose(1, 2); // (B, h, T, hs)
    const q = heads(F.linear(query, wq!, bq), L);
    const k = heads(F.linear(key, wk!, bk), S);
    const v = heads(F.linear(value, wv!, bv), S);
    // additive mask (B, 1|h, L, S) from the key padding mask and attnMask
    let mask: Tensor | null = null;
    if (opts.keyPaddingMask) {
      const kpm = opts.keyPaddingMask;
      if (kpm.dtype !== 'bool' || kpm.ndim !== 2 || kpm.shape[0] !== B || kpm.shape[1] !== S) {
        throw new Error(`MultiheadAttention: keyPaddingMask must be a bool tensor of shape [${B},${S}] (B, S), got ${kpm.dtype} ${fmtShape(kpm.shape)}`);
      }
      mask = zeros([B, 1, 1, S], { dtype: q.dtype, device: q.device }).maskedFill(kpm.reshape([B, 1, 1, S]), -Infinity);
    }
    if (opts.attnMask) {
      const am = opts.attnMask;
      let add = am.dtype === 'bool' ? zeros([...am.shape], { dtype: q.dtype, device: q.device }).maskedFill(am, -Infinity) : am.to(q.dtype);
      if (am.ndim === 3) {
        if (am.shape[0] !== B * h) throw new Error(`MultiheadAttention: a 3-D attnMask must be (B·numHeads, L, S) = [${B * h},${L},${S}], got ${fmtShape(am.shape)}`);
        add = add.reshape([B, h, L, S]);
      } else if (am.ndim !== 2) throw new Error(`MultiheadAttention: attnMask must be 2-D (L, S) or 3-D (B·numHeads, L, S), got ${fmtShape(am.shape)}`);
      mask = mask ? mask.add(add) : add;
    }
    const { output, weights } = F.attentionWithWeights(q, k, v, {
      attnMask: mask, isCausal: opts.isCausal, dropoutP: this.dropout, training: this.training,
    });
    const merged = output.transpose(1, 2).reshape([B, L, E]); // (B, L, E)
    return { output: this.out_proj.forward(merged), weights: opts.needWeights === false ? null : weights.mean(1) };
  }
  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}`;
  }
}

/** Options of {@link TransformerEncoderLayer} (torch's): feed-forward width, dropout, activation, layer-norm ε, pre- or post-LN (`normFirst`), and the parameter dtype/device. */
export interface TransformerEncoderLayerOptions extends FactoryOptions {
  /** Width of the feed-forward hidden layer (linear1's output). Default 2048. */
  dimFeedforward?: number;
  /** Dropout probability in the attention, after each sub-block and inside the feed-forward block. Default 0.1. */
  dropout?: number;
  /** Feed-forward activation: 'relu' (default) or 'gelu' (exact erf form). */
  activation?: 'relu' | 'gelu';
  /** ε of both LayerNorms. Default 1e-5. */
  layerNormEps?: number;
  /** Pre-LN (Xiong et al. 2020) when true; post-LN as in BERT and the original paper otherwise. */
  normFirst?: boolean;
}

/**
 * One Transformer encoder block (Vaswani et al. 2017, §3.1). Post-LN (BERT):
 *   x = LN(x + Dropout(SelfAttn(x)));  x = LN(x + Dropout(FFN(x)))
 * Pre-LN (`normFirst`): x = x + SelfAttn(LN(x)); x = x + FFN(LN(x)).
 * Names as torch.nn.TransformerEncoderLayer.
 *
 * Shape: (B, T, dModel) → (B, T, dModel).
  * @example
  * ```ts
  * const layer = new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, dropout: 0.1, activation: 'gelu', normFirst: true });
  * const y = layer.forward(randn([2, 10, 32])); // (2, 10, 32)
  * ```
 */
export class TransformerEncoderLayer extends Module {
  /** The block's self-attention (MultiheadAttention(dModel, nHead) with the block's dropout). */
  self_attn: MultiheadAttention;
  /** Feed-forward first projection: Linear(dModel, dimFeedforward). */
  linear1: Linear;
  /** Dropout between the feed-forward activation and linear2. */
  dropout: Dropout;
  /** Feed-forward second projection: Linear(dimFeedforward, dModel). */
  linear2: Linear;
  /** LayerNorm around the attention sub-block (after the residual in post-LN, before the attention in pre-LN). */
  norm1: LayerNorm;
  /** LayerNorm around the feed-forward sub-block. */
  norm2: LayerNorm;
  /** Dropout on the attention sub-block's output, before the residual add. */
  dropout1: Dropout;
  /** Dropout on the feed-forward sub-block's output, before the residual add. */
  dropout2: Dropout;
  /** True for pre-LN (x + f(LN(x))), false (default) for post-LN (LN(x + f(x))). */
  readonly normFirst: boolean;
  /** Feed-forward activation, 'relu' (default) or 'gelu'. */
  readonly activation: 'relu' | 'gelu';
  constructor(readonly dModel: number, readonly nHead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const p = opts.dropout ?? 0.1;
    const ff = opts.dimFeedforward ?? 2048;
    const eps = opts.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nHead, { ...opts, dropout: p });
    this.linear1 = new Linear(dModel, ff, opts);
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, opts);
    this.norm1 = new LayerNorm(dModel, { ...opts, eps });
    this.norm2 = new LayerNorm(dModel, { ...opts, eps });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.normFirst = opts.normFirst ?? false;
    this.activation = opts.activation ?? 'relu';
  }
  private sa(x: Tensor, m: { keyPaddingMask?: Tensor | null; attnMask?: Tensor | null; isCausal?: boolean }): Tensor {
    return this.dropout1.forward(this.self_attn.forward(x, x, x, { ...m, needWeights: false }).output);
  }
  private ff(x: Tensor): Tensor {
    const h = this.activation === 'gelu' ? F.gelu(this.linear1.forward(x)) : this.linear1.forward(x).relu();
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(h)));
  }
  /**
   * Runs the block (see the class for the pre-/post-LN formulas).
   * @param x - (B, T, dModel).
   * @param m - masks passed to self-attention: `keyPaddingMask` bool (B, T) true = padding, `attnMask`, `isCausal` (see MultiheadAttention.forward).
   * @returns (B, T, dModel).
   * @example
   * ```ts
   * const layer = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32 });
   * const y = layer.forward(randn([2, 5, 16]), { isCausal: true }); // (2, 5, 16)
   * ```
   */
  forward(x: Tensor, m: { keyPaddingMask?: Tensor | null; attnMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    if (this.normFirst) {
      x = x.add(this.sa(this.norm1.forward(x), m));
      return x.add(this.ff(this.norm2.forward(x)));
    }
    x = this.norm1.forward(x.add(this.sa(x, m)));
    return this.norm2.forward(x.add(this.ff(x)));
  }
}

/**
 * A stack of encoder layers (`layers.0`, `layers.1`, …) with an optional final norm.
 *
 * Shape: (B, T, dModel) → (B, T, dModel).
  * @example
  * ```ts
  * const enc = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64 }), 3, new nn.LayerNorm(32));
  * const y = enc.forward(randn([2, 10, 32]), { isCausal: true }); // (2, 10, 32)
  * ```
 */
export class TransformerEncoder extends Module {
  /** The encoder layers, in order (`layers.{i}.*` in state dicts). */
  layers: ModuleList<TransformerEncoderLayer>;
  /** Final LayerNorm applied after the last layer, or null for none. */
  norm: LayerNorm | null;
  constructor(makeLayer: (i: number) => TransformerEncoderLayer, numLayers: number, norm: LayerNorm | null = null) {
    super();
    checkPositiveInt('TransformerEncoder', 'numLayers', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i)));
    this.norm = norm;
  }
  /**
   * Runs every layer in order with the same masks, then the final norm if any.
   * @param x - (B, T, dModel).
   * @param m - masks passed to every layer (see TransformerEncoderLayer.forward).
   * @returns (B, T, dModel).
   */
  forward(x: Tensor, m: { keyPaddingMask?: Tensor | null; attnMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    for (const layer of this.layers) x = layer.forward(x, m);
    return this.norm ? this.norm.forward(x) : x;
  }
}

