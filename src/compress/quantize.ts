/**
 * int8 dynamic post-training quantization (Jacob et al. 2018, "Quantization and Training of Neural
 * Networks for Efficient Integer-Arithmetic-Only Inference"; PyTorch's `quantize_dynamic`): the
 * weights of nn.Linear layers are quantized once, the activations at every call, and the product
 * runs in integers.
 *
 *   weights (once, per output channel o, symmetric 8 bits):  s_w[o] = max_i |W[o, i]| / 127
 *                                    W_q[o, i] = clamp(round(W[o, i] / s_w[o]), −127, 127)
 *   activations (each call, per row r, asymmetric 7 bits, all float32 arithmetic):
 *                                    lo = min(0, min_i x), hi = max(0, max_i x), s_x[r] = (hi − lo)/127
 *                                    z[r] = min(127, round(−lo / s_x[r])),  u = clamp(round(x / s_x[r]) + z[r], 0, 127)
 *   integer product (exact int32):   acc[r, o] = Σ_i (u[r, i] − z[r])·W_q[o, i]
 *   rescale (float64, rounded once): y[r, o] = fp32(acc[r, o]·(s_x[r]·s_w[o]) + b[o])
 *
 * round() is round-half-to-even (torch.round / nearbyint); scales are float32 (a row of zeros gets
 * scale 1, its codes are all 0). Weights use the symmetric "narrow" range [−127, 127], so −w
 * quantizes to −q. Activations use 7 bits, [0, 127] with a zero point — PyTorch's x86 (fbgemm)
 * dynamic quantization with reduce_range=True (torch.ao.nn.quantized.dynamic.Linear.forward calls
 * `quantized::linear_dynamic(x, w, reduce_range=True)`): the relaxed-SIMD byte dot product is exact
 * only when one operand lies in [0, 127] (src/backends/cpu/wasm-int8-linear.ts explains). Since the
 * first version (8-bit symmetric activations) the error of an activation code doubles for a
 * symmetric row and stays the same for a one-sided one (GELU outputs: the zero point puts all 128
 * codes on the range actually used). The rescale is reproducible bit for bit from (acc, s_x, s_w,
 * b) — the accuracy test recomputes it in float64 from the formulas.
 *
 * Departures from PyTorch's default: its activations are per tensor and its weights per tensor;
 * here activations are per row and weights per channel (PyTorch's per_channel_dynamic_qconfig),
 * which loses less accuracy.
 *
 * Kernel: QuantizedLinear packs its codes once (packInt8Weight: panels of 8 channels × 4-k groups)
 * and a forward on float32 is the backend's optional `int8Linear` (CPU: two WebAssembly SIMD calls
 * — quantize the rows, then GEMM with the rescale and bias fused into the tile epilogue; relaxed
 * SIMD's i16x8.relaxed_dot_i8x16_i7x16_s where the runtime has it, i32x4.dot_i16x8_s otherwise),
 * with `int8LinearReference` (the same arithmetic in JS) on backends without it and for float64
 * inputs (rounded to float32 before quantization; the float64 rescale is kept unrounded).
 * QuantizedLinear is inference only: backward through it throws.
 */
import { isGradEnabled, Node } from '../autograd/engine.js';
import { INT8_GEMM_MAX_K, int8Linear, int8LinearReference, packInt8Weight, type PackedInt8Weight } from '../backends/index.js';
import { isFloatingDType } from '../core/dtype.js';
import { fmtShape } from '../core/shape.js';
import { Linear } from '../nn/layers.js';
import { Module, Parameter } from '../nn/module.js';
import { matchesTarget, setSubmodule } from '../peft/inject.js';
import { fromTypedArray } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Round half to even (torch.round), for finite v.
 * @example
 * ```ts
 * compress.roundHalfEven(2.5);            // 2
 * compress.roundHalfEven(3.5);            // 4
 * compress.roundHalfEven(-0.5);           // -0
 * ```
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // rounds .5 up
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** 1.5·2⁵²: adding and subtracting it rounds a float64 |v| < 2⁵¹ to an integer, ties to even (IEEE default rounding). */
const ROUND_MAGIC = 6755399441055744;

/**
 * Symmetric int8 quantization of each row of a (rows, cols) row-major matrix: float32 scales
 * s[r] = max|row| / 127 (1 for an all-zero row) and codes clamp(roundHalfEven(v / s[r]), −127, 127).
 * Non-finite values are refused (`what` names the caller in the error).
  * @example
  * ```ts
  * const { q, scale } = compress.quantizeRows(new Float32Array([0.5, -1, 0.25, 0, 0, 0]), 2, 3);
  * Array.from(q);                          // [64, -127, 32, 0, 0, 0]
  * Array.from(scale);                      // [0.007874…, 1]: max|row|/127, and 1 for the zero row
  * ```
 */
