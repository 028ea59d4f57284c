/**
 * The backend contract (tier 1 of the three tiers of operations, see docs/ARCHITECTURE.md).
 *
 * A backend owns storage (a flat buffer of one dtype) and runs a small set of kernels on
 * strided views of it. Everything above — autograd, nn, optimizers — is written against this
 * interface only, so a new backend (gpu.js, WebGPU, WASM) implements these entry points and
 * gets the whole framework.
 *
 *   map         elementwise unary / binary / ternary opcodes (see opcodes.ts), inputs already
 *               broadcast to the output shape through stride-0 dims
 *   reduce      sum / max / min over a set of dims (keepdim layout)
 *   argReduce   argmax / argmin over one dim
 *   matmul      batched matrix product of strided [..., M, K] × [..., K, N] views
 *   copy        strided copy into another view (contiguous(), cat, slice-assignment)
 *   gather / scatterAdd   index reads and their adjoint (embedding, gather, indexSelect)
 *
 * Optional fused kernels (the op layer falls back to a composite where a backend has none):
 *
 *   addmm       out = bias + a·b for 2-D a, b and a 1-D bias (torch.addmm; nn.Linear's forward)
 *   layerNormForward / layerNormBackward   layer norm and its gradients in one pass
 *   softmaxForward / softmaxBackward       (log)softmax over rows and its gradient in one pass
 *   attentionForward / attentionBackward   softmax(QKᵀ·scale + M)·V with online softmax, O(S) memory per row
 *   crossEntropyForward / crossEntropyBackward   softmax cross-entropy with class indices in one pass
 *   dropout     mask and x·mask in one pass, the mask from the counter-based stream of core/random-bits.ts
 *   adamStep    the Adam/AdamW update of one parameter in place (optim/adam.ts is the composite)
 *   int8Gemm    int8 × int8 → int32 matrix product on host arrays (compress/quantize.ts's
 *               QuantizedLinear; its plain-JS fallback is int8GemmReference)
 *   int8Linear  the whole dynamically quantized Linear on host arrays: 7-bit activation
 *               quantization per row, int8 GEMM with a pre-packed weight, rescale + bias
 *
 * Movement ops (reshape, permute, expand, slice) never reach a backend: they are views —
 * new shape/strides/offset over the same storage.
 */
import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import type { ArgReduceOp, MapOp, ReduceOp } from './opcodes.js';

/** A flat buffer owned by one backend. */
export interface Storage {
  /** The backend that owns this buffer and runs kernels on it. */
  readonly backend: Backend;
  /** Element type of the buffer. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** True after `Backend.dispose`; any further use is an error. */
  disposed: boolean;
}

/** A strided window onto a storage: element (i₀,…,iₙ) lives at offset + Σ iₖ·strides[k]. */
export interface View {
  /** The buffer the view reads from and writes to. */
  readonly storage: Storage;
  /** Size of each dimension. */
  readonly shape: Shape;
  /** Elements to step in the storage per unit of each dimension (may be 0 for broadcast dims). */
  readonly strides: readonly number[];
  /** Storage index of element (0, …, 0). */
  readonly offset: number;
}

/** The contract every backend implements (cpu, gpu): storage allocation, reads and writes, and the kernels the ops call on strided views. `registerBackend` adds one. */
export interface Backend {
  /** Registered name of the backend ('cpu', 'gpu'); the device string of its tensors. */
  readonly name: string;

  // ---- memory --------------------------------------------------------------------------
  /** Copies host data into a new storage of this backend. */
  fromArray(data: TypedArray, dtype: DType): Storage;
  /** A new storage of `size` elements, every one `value`. */
  full(size: number, dtype: DType, value: number): Storage;
  /** Reads a whole storage back to the host, synchronously. The result must not be mutated. */
  read(storage: Storage): TypedArray;
  /** Reads asynchronously (for backends that can only read back asynchronously). */
  readAsync(storage: Storage): Promise<TypedArray>;
  /** Releases device memory now (a no-op where the garbage collector owns memory). */
  dispose(storage: Storage): void;

