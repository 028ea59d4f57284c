/**
 * int8 vs float32 on the CPU, one thread each (the int8 kernels are single-threaded), interleaved
 * rounds so that both see the same machine load; per case the best and the median CPU time of the
 * process (process.cpuUsage: what the thread itself spent — much less disturbed than wall time
 * when the machine is shared), and the ratio to float32.
 *
 *   GEMM at n³: the float32 GEMM (wasm f32x4, relaxed FMA where present) vs the int8 GEMM with
 *     7-bit activations on a pre-packed weight (wasm-int8-linear.ts: relaxed SIMD
 *     i16x8.relaxed_dot_i8x16_i7x16_s, and its plain-SIMD i32x4.dot_i16x8_s fallback), and the
 *     general int8 × int8 kernel of the contract's int8Gemm (wasm-int8-gemm.ts, dot_i16x8_s).
 *   Linear (M×K → N) at BERT shapes: nn.Linear (float32, fused addmm) vs QuantizedLinear (the
 *     whole forward: quantize rows, GEMM, rescale + bias) on both int8 paths — side by side with
 *     PyTorch's nn.Linear and quantize_dynamic (bench/int8_torch.py, Debian /usr/bin/python3 torch
 *     1.13, fbgemm, one thread; skipped with a note where it is missing).
 *   BERT forward (token classification, eval, noGrad): float32 vs every Linear quantized, at
 *     BERT-tiny (L2 H128 FFN 512) batch 32 × seq 64 and L4 H256 FFN 1024 batch 8 × seq 128.
 *
 *   npm run bench:int8 -- [n=512] [rounds=12] [--json FILE]
 *
 * --json writes the numbers as JSON too (bench/int8-section.ts: the int8 section of `npm run bench`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

import { compress, fromTypedArray, manualSeed, matmul, nn, noGrad, randn, setGemmThreads, tidy } from '../src/index.js';
import { BertConfig, BertForTokenClassification } from '../src/nn/bert.js';
import { setInt8Relaxed } from '../src/backends/cpu/int8-gemm.js';
import { packInt8Weight, WasmInt8LinearKernel, wasmRelaxedDotSupported } from '../src/backends/cpu/wasm-int8-linear.js';

const argv = process.argv.slice(2);
const jsonAt = argv.indexOf('--json');
const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
const positional = argv.filter((_, i) => jsonAt < 0 || (i !== jsonAt && i !== jsonAt + 1));
const n = Number(positional[0] ?? 512);
const rounds = Number(positional[1] ?? 12);
const SHAPES: [number, number, number][] = [[1024, 128, 512], [1024, 512, 128], [1024, 768, 768], [512, 768, 3072]];
setGemmThreads(1);

const lcg = (len: number, lo: number, hi: number, seed: number) => {
  let s = seed >>> 0;
  return Array.from({ length: len }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return lo + Math.floor((s / 2 ** 32) * (hi - lo + 1)); });
};

/** Times of each case (ms of CPU), one per round. */
const times = new Map<string, number[]>();
const time = (name: string, fn: () => void): void => {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  if (!times.has(name)) times.set(name, []);
  times.get(name)!.push((c.user + c.system) / 1000);
};
const best = (k: string) => Math.min(...times.get(k)!);
const median = (k: string) => { const v = [...times.get(k)!].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]!; };

// ---- GEMM at n³ --------------------------------------------------------------------------------
const relaxedOk = wasmRelaxedDotSupported();
const a32 = randn([n, n]), b32 = randn([n, n]).transpose(0, 1); // (K, N) view of an (N, K) weight, as Linear
const u7 = Uint8Array.from(lcg(n * n, 0, 127, 1));
const w8 = Int8Array.from(lcg(n * n, -127, 127, 2));
const a8 = Int8Array.from(lcg(n * n, -128, 127, 3));
const packed = packInt8Weight(w8, n, n);
const kRelaxed = relaxedOk ? new WasmInt8LinearKernel({ relaxed: true }) : null;
const kPlain = new WasmInt8LinearKernel({ relaxed: false });
const G = {
  f32: 'float32 GEMM (wasm f32x4)',
  relaxed: 'int8 GEMM, relaxed_dot_i8x16_i7x16',
  plain: 'int8 GEMM, 7-bit, dot_i16x8_s',
  general: 'int8 GEMM, int8Gemm (dot_i16x8_s)',
};