export function quantizeRows(data: Float32Array | Float64Array | readonly number[], rows: number, cols: number, what = 'quantizeRows'): { q: Int8Array; scale: Float32Array } {
  if (data.length < rows * cols) throw new Error(`${what}: expected ${rows}·${cols} = ${rows * cols} values, got ${data.length}`);
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let amax = 0;
    let finite = true;
    for (let i = 0; i < cols; i++) {
      const a = Math.abs(data[o + i]!);
      if (a > amax) amax = a;
      else if (!(a <= amax)) finite = false; // NaN
    }
    if (!finite || amax === Infinity) {
      for (let i = 0; i < cols; i++) {
        const v = data[o + i]!;
        if (!Number.isFinite(v)) throw new Error(`${what}: row ${r} holds a non-finite value (${v}) at column ${i}; int8 quantization needs finite values`);
      }
    }
    let s = Math.fround(amax / 127);
    if (s === 0) s = 1; // an all-zero (or all-subnormal) row: every code is 0
    scale[r] = s;
    for (let i = 0; i < cols; i++) {
      const c = (data[o + i]! / s + ROUND_MAGIC) - ROUND_MAGIC; // roundHalfEven, |v/s| ≤ 127 (+ rounding)
      q[o + i] = c > 127 ? 127 : c < -127 ? -127 : c;
    }
  }
  return { q, scale };
}

/**
 * A Linear layer with int8 weights (per output channel) and int8 dynamic activations (per row):
 * y = x·Wᵀ + b computed as in the file header. Inference only.
 *
 * Shape: x (*, inFeatures) float → (*, outFeatures), x's dtype.
 * @example
 * const q = QuantizedLinear.fromLinear(new nn.Linear(768, 3072));
 * const y = q.forward(x); // ≈ the float layer's output, ~4× smaller weights
 */