  // ---- kernels ---------------------------------------------------------------------------
  /** out[i] = f(in₀[i], in₁[i], …), every input a view with shape `outShape`. Output contiguous. */
  map(op: MapOp, inputs: readonly View[], outShape: Shape, outDtype: DType): Storage;
  /** Reduces `dims` of x; the output is contiguous with x's shape where reduced dims are 1. */
  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage;
  /** Index of the max / min along `dim` (first occurrence; NaN counts as the max), int32, keepdim layout. */
  argReduce(op: ArgReduceOp, x: View, dim: number): Storage;
  /** a: [...batch, M, K], b: [...batch, K, N] with equal batch shapes → contiguous [...batch, M, N]. */
  matmul(a: View, b: View, outDtype: DType): Storage;
  /** dst[i] = src[i] elementwise (same shape; dst's storage is written in place). */
  copy(dst: View, src: View): void;
  /** out[p] = x[p with p[dim] := index[p]]; out has index's shape and x's dtype. */
  gather(x: View, dim: number, index: View): Storage;
  /** dst[p with p[dim] := index[p]] += src[p] for every p in index's shape (in place). */
  scatterAdd(dst: View, dim: number, index: View, src: View): void;

  // ---- optional fused kernels (the op layer uses the composite where a backend has none) ----
  /**
   * out[i, j] = bias[j] + Σₖ a[i, k]·b[k, j] for a: [M, K], b: [K, N], bias: [N] (any strides,
   * all of dtype outDtype) → contiguous [M, N]. The bias add is fused into the matrix product.
   */
  addmm?(bias: View, a: View, b: View, outDtype: DType): Storage;
  /**
   * softmax (log = false) or logSoftmax (log = true) over contiguous rows of length n of a
   * contiguous x → contiguous, x's dtype; of scale·x + mask when given (attention: scale =
   * 1/√d_k, an additive mask viewed with x's shape, broadcast through zero strides).
   */
  softmaxForward?(x: View, n: number, log: boolean, opts?: { scale?: number; mask?: View | null }): Storage;
  /** Their gradient (times scale) for upstream g from the saved output y (both contiguous rows of length n). */
  softmaxBackward?(g: View, y: View, n: number, log: boolean, scale?: number): Storage;
  /**
   * Fused scaled dot-product attention, softmax(q·kᵀ·scale + mask)·v, without materialising the
   * (L, S) scores (online softmax; cpu/attention.ts). q (…, L, E), k (…, S, E), v (…, S, Ev): any
   * strides, the same leading dims. Returns out (…, L, Ev) contiguous in q's dtype and the
   * per-row log-sum-exp (float64, one per query row; −∞ for a row whose every key is masked,
   * whose output is then 0).
   */
  attentionForward?(q: View, k: View, v: View, opts: AttentionOpts): { out: Storage; lse: Storage };
  /** Its gradients for a contiguous upstream g (…, L, Ev), from the forward's (contiguous) output and lse: contiguous, q/k/v's shapes. */
  attentionBackward?(g: View, q: View, k: View, v: View, out: View, lse: Storage, opts: AttentionOpts): { dq: Storage; dk: Storage; dv: Storage };
  /**
   * Softmax cross-entropy of contiguous logit rows of length n against int32 class indices
   * (one per row, contiguous; ignoreIndex rows skipped): the probabilities (for the backward),
   * the sum of the valid rows' losses and their count. Targets are checked by the caller.
   */
  crossEntropyForward?(x: View, n: number, target: View, ignoreIndex: number): { probs: Storage; total: number; count: number };
  /** ∂L/∂x = scale·(p − onehot(t)) on valid rows, 0 on ignored ones. */
  crossEntropyBackward?(probs: Storage, n: number, target: View, ignoreIndex: number, scale: number): Storage;
  /**
   * Layer norm over contiguous rows of length n: y = (x − μ)/√(σ² + ε)·w + b. Returns y and the
   * per-row statistics (float64 [mean…, rstd…], 2·rows) that the backward needs.
   */
  layerNormForward?(x: View, n: number, w: View | null, b: View | null, eps: number): { y: Storage; stats: Storage };
  /** Gradients of layerNormForward for upstream g (contiguous, x's shape). */
  layerNormBackward?(
    g: View, x: View, stats: Storage, w: View | null, n: number, needs: { x: boolean; w: boolean; b: boolean },
  ): { dx: Storage | null; dw: Storage | null; db: Storage | null };
  /**
   * Dropout of a contiguous x in one pass: mask[i] = scale where bernoulliBits(i, k₁, k₂) ≥ p·2³²
   * (core/random-bits.ts), else 0, and out = x·mask. Returns null where it cannot (the op then runs
   * the composite: the same mask from the same keys, then a multiply).
   */
  dropout?(x: View, p: number, scale: number, keys: { k1: number; k2: number }): { out: Storage; mask: Storage } | null;
  /**
   * The Adam/AdamW update in place on contiguous θ, m, v (one float dtype, with g) — the same bits
   * as the composite in optim/adam.ts. Returns false (changing nothing) where it cannot.
   */
  adamStep?(param: View, grad: View, expAvg: View, expAvgSq: View, s: AdamScalars): boolean;
  /**
   * C = A·Bᵀ in exact integer arithmetic: a (M, K) and b (N, K) int8, row-major (b is a Linear
   * weight, one output channel per row) → (M, N) int32, C[i, j] = Σₖ a[i, k]·b[j, k]. On host
   * arrays, since tensors have no int8 dtype. K ≤ 131071 (no int32 overflow); the caller checks.
   */
  int8Gemm?(a: Int8Array, b: Int8Array, m: number, n: number, k: number): Int32Array;
  /**
   * y (m, n) float32 = QuantizedLinear(x) for a contiguous float32 view x (m, k), with 7-bit per-row
   * activations and the pre-packed int8 weight w, per-output-channel scales (n) and bias (n) or
   * null — the arithmetic of compress/quantize.ts, bit for bit. Returns a new storage of m·n
   * elements, or null (nothing done) for another dtype or layout. Throws naming the row when x
   * holds a non-finite value.
   */
  int8Linear?(x: View, w: PackedInt8Weight, scale: Float32Array, bias: Float32Array | null): Storage | null;
}

