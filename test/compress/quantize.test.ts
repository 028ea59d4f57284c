/**
 * int8 dynamic quantization (Jacob et al. 2018): the int8 GEMM (WebAssembly SIMD kernel and the
 * plain-JS fallback) bit-exact to the integer reference; the weight quantizer vs PyTorch's
 * quantize_per_channel (test/fixtures/compress/quant.json, gen_quant.py); QuantizedLinear bit-exact
 * to a float64 recomputation of the same quantized arithmetic and close to the float layer;
 * quantize() on a BERT; backward refused; safetensors round trip (I8 + F32 scales).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { BertConfig, BertForTokenClassification } from '../../src/nn/bert.js';
import { compress, fromTypedArray, manualSeed, nn, noGrad, randn, Tensor } from '../../src/index.js';
import { setInt8GemmWasm, int8GemmUsesWasm } from '../../src/backends/cpu/int8-gemm.js';
import { buildInt8GemmModule, WasmInt8GemmKernel, wasmInt8GemmSupported } from '../../src/backends/cpu/wasm-int8-gemm.js';
import { parseSafetensors } from '../../src/data/safetensors-format.js';
import { loadFixture } from '../helpers.js';

const { int8Gemm, int8GemmReference, QuantizedLinear, quantize, quantizeRows, roundHalfEven } = compress;

/** Seeded int8 values (a tiny LCG), with the extremes −128 and 127 forced in. */
function int8s(n: number, seed: number): Int8Array {
  let s = seed >>> 0;
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 24) - 128;
  }
  if (n > 0) a[0] = -128;
  if (n > 1) a[n - 1] = 127;
  return a;
}

afterEach(() => setInt8GemmWasm(true));

describe('int8 GEMM', () => {
  const sizes: [number, number, number][] = [[1, 1, 1], [1, 7, 16], [2, 4, 15], [5, 3, 17], [9, 10, 33], [16, 16, 64], [3, 21, 100], [33, 5, 257]];

  it('the runtime validates the SIMD module (Node ≥ 16), so the CPU backend runs it', () => {
    expect(wasmInt8GemmSupported()).toBe(true);
    expect(int8GemmUsesWasm()).toBe(true);
  });

  it('the wasm kernel is bit-exact to the integer reference for every tile shape and ragged M, N, K', () => {
    for (const [mr, nr] of [[1, 1], [2, 4], [4, 2], [3, 3]] as const) {
      const k = new WasmInt8GemmKernel(mr, nr);
      sizes.forEach(([m, n, kk], i) => {
        const a = int8s(m * kk, 11 + i);
        const b = int8s(n * kk, 97 + i);
        expect([...k.gemm(a, b, m, n, kk)], `${mr}×${nr} tile, ${m}×${n}×${kk}`).toEqual([...int8GemmReference(a, b, m, n, kk)]);
      });
    }
  });

  it('the reference sums exactly: all −128 gives K·16384, the largest magnitude; an all-(−128)·127 mix its negative', () => {
    const k = 1000;
    const a = new Int8Array(k).fill(-128);
    expect(int8Gemm(a, new Int8Array(k).fill(-128), 1, 1, k)[0]).toBe(k * 16384);
    expect(int8Gemm(a, new Int8Array(k).fill(127), 1, 1, k)[0]).toBe(-k * 128 * 127);
    expect(int8GemmReference(a, new Int8Array(k).fill(127), 1, 1, k)[0]).toBe(-k * 128 * 127);
  });

  it('the plain-JS fallback (setInt8GemmWasm(false)) gives the same integers; empty sizes give empty / zero results', () => {
    const a = int8s(7 * 40, 3);
    const b = int8s(6 * 40, 4);
    const wasm = int8Gemm(a, b, 7, 6, 40);
    setInt8GemmWasm(false);
    expect(int8GemmUsesWasm()).toBe(false);
    expect([...int8Gemm(a, b, 7, 6, 40)]).toEqual([...wasm]);
    setInt8GemmWasm(true);
    expect(int8Gemm(new Int8Array(0), new Int8Array(0), 0, 3, 0).length).toBe(0);
    expect([...int8Gemm(new Int8Array(0), new Int8Array(0), 2, 2, 0)]).toEqual([0, 0, 0, 0]);
  });

  it('rejects bad arguments with clear errors', () => {
    expect(() => int8Gemm(new Int8Array(4), new Int8Array(4), 2, 2, 3)).toThrow(/a must be an Int8Array of at least m·k = 6 elements/);
    expect(() => int8Gemm(new Int8Array(4), new Int8Array(4), 1.5, 2, 2)).toThrow(/m must be an integer ≥ 0, got 1.5/);
    expect(() => int8Gemm(new Int8Array(1), new Int8Array(1), 0, 0, 200_000)).toThrow(/k = 200000 exceeds 131071/);
    expect(() => buildInt8GemmModule(0, 2)).toThrow(/bad tile 0×2/);
  });
});