// ---- Linear at BERT shapes ---------------------------------------------------------------------
const layers = SHAPES.map(([m, k, nn_]) => {
  const lin = new nn.Linear(k, nn_);
  return { m, k, n: nn_, lin, q: compress.QuantizedLinear.fromLinear(lin), x: randn([m, k]) };
});
const L = (s: { m: number; k: number; n: number }, what: string) => `${s.m}×${s.k}→${s.n} ${what}`;

// ---- BERT forward ------------------------------------------------------------------------------
const BERTS = [[2, 128, 512, 32, 64], [4, 256, 1024, 8, 128]] as const;
const berts = BERTS.map(([layers_, hidden, ffn, batch, seq]) => {
  const config = new BertConfig({ vocabSize: 1000, hiddenSize: hidden, numHiddenLayers: layers_, numAttentionHeads: hidden / 64, intermediateSize: ffn, maxPositionEmbeddings: 512, numLabels: 9 });
  const build = () => { manualSeed(0); return new BertForTokenClassification(config).eval(); };
  const ids = fromTypedArray(Int32Array.from({ length: batch * seq }, (_, i) => (i * 7919) % 1000), [batch, seq]);
  return { name: `BERT L${layers_} H${hidden} ${batch}×${seq}`, f32: build(), int8: compress.quantize(build()), ids };
});

for (let r = 0; r < rounds + 1; r++) {
  const order = r % 2 === 0 ? 1 : -1; // reverse the order every other round
  const gemms: [string, () => void][] = [
    [G.f32, () => tidy(() => void matmul(a32, b32).toTypedArray())],
    ...(kRelaxed ? [[G.relaxed, () => kRelaxed.gemm(u7, n, packed)] as [string, () => void]] : []),
    [G.plain, () => kPlain.gemm(u7, n, packed)],
    [G.general, () => compress.int8Gemm(a8, w8, n, n, n)],
  ];
  for (const [name, fn] of order > 0 ? gemms : [...gemms].reverse()) time(name, fn);
  for (const s of layers) {
    const cases: [string, () => void][] = [
      [L(s, 'nn.Linear f32'), () => tidy(() => void noGrad(() => s.lin.forward(s.x)).toTypedArray())],
      ...(relaxedOk ? [[L(s, 'QuantizedLinear relaxed'), () => { setInt8Relaxed(true); tidy(() => void noGrad(() => s.q.forward(s.x)).toTypedArray()); }] as [string, () => void]] : []),
      [L(s, 'QuantizedLinear simd'), () => { setInt8Relaxed(false); tidy(() => void noGrad(() => s.q.forward(s.x)).toTypedArray()); setInt8Relaxed(true); }],
    ];
    for (const [name, fn] of order > 0 ? cases : [...cases].reverse()) time(name, fn);
  }
  for (const b of berts) {
    const cases: [string, () => void][] = [
      [`${b.name} f32`, () => tidy(() => noGrad(() => b.f32.forward({ inputIds: b.ids }).logits.toTypedArray()))],
      [`${b.name} int8`, () => tidy(() => noGrad(() => b.int8.forward({ inputIds: b.ids }).logits.toTypedArray()))],
    ];
    for (const [name, fn] of order > 0 ? cases : [...cases].reverse()) time(name, fn);
  }
  if (r === 0) times.clear(); // round 0 warms up (wasm tier-up, caches)
}

const load = loadavg().map((v) => v.toFixed(1)).join(' ');
console.log(`Node ${process.version}, 1 thread, ${rounds} interleaved rounds (after one warm-up round), CPU time of the process; load average ${load}`);
console.log(`\nGEMM ${n}³ (ms: best / median; ratio of medians vs float32)`);
const f32 = median(G.f32);
for (const k of Object.values(G)) {
  if (!times.has(k)) continue;
  console.log(`  ${k.padEnd(38)} ${best(k).toFixed(2).padStart(7)} / ${median(k).toFixed(2).padStart(7)}  ${(2 * n ** 3 / median(k) / 1e6).toFixed(1).padStart(6)} GOP/s  ${(f32 / median(k)).toFixed(2)}×`);
}

