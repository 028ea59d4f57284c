/**
 * The attention masks of the BERT encoders: the additive padding mask of a padded batch
 * (`extendedAttentionMask`, HF's `get_extended_attention_mask`) and padding-free *packed*
 * batches (`PackedBatch`).
 *
 * A packed batch concatenates B sequences of lengths T₁ … T_B into one row of N = ΣT_b tokens,
 * delimited by their cumulative lengths cuSeqlens = [0, T₁, T₁ + T₂, …, N] — the `cu_seqlens`
 * of FlashAttention-2's variable-length API (Dao 2023, "FlashAttention-2: Faster Attention with
 * Better Parallelism and Work Partitioning"); HF transformers' padding-free batches
 * (`DataCollatorWithFlattening`) carry the same boundaries as position ids that restart at 0.
 *
 * Everything in a BERT layer except self-attention works token by token (the Linear layers,
 * GELU, LayerNorm, the residual adds), so on a packed batch those run on the N real tokens,
 * where a padded (B, T_max) batch computes B·T_max rows: with texts of 10–40 words in batches of
 * 16, 37 % of those rows are padding (measured). Self-attention mixes the tokens of one sequence
 * only; for it the projections are gathered into the padded layout, attended under the padding
 * mask and gathered back (`pad` / `unpad`; per head, `padHeads` / `unpadHeads`, which the BERT
 * attention uses), so each sequence's result is the padded batch's, and
 * the same as the sequence alone (test/nn/packed.test.ts):
 *
 *   pad:    P[b·T_max + t] = X[s_b + t]   for t < T_b     (X: (N, D) packed rows, s_b = cuSeqlens[b])
 *           P[b·T_max + t] = X[s_b]       for t ≥ T_b     (any real row: its key is masked, its output dropped)
 *   unpad:  X′[s_b + t]   = P′[b·T_max + t]   for t < T_b
 *
 * Two things would still make a result depend on its batch, and are kept out: the fused
 * attention kernel, which F.useFusedAttention picks by the size of the whole batch's scores (a
 * packed batch always takes the unfused path, a batch of one included), and the CPU's float64
 * reference loop for products under 64 multiply-adds — T·T·hs < 64 for a sequence alone, i.e.
 * sequences of 1–2 tokens with head size 8; a pipeline's texts have at least 3 ([CLS] … [SEP]).
 *
 * The attention's own work (QKᵀ and PV, O(T²) per sequence) stays padded; it is a few per cent of
 * a BERT layer's at these lengths (2·T·H against 12·H² multiply-adds per token).
 */
import type { DType } from '../core/dtype.js';
import { fmtShape } from '../core/shape.js';
import { fromTypedArray } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * (B, T) 1/0 mask → additive (B, 1, 1, T): 0 where attended, min(dtype) where masked (HF).
 * @example
 * ```ts
 * const m = nn.extendedAttentionMask(tensor([[1, 1, 0]]), 'float32'); // (1, 1, 1, 3)
 * m.toArray();                            // [[[[0, 0, -3.4028234663852886e+38]]]]
 * ```
 */
export function extendedAttentionMask(attentionMask: Tensor, dtype: DType): Tensor {
  if (attentionMask.ndim !== 2) throw new Error(`attentionMask must be 2-D (B, T), got shape ${fmtShape(attentionMask.shape)}`);
  const [B, T] = attentionMask.shape as [number, number];
  const minValue = dtype === 'float64' ? -Number.MAX_VALUE : -3.4028234663852886e38; // torch.finfo(dtype).min
  const m = attentionMask.to(dtype).reshape([B, 1, 1, T]); // (B, 1, 1, T)
  return m.neg().add(1).mul(minValue);
}

/**
 * Checks cumulative sequence lengths [0, T₁, T₁ + T₂, …, N] (every T_b ≥ 1) and returns the
 * lengths. `n`: the packed row's length N; `maxLen`: the longest sequence allowed.
 */
export function lengthsFromCuSeqlens(where: string, cuSeqlens: unknown, n: number, maxLen = Infinity): number[] {
  const cu = cuSeqlens as ArrayLike<number>;
  if (cu === null || typeof cu !== 'object' || typeof cu.length !== 'number' || cu.length < 2) {
    throw new Error(`${where}: cuSeqlens must be an array [0, T₁, T₁+T₂, …, N] of at least 2 integers, got ${JSON.stringify(cuSeqlens)}`);
  }
  if (cu[0] !== 0) throw new Error(`${where}: cuSeqlens must start at 0, got ${cu[0]}`);
  const lengths: number[] = [];
  for (let b = 1; b < cu.length; b++) {
    const a = cu[b - 1]!, z = cu[b]!;
    if (!Number.isInteger(z) || z <= a) {
      throw new Error(`${where}: cuSeqlens must be strictly increasing integers (every sequence at least 1 token), got ${z} after ${a} at index ${b}`);
    }
    if (z - a > maxLen) throw new Error(`${where}: sequence ${b - 1} is ${z - a} tokens long, more than the model's ${maxLen} positions`);
    lengths.push(z - a);
  }
  if (cu[cu.length - 1] !== n) throw new Error(`${where}: cuSeqlens must end at the packed length N = ${n} (inputIds (1, ${n})), got ${cu[cu.length - 1]}`);
  return lengths;
}