describe('weight / activation quantization', () => {
  const fx = loadFixture<{ shape: [number, number]; weight: number[]; scale: number[]; codes: number[] }>('compress/quant.json');

  it('matches torch.quantize_per_channel (qint8, symmetric, half-to-even ties, zero row, negative max)', () => {
    const [o, i] = fx.shape;
    const { q, scale } = quantizeRows(Float32Array.from(fx.weight), o, i);
    expect([...scale]).toEqual(fx.scale.map(Math.fround));
    expect([...q]).toEqual(fx.codes);
  });

  it('roundHalfEven rounds ties to even, others to nearest', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3, 3]);
  });

  it('the max of each row maps to ±127 and |x − s·q| ≤ s/2 everywhere; non-finite values are refused', () => {
    const x = randn([5, 33]).toTypedArray() as Float32Array;
    const { q, scale } = quantizeRows(x, 5, 33);
    for (let r = 0; r < 5; r++) {
      let mx = 0;
      for (let c = 0; c < 33; c++) {
        mx = Math.max(mx, Math.abs(q[r * 33 + c]!));
        expect(Math.abs(x[r * 33 + c]! - scale[r]! * q[r * 33 + c]!)).toBeLessThanOrEqual(scale[r]! / 2 * (1 + 1e-6));
      }
      expect(mx).toBe(127);
    }
    expect(() => quantizeRows([1, NaN], 1, 2, 'QuantizedLinear (input)')).toThrow(/QuantizedLinear \(input\): row 0 holds a non-finite value \(NaN\) at column 1/);
  });
});

describe('QuantizedLinear', () => {
  manualSeed(16);
  const lin = new nn.Linear(40, 24);
  const q = QuantizedLinear.fromLinear(lin);

  /** float64 recomputation of the quantized arithmetic, written out from the formulas. */
  function reference(x: Float32Array, M: number): Float32Array {
    const K = 40, N = 24;
    const wq = quantizeRows(lin.weight.toTypedArray() as Float32Array, N, K);
    const y = new Float32Array(M * N);
    const b = lin.bias!.toTypedArray();
    for (let r = 0; r < M; r++) {
      // 7-bit asymmetric activations (reduce_range): lo = min(0, x), hi = max(0, x), float32 arithmetic
      const row = Array.from(x.subarray(r * K, r * K + K));
      const lo = Math.min(0, ...row), hi = Math.max(0, ...row);
      const s = Math.fround(Math.fround(hi - lo) / 127) || 1;
      const z = Math.min(127, roundHalfEven(Math.fround(-lo / s)));
      const u = row.map((v) => Math.max(0, Math.min(127, roundHalfEven(Math.fround(v / s)) + z)));
      for (let o = 0; o < N; o++) {
        let acc = 0;
        for (let i = 0; i < K; i++) acc += (u[i]! - z) * wq.q[o * K + i]!;
        y[r * N + o] = acc * (s * wq.scale[o]!) + b[o]!;
      }
    }
    return y;
  }

  it('is bit-exact to the float64 reference of the quantized arithmetic, for (N, in) and (B, L, in) inputs', () => {
    const x = randn([2, 3, 40]);
    const y = q.forward(x);
    expect(y.shape).toEqual([2, 3, 24]);
    expect(y.dtype).toBe('float32');
    expect([...y.toTypedArray()]).toEqual([...reference(x.toTypedArray() as Float32Array, 6)]);
    setInt8GemmWasm(false);
    expect([...q.forward(x).toTypedArray()]).toEqual([...y.toTypedArray()]);
  });

  it('is close to the float layer: max error a few % of the output scale', () => {
    const x = randn([8, 40]);
    const yq = q.forward(x).toTypedArray();
    const yf = lin.forward(x).detach().toTypedArray();
    let err = 0, mag = 0;
    for (let i = 0; i < yq.length; i++) { err = Math.max(err, Math.abs(yq[i]! - yf[i]!)); mag = Math.max(mag, Math.abs(yf[i]!)); }
    expect(err / mag).toBeLessThan(0.03);
    expect(err).toBeGreaterThan(0); // it did quantize
  });

  it('backward through it throws a clear error; under noGrad nothing is recorded', () => {
    const x = randn([2, 40], { requiresGrad: true });
    const y = q.forward(x);
    expect(() => y.sum().backward()).toThrow(/QuantizedLinear is inference only/);
    expect(noGrad(() => q.forward(x)).requiresGrad).toBe(false);
    expect(q.parameters().every((p) => !p.requiresGrad)).toBe(true);
  });

  it('rejects bad inputs', () => {
    expect(() => q.forward(randn([2, 39]))).toThrow(/input of shape \[2, ?39\] does not end in inFeatures = 40/);
    expect(() => q.forward(fromTypedArray(new Int32Array(40), [1, 40]))).toThrow(/must be floating-point, got int32/);
    expect(() => new QuantizedLinear(4, 2, new Int8Array(7), new Float32Array(2), null)).toThrow(/qweight must hold outFeatures·inFeatures = 8 codes, got 7/);
  });
});