const py = spawnSync('/usr/bin/python3', [new URL('./int8_torch.py', import.meta.url).pathname, SHAPES.map((s) => s.join(',')).join(';'), String(rounds), BERTS.map((b) => b.join(',')).join(';')], { encoding: 'utf8', timeout: 300_000 });
const pyLine = py.status === 0 ? py.stdout.trim().split('\n').pop() : undefined;
const torch = pyLine ? (JSON.parse(pyLine) as { torch: string; shapes: { m: number; k: number; n: number; linear_f32_ms: number; linear_int8_ms: number }[]; berts: { f32_ms: number; int8_ms: number }[] }) : null;
const torchSkipped = torch ? null : (py.error?.message ?? py.stderr ?? '').trim().split('\n').pop() ?? 'no output';

console.log(`\nLinear M×K → N (ms: best / median; "vs f32" = ratio of medians)${torch ? `; PyTorch ${torch.torch} (fbgemm, 1 thread, median of ${rounds})` : ''}`);
for (const [i, s] of layers.entries()) {
  const fm = median(L(s, 'nn.Linear f32'));
  const row = (what: string) => {
    const k = L(s, what);
    return times.has(k) ? `${what.replace('QuantizedLinear ', 'int8 ')} ${best(k).toFixed(2)} / ${median(k).toFixed(2)} (${(fm / median(k)).toFixed(2)}×)` : '';
  };
  const t = torch?.shapes[i];
  const pt = t ? `  | PyTorch f32 ${t.linear_f32_ms.toFixed(2)}, int8 ${t.linear_int8_ms.toFixed(2)} (${(t.linear_f32_ms / t.linear_int8_ms).toFixed(2)}×); ours/PyTorch int8 ${(median(L(s, relaxedOk ? 'QuantizedLinear relaxed' : 'QuantizedLinear simd')) / t.linear_int8_ms).toFixed(1)}×` : '';
  console.log(`  ${`${s.m}×${s.k}→${s.n}`.padEnd(15)} f32 ${best(L(s, 'nn.Linear f32')).toFixed(2)} / ${fm.toFixed(2)}  ${row('QuantizedLinear relaxed')}  ${row('QuantizedLinear simd')}${pt}`);
}
if (!torch) console.log(`\nPyTorch: skipped (/usr/bin/python3 with torch not runnable: ${(py.error?.message ?? py.stderr ?? '').trim().split('\n').pop()})`);

console.log(`\nBERT token-classification forward, every Linear quantized (ms: best / median; ratio of medians; path ${compress.int8LinearPath()})`);
for (const [i, b] of berts.entries()) {
  const f = `${b.name} f32`, q = `${b.name} int8`;
  const t = torch?.berts[i];
  const pt = t ? `  | PyTorch f32 ${t.f32_ms.toFixed(1)}, quantize_dynamic ${t.int8_ms.toFixed(1)} (${(t.f32_ms / t.int8_ms).toFixed(2)}×)` : '';
  console.log(`  ${b.name.padEnd(24)} f32 ${best(f).toFixed(1)} / ${median(f).toFixed(1)}  int8 ${best(q).toFixed(1)} / ${median(q).toFixed(1)}  (${(median(f) / median(q)).toFixed(2)}×)${pt}`);
}

if (jsonPath) {
  const int8Key = (s: { m: number; k: number; n: number }) => L(s, relaxedOk ? 'QuantizedLinear relaxed' : 'QuantizedLinear simd');
  writeFileSync(jsonPath, JSON.stringify({
    node: process.version, rounds, load, path: compress.int8LinearPath(), n,
    torch: torch?.torch ?? null, torchSkipped,
    gemm: Object.values(G).filter((k) => times.has(k)).map((k) => ({ name: k, medianMs: median(k), gops: 2 * n ** 3 / median(k) / 1e6, vsF32: f32 / median(k) })),
    linears: layers.map((s, i) => ({
      shape: `${s.m}×${s.k}→${s.n}`, f32Ms: median(L(s, 'nn.Linear f32')), int8Ms: median(int8Key(s)),
      torchF32Ms: torch?.shapes[i]?.linear_f32_ms ?? null, torchInt8Ms: torch?.shapes[i]?.linear_int8_ms ?? null,
    })),
    berts: berts.map((b, i) => ({ name: b.name, f32Ms: median(`${b.name} f32`), int8Ms: median(`${b.name} int8`), torchF32Ms: torch?.berts[i]?.f32_ms ?? null, torchInt8Ms: torch?.berts[i]?.int8_ms ?? null })),
  }, null, 2));
}