/**
 * B sequences packed into one row of N tokens (see the file header), with the index tensors that
 * move the attention's inputs between the packed (1, N, D) and the padded (B, T_max, D) layouts.
 * `BertModel.forward` builds one from `inputs.cuSeqlens` and hands it to every layer in place of
 * the padding mask.
 * @example
 * ```ts
 * const p = new nn.PackedBatch([0, 3, 5]);    // two sequences: 3 and 2 tokens
 * p.positionIds.toArray();                      // [[0, 1, 2, 0, 1]]
 * const x = randn([1, 5, 8]);
 * p.unpad(p.pad(x)).toArray();                 // x again; p.pad(x) is (2, 3, 8)
 * ```
 */
export class PackedBatch {
  /** T_b of each sequence. */
  readonly lengths: readonly number[];
  /** [0, T₁, T₁ + T₂, …, N]. */
  readonly cuSeqlens: readonly number[];
  /** B. */
  readonly numSequences: number;
  /** N = ΣT_b. */
  readonly numTokens: number;
  /** T_max: the padded layout's length. */
  readonly maxLen: number;
  /** int32 (1, N): 0 … T_b − 1 within each sequence (BERT's position embeddings). */
  readonly positionIds: Tensor;
  /** int32 (B): the packed row of each sequence's first token ([CLS]), for the pooler. */
  readonly firstIndex: Tensor;
  /** int32 (B·T_max): the packed row each padded slot reads (the formula in the file header). */
  readonly padIndex: Tensor;
  /** int32 (N): the padded slot of each packed row. */
  readonly unpadIndex: Tensor;
  /** int32 (B, T_max) 1/0: the padded layout's attention mask. */
  readonly attentionMask: Tensor;
  /** Additive (B, 1, 1, T_max): {@link extendedAttentionMask} of `attentionMask`, in `opts.dtype`. */
  readonly extendedMask: Tensor;
  private readonly device: string | undefined;
  private readonly headIndex = new Map<number, { pad: Int32Array; unpad: Int32Array }>();