/**
 * An int8 weight (N, K) packed for int8Linear (src/backends/cpu/wasm-int8-linear.ts): panels of 8
 * output channels, k in groups of 4, byte (o, k) at (o div 8)·8·kp + (k div 4)·32 + (o mod 8)·4 +
 * (k mod 4); zero padding to np = ⌈N/8⌉·8 channels and kp = ⌈K/16⌉·16 (at least 16) k's.
 */
export interface PackedInt8Weight {
  /** Output channels N (rows of the weight). */
  readonly n: number;
  /** Input features K (columns of the weight). */
  readonly k: number;
  /** N rounded up to a multiple of 8. */
  readonly np: number;
  /** K rounded up to a multiple of 16. */
  readonly kp: number;
  /** np·kp bytes, the packed codes. */
  readonly data: Int8Array;
  /** colsum[o] = Σₖ W_q[o, k] (np entries, 0 for padding channels): the zero-point correction. */
  readonly colsum: Int32Array;
}


/** The options of attentionForward / attentionBackward. */
export interface AttentionOpts {
  scale: number;
  /** An additive mask of q's dtype viewed with the scores' shape (…, L, S), broadcast through zero strides; or null. */
  mask: View | null;
  /** Query i may see key j only when j ≤ causalOffset + i. */
  causal: boolean;
  causalOffset: number;
}

/** The scalars of one Adam/AdamW update: θ·decay, then the moments, then θ − stepSize·m/(√v/bc2Sqrt + eps). */
export interface AdamScalars {
  decay: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  bc2Sqrt: number;
  eps: number;
}

/** The kernels every backend implements (besides memory: fromArray, full, read, readAsync, dispose). */
export const KERNELS = ['map', 'reduce', 'argReduce', 'matmul', 'copy', 'gather', 'scatterAdd'] as const;
/** The optional fused kernels: the op layer runs a composite where a backend has none. */
export const OPTIONAL_KERNELS = [
  'addmm', 'layerNormForward', 'layerNormBackward', 'softmaxForward', 'softmaxBackward', 'attentionForward', 'attentionBackward', 'crossEntropyForward', 'crossEntropyBackward', 'dropout', 'adamStep', 'int8Gemm', 'int8Linear',
] as const;