export class QuantizedLinear extends Module {
  /** int8 weight codes, (outFeatures, inFeatures) row-major. After writing them in place, call {@link repack}. */
  readonly qweight: Int8Array;
  /** The codes packed for the int8 GEMM (made once, here and by repack()). */
  private packedWeight!: PackedInt8Weight;
  /** float32 per-output-channel scales: W ≈ weight_scale[o]·qweight[o, i]. */
  readonly weight_scale: Tensor;
  /** The float32 bias (outFeatures), kept unquantized and frozen (requiresGrad false), or null. */
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, qweight: Int8Array, weightScale: Float32Array, bias: Tensor | null) {
    super();
    if (qweight.length !== inFeatures * outFeatures) throw new Error(`QuantizedLinear: qweight must hold outFeatures·inFeatures = ${outFeatures * inFeatures} codes, got ${qweight.length}`);
    if (weightScale.length !== outFeatures) throw new Error(`QuantizedLinear: weightScale must hold ${outFeatures} scales (one per output channel), got ${weightScale.length}`);
    if (inFeatures > INT8_GEMM_MAX_K) throw new Error(`QuantizedLinear: inFeatures = ${inFeatures} exceeds ${INT8_GEMM_MAX_K}, beyond which int32 accumulation can overflow`);
    if (bias && (bias.ndim !== 1 || bias.shape[0] !== outFeatures)) throw new Error(`QuantizedLinear: bias must have shape [${outFeatures}], got ${fmtShape(bias.shape)}`);
    this.qweight = qweight;
    this.weight_scale = fromTypedArray(weightScale, [outFeatures]);
    this.bias = bias ? new Parameter(bias.detach().to('float32').contiguous(), false) : null;
    this.registerBuffer('weight_scale', this.weight_scale);
    this.repack();
  }

  /** Re-packs qweight for the kernel: needed after its codes were written in place (loadQuantized does). */
  repack(): void {
    this.packedWeight = packInt8Weight(this.qweight, this.outFeatures, this.inFeatures);
  }

  /** The packed weight the kernel multiplies with (see packInt8Weight). */
  get packed(): PackedInt8Weight {
    return this.packedWeight;
  }

  /** Quantizes a float Linear's weight per output channel; the bias stays float32. */
  static fromLinear(linear: Linear): QuantizedLinear {
    if (!isFloatingDType(linear.weight.dtype)) throw new Error(`QuantizedLinear.fromLinear: the weight must be floating-point, got ${linear.weight.dtype}`);
    const w = linear.weight.detach().contiguous().toTypedArray() as Float32Array | Float64Array;
    const { q, scale } = quantizeRows(w, linear.outFeatures, linear.inFeatures, 'QuantizedLinear.fromLinear (weight)');
    return new QuantizedLinear(linear.inFeatures, linear.outFeatures, q, scale, linear.bias);
  }

  /** The float32 weight the codes stand for: W_deq[o, i] = weight_scale[o]·qweight[o, i]. */
  dequantizedWeight(): Tensor {
    const scales = this.weight_scale.toTypedArray();
    const out = new Float32Array(this.qweight.length);
    for (let o = 0; o < this.outFeatures; o++) {
      const s = scales[o]!;
      for (let i = 0; i < this.inFeatures; i++) out[o * this.inFeatures + i] = s * this.qweight[o * this.inFeatures + i]!;
    }
    return fromTypedArray(out, [this.outFeatures, this.inFeatures]);
  }

  /**
   * y = x·W_deqᵀ + b with the int8 × int8 → int32 product: each row of `x` is quantized to int8 on the fly (its own scale), then rescaled.
   * @param x - floating-point (*, inFeatures).
   * @returns (*, outFeatures) in x's dtype; a backward through it throws (inference only).
   * @throws Error when `x` is not floating-point or its last dim is not inFeatures.
   */
  forward(x: Tensor): Tensor {
    const K = this.inFeatures;
    const N = this.outFeatures;
    if (!isFloatingDType(x.dtype)) throw new Error(`QuantizedLinear: input must be floating-point, got ${x.dtype}`);
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== K) throw new Error(`QuantizedLinear: input of shape ${fmtShape(x.shape)} does not end in inFeatures = ${K}`);
    const lead = x.shape.slice(0, -1);
    const M = lead.reduce((a, b) => a * b, 1);
    const sw = this.weight_scale.toTypedArray() as Float32Array;
    const b = this.bias ? (this.bias.toTypedArray() as Float32Array) : null;
    const what = 'QuantizedLinear (input)';
    const xc = x.contiguous();
    const backend = xc.storage.backend;
    // the backend's kernel on the tensor's own memory (CPU: wasm SIMD, or its JS reference without SIMD)
    const storage = x.dtype === 'float32' && backend.int8Linear ? backend.int8Linear({ storage: xc.storage, shape: [M, K], strides: [K, 1], offset: xc.offset }, this.packedWeight, sw, b) : null;
    let out: Tensor;
    if (storage) out = Tensor.fromStorage(storage, [...lead, N]);
    else {
      // elsewhere (another backend, float64): the same arithmetic on host arrays
      const xs = xc.toTypedArray() as Float32Array | Float64Array;
      const x32 = xs instanceof Float32Array ? xs : Float32Array.from(xs);
      const y = x.dtype === 'float32'
        ? (int8Linear(x32, M, this.packedWeight, sw, b, what) ?? int8LinearReference(x32, M, this.packedWeight, sw, b, new Float32Array(M * N), what))
        : int8LinearReference(x32, M, this.packedWeight, sw, b, new Float64Array(M * N), what);
      out = fromTypedArray(y, [...lead, N]);
    }
    if (out.device !== x.device) out = out.to(x.device);
    if (isGradEnabled() && x.requiresGrad) {
      // an inference-only node: the graph records that the output depends on x, and backward says why it cannot go on
      out._markNonLeaf(new Node('quantizedLinear', [x], new WeakRef(out), [], null, () => {
        throw new Error('QuantizedLinear is inference only: int8 weights have no gradient and the rounding of the activations has none either; train the float model (nn.Linear) and quantize afterwards, or run the quantized model under noGrad');
      }));
    }
    return out;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}, dtype=int8 (per-channel weights, dynamic per-row activations)`;
  }
}

/** Options of {@link quantize}: which Linear layers to replace (name suffixes or a regex; default all). */
export interface QuantizeOptions {
  /**
   * Which Linear layers to quantize: a list of names (a name matches an entry equal to it or ending
   * in `.entry`, as peft's targetModules) or a regular expression string matching whole names.
   * Default: every nn.Linear of the model.
   */
  modules?: string | readonly string[];
}

/**
 * Dynamic int8 quantization of a model's Linear layers (PyTorch's `quantize_dynamic(model,
 * {nn.Linear}, dtype=torch.qint8)` with per-channel weights): every selected Linear is replaced,
 * in place, by a QuantizedLinear; the model is returned (now inference only, put in eval mode).
 * @example
 * const model = quantize(await loadModel('out/ner'), { modules: ['query', 'key', 'value', 'dense'] });
 * noGrad(() => model.forward(ids));
 */
export function quantize<M extends Module>(model: M, opts: QuantizeOptions = {}): M {
  const targets: string[] = [];
  const wrong: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!name) continue;
    const selected = opts.modules === undefined ? m instanceof Linear : matchesTarget(opts.modules, name);
    if (!selected) continue;
    if (m instanceof Linear) targets.push(name);
    else if (!(m instanceof QuantizedLinear)) wrong.push(`${name} (${m.constructor.name})`);
  }
  if (wrong.length > 0) throw new Error(`quantize: modules ${JSON.stringify(opts.modules)} matches module(s) that are not Linear layers: ${wrong.join(', ')}; only nn.Linear can be quantized`);
  if (targets.length === 0 && opts.modules !== undefined) throw new Error(`quantize: modules ${JSON.stringify(opts.modules)} matches no Linear layer of ${model.constructor.name}`);
  const byName = new Map(model.namedModules());
  for (const name of targets) setSubmodule(model, name, QuantizedLinear.fromLinear(byName.get(name) as Linear));
  model.eval();
  return model;
}

/**
 * The QuantizedLinear layers of a model, by name.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * compress.quantize(model);
 * compress.quantizedLayers(model).map(([name]) => name); // ['0', '2']
 * ```
 */
export function quantizedLayers(model: Module): [string, QuantizedLinear][] {
  return [...model.namedModules()].filter((e): e is [string, QuantizedLinear] => e[1] instanceof QuantizedLinear);
}