  /**
   * @param cuSeqlens - [0, T₁, T₁ + T₂, …, N], strictly increasing.
   * @param opts.device - where the index tensors live (default the default device).
   * @param opts.maxLen - the longest sequence allowed (the model's positions; default no limit).
   * @param opts.dtype - the float dtype of the additive mask (the hidden states'; default float32).
   * @throws Error naming the entry when cuSeqlens is not such an array.
   */
  constructor(cuSeqlens: readonly number[] | Int32Array, opts: { device?: string; maxLen?: number; dtype?: DType } = {}) {
    const n = (cuSeqlens as ArrayLike<number>)?.length > 0 ? (cuSeqlens as ArrayLike<number>)[(cuSeqlens as ArrayLike<number>).length - 1]! : 0;
    this.lengths = lengthsFromCuSeqlens('PackedBatch', cuSeqlens, n, opts.maxLen);
    this.cuSeqlens = Array.from(cuSeqlens);
    const B = (this.numSequences = this.lengths.length);
    const N = (this.numTokens = n);
    const T = (this.maxLen = Math.max(...this.lengths));
    const pos = new Int32Array(N), first = new Int32Array(B), pad = new Int32Array(B * T), unpad = new Int32Array(N), mask = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = this.cuSeqlens[b]!, len = this.lengths[b]!;
      first[b] = s;
      for (let t = 0; t < T; t++) pad[b * T + t] = t < len ? s + t : s;
      for (let t = 0; t < len; t++) {
        pos[s + t] = t;
        unpad[s + t] = b * T + t;
        mask[b * T + t] = 1;
      }
    }
    this.device = opts.device;
    const o = { dtype: 'int32' as const, ...(opts.device ? { device: opts.device } : {}) };
    this.positionIds = fromTypedArray(pos, [1, N], o); // (1, N)
    this.firstIndex = fromTypedArray(first, [B], o); // (B)
    this.padIndex = fromTypedArray(pad, [B * T], o); // (B·T_max)
    this.unpadIndex = fromTypedArray(unpad, [N], o); // (N)
    this.attentionMask = fromTypedArray(mask, [B, T], o); // (B, T_max)
    this.extendedMask = extendedAttentionMask(this.attentionMask, opts.dtype ?? 'float32'); // (B, 1, 1, T_max)
  }

  /** Packed (1, N, D) → padded (B, T_max, D). */
  pad(x: Tensor): Tensor {
    this.check('pad', x, this.numTokens);
    const D = x.shape[2]!;
    // (as 2-D rows: the backend copies whole contiguous rows)
    return x.reshape([this.numTokens, D]).indexSelect(0, this.padIndex).reshape([this.numSequences, this.maxLen, D]); // (N, D) → (B·T_max, D) → (B, T_max, D)
  }

  /** Padded (B, T_max, D) → packed (1, N, D): the padded slots are dropped. */
  unpad(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[0] !== this.numSequences || x.shape[1] !== this.maxLen) {
      throw new Error(`PackedBatch.unpad: expected a padded (B=${this.numSequences}, T_max=${this.maxLen}, D) tensor, got ${fmtShape(x.shape)}`);
    }
    const D = x.shape[2]!;
    return x.reshape([this.numSequences * this.maxLen, D]).indexSelect(0, this.unpadIndex).reshape([1, this.numTokens, D]); // (B·T_max, D) → (N, D) → (1, N, D)
  }

  /**
   * Packed projections (1, N, nh·hs) → the heads' padded layout (B, nh, T_max, hs) in one gather
   * (what `pad` then a split into heads — reshape and permute, a copy — would give):
   *   P[(b·nh + h)·T_max + t] = X[(s_b + t)·nh + h]   (t ≥ T_b: t → 0), rows of hs.
   */
  padHeads(x: Tensor, nh: number): Tensor {
    this.check('padHeads', x, this.numTokens);
    const A = x.shape[2]!, hs = A / nh;
    if (!Number.isInteger(hs)) throw new Error(`PackedBatch.padHeads: width ${A} is not a multiple of nh = ${nh}`);
    const idx = fromTypedArray(this.headIndices(nh).pad, [this.numSequences * nh * this.maxLen], this.indexOpts()); // (B·nh·T_max)
    return x.reshape([this.numTokens * nh, hs]).indexSelect(0, idx).reshape([this.numSequences, nh, this.maxLen, hs]); // (N·nh, hs) → (B·nh·T_max, hs) → (B, nh, T_max, hs)
  }

  /** The heads' padded layout (B, nh, T_max, hs) → packed (1, N, nh·hs), the padded slots dropped. */
  unpadHeads(x: Tensor): Tensor {
    const [B, nh, T, hs] = x.shape as [number, number, number, number];
    if (x.ndim !== 4 || B !== this.numSequences || T !== this.maxLen) {
      throw new Error(`PackedBatch.unpadHeads: expected (B=${this.numSequences}, nh, T_max=${this.maxLen}, hs), got ${fmtShape(x.shape)}`);
    }
    const idx = fromTypedArray(this.headIndices(nh).unpad, [this.numTokens * nh], this.indexOpts()); // (N·nh)
    return x.reshape([B * nh * T, hs]).indexSelect(0, idx).reshape([1, this.numTokens, nh * hs]); // (B·nh·T_max, hs) → (N·nh, hs) → (1, N, nh·hs)
  }

  /** The gather indices of padHeads / unpadHeads for nh heads (made once per nh; plain arrays). */
  private headIndices(nh: number): { pad: Int32Array; unpad: Int32Array } {
    let r = this.headIndex.get(nh);
    if (r) return r;
    const B = this.numSequences, T = this.maxLen;
    const pad = new Int32Array(B * nh * T), unpad = new Int32Array(this.numTokens * nh);
    for (let b = 0; b < B; b++) {
      const s = this.cuSeqlens[b]!, len = this.lengths[b]!;
      for (let h = 0; h < nh; h++) {
        for (let t = 0; t < T; t++) pad[(b * nh + h) * T + t] = (s + (t < len ? t : 0)) * nh + h;
        for (let t = 0; t < len; t++) unpad[(s + t) * nh + h] = (b * nh + h) * T + t;
      }
    }
    this.headIndex.set(nh, (r = { pad, unpad }));
    return r;
  }

  private indexOpts(): { dtype: 'int32'; device?: string } {
    return { dtype: 'int32', ...(this.device ? { device: this.device } : {}) };
  }

  /** Packed (1, N, D) → each sequence's first token, (B, 1, D). */
  firstTokens(x: Tensor): Tensor {
    this.check('firstTokens', x, this.numTokens);
    const D = x.shape[2]!;
    return x.reshape([this.numTokens, D]).indexSelect(0, this.firstIndex).reshape([this.numSequences, 1, D]); // (N, D) → (B, D) → (B, 1, D)
  }

  private check(where: string, x: Tensor, n: number): void {
    if (x.ndim !== 3 || x.shape[0] !== 1 || x.shape[1] !== n) {
      throw new Error(`PackedBatch.${where}: expected a packed (1, N=${n}, D) tensor, got ${fmtShape(x.shape)}`);
    }
  }
}