describe('quantize(model) and save/load', () => {
  const config = new BertConfig({ vocabSize: 50, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 16, numLabels: 5 });
  const ids = fromTypedArray(Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 7) % 50), [2, 9]);
  const build = (): BertForTokenClassification => { manualSeed(3); return new BertForTokenClassification(config).eval(); };
  const logits = (m: BertForTokenClassification): Tensor => noGrad(() => m.forward({ inputIds: ids }).logits);

  it('replaces every Linear of a BERT by a QuantizedLinear; the logits stay close to the float model', () => {
    const f = build();
    const want = logits(f).toTypedArray();
    const nLinear = [...f.modules()].filter((m) => m instanceof nn.Linear).length;
    const m = quantize(build());
    expect([...m.modules()].filter((x) => x instanceof nn.Linear)).toHaveLength(0);
    expect(compress.quantizedLayers(m)).toHaveLength(nLinear);
    const got = logits(m).toTypedArray();
    let err = 0, mag = 0;
    for (let i = 0; i < got.length; i++) { err = Math.max(err, Math.abs(got[i]! - want[i]!)); mag = Math.max(mag, Math.abs(want[i]!)); }
    expect(err / mag).toBeLessThan(0.05);
  });

  it('modules selects layers by name suffix or regex; a non-Linear or no match is an error', () => {
    const m = quantize(build(), { modules: ['query', 'value'] });
    expect(compress.quantizedLayers(m).map(([n]) => n)).toEqual([
      'bert.encoder.layer.0.attention.self.query', 'bert.encoder.layer.0.attention.self.value',
      'bert.encoder.layer.1.attention.self.query', 'bert.encoder.layer.1.attention.self.value',
    ]);
    expect(() => quantize(build(), { modules: ['nothing'] })).toThrow(/matches no Linear layer/);
    expect(() => quantize(build(), { modules: ['LayerNorm'] })).toThrow(/not Linear layers: .*LayerNorm/);
  });

  it('saves I8 weights + F32 scales with the layout in the metadata, and loads back to identical outputs', () => {
    const m = quantize(build());
    const bytes = compress.quantizedSafetensorsBytes(m);
    const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[] }> & { __metadata__: Record<string, string> };
    const name = 'bert.encoder.layer.0.intermediate.dense';
    expect(header[`${name}.weight`]).toMatchObject({ dtype: 'I8', shape: [64, 32] });
    expect(header[`${name}.weight_scale`]).toMatchObject({ dtype: 'F32', shape: [64] });
    expect(header[`${name}.bias`]).toMatchObject({ dtype: 'F32', shape: [64] });
    const meta = JSON.parse(header.__metadata__['quantization']!) as { scheme: string; layers: string[] };
    expect(meta.layers).toContain(name);
    expect(meta.scheme).toMatch(/per output channel/);
    expect(parseSafetensors(bytes).tensors[`${name}.weight`]!.shape).toEqual([64, 32]); // the project's own reader accepts it
    // a fresh float model of the same config, loaded from the file, computes the same logits bit for bit
    manualSeed(99);
    const fresh = compress.loadQuantized(new BertForTokenClassification(config).eval(), bytes);
    expect([...logits(fresh).toTypedArray()]).toEqual([...logits(m).toTypedArray()]);
    // ~4× smaller than float32 for the Linear weights
    const floatBytes = build().numParameters() * 4;
    expect(bytes.length).toBeLessThan(floatBytes * 0.6);
    expect(() => compress.loadQuantized(build(), new Uint8Array(parseSafetensorsless()))).toThrow(/no "quantization" metadata/);
  });
});

/** A valid safetensors file without quantization metadata. */
function parseSafetensorsless(): Uint8Array {
  const json = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  const pad = json + ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(pad);
  const out = new Uint8Array(8 + head.length + 4);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  return out;
}
