/**
 * int8 GEMM (wasm SIMD, i32x4.dot_i16x8_s) vs the float32 GEMM (wasm SIMD f32x4) at n³, one thread
 * each (the int8 kernel is single-threaded), plus the plain-JS int8 fallback and QuantizedLinear vs
 * nn.Linear on a (512, 512) layer at batch 512. Interleaved, best of R runs; both wall time and the
 * process's CPU time (process.cpuUsage: what the thread itself spent, much less disturbed when the
 * machine is shared and busy — compare the CPU-time column there).
 *
 * Side by side: PyTorch's `quantize_dynamic` Linear (bench/int8_torch.py, Debian /usr/bin/python3
 * torch; skipped with a note where it is missing), same n, one thread.
 *
 *   npm run bench:int8 -- [n=512] [reps=15]
 */
import { spawnSync } from 'node:child_process';
import { compress, matmul, nn, noGrad, randn, setGemmThreads } from '../src/index.js';
import { setInt8GemmWasm } from '../src/backends/cpu/int8-gemm.js';

const n = Number(process.argv[2] ?? 512);
const reps = Number(process.argv[3] ?? 15);
setGemmThreads(1);
const rnd = (len: number) => Int8Array.from({ length: len }, (_, i) => ((i * 2654435761) >>> 24) - 128);
const a8 = rnd(n * n), b8 = rnd(n * n);
const a32 = randn([n, n]), b32 = randn([n, n]).transpose(0, 1); // (K, N) view of an (N, K) weight, as Linear
const x = randn([n, n]);
const lin = new nn.Linear(n, n);
const qlin = compress.QuantizedLinear.fromLinear(lin);

const best: Record<string, number> = {};
const bestCpu: Record<string, number> = {};
const run = (name: string, fn: () => void) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const t = performance.now() - t0;
  const c = process.cpuUsage(c0);
  best[name] = Math.min(best[name] ?? Infinity, t);
  bestCpu[name] = Math.min(bestCpu[name] ?? Infinity, (c.user + c.system) / 1000);
};
for (let r = 0; r < reps; r++) {
  run('float32 GEMM (wasm f32x4)', () => matmul(a32, b32).toTypedArray());
  run('int8 GEMM (wasm i32x4.dot_i16x8_s)', () => compress.int8Gemm(a8, b8, n, n, n));
  if (r < 2) { setInt8GemmWasm(false); run('int8 GEMM (plain JS fallback)', () => compress.int8Gemm(a8, b8, n, n, n)); setInt8GemmWasm(true); }
  run('nn.Linear forward (float32)', () => noGrad(() => lin.forward(x)).toTypedArray());
  run('QuantizedLinear forward (int8)', () => noGrad(() => qlin.forward(x)).toTypedArray());
}
const f32 = best['float32 GEMM (wasm f32x4)']!;
const f32Cpu = bestCpu['float32 GEMM (wasm f32x4)']!;
console.log(`n = ${n}, 1 thread, best of ${reps} (Node ${process.version})`);
console.log(`${''.padEnd(40)} ${'wall ms'.padStart(8)}  ${'G(FL)OP/s'.padStart(9)}  ${'vs f32'.padStart(7)}  ${'CPU ms'.padStart(8)}  ${'vs f32 (CPU)'.padStart(12)}`);
for (const [k, v] of Object.entries(best)) {
  const c = bestCpu[k]!;
  console.log(`${k.padEnd(40)} ${v.toFixed(2).padStart(8)}  ${(2 * n ** 3 / v / 1e6).toFixed(1).padStart(9)}  ${(f32 / v).toFixed(2).padStart(6)}×  ${c.toFixed(2).padStart(8)}  ${(f32Cpu / c).toFixed(2).padStart(11)}×`);
}

const py = spawnSync('/usr/bin/python3', [new URL('./int8_torch.py', import.meta.url).pathname, String(n), String(reps)], { encoding: 'utf8', timeout: 120_000 });
const line = py.status === 0 ? py.stdout.trim().split('\n').pop() : undefined;
if (!line) {
  console.log(`\nPyTorch: skipped (/usr/bin/python3 with torch not runnable: ${(py.error?.message ?? py.stderr ?? '').trim().split('\n').pop()})`);
} else {
  const t = JSON.parse(line) as { torch: string; linear_f32_ms: number; linear_int8_ms: number };
  const ours = best['QuantizedLinear forward (int8)']!, oursF = best['nn.Linear forward (float32)']!;
  console.log(`\nPyTorch ${t.torch} (1 thread, best of ${reps}): nn.Linear ${t.linear_f32_ms.toFixed(2)} ms, quantize_dynamic ${t.linear_int8_ms.toFixed(2)} ms (${(t.linear_f32_ms / t.linear_int8_ms).toFixed(2)}× faster than its float32)`);
  console.log(`tensorgrad:                 nn.Linear ${oursF.toFixed(2)} ms, QuantizedLinear ${ours.toFixed(2)} ms (${(oursF / ours).toFixed(2)}×); ` +
    `tensorgrad / PyTorch: float32 ${(oursF / t.linear_f32_ms).toFixed(2)}×, int8 ${(ours / t.linear_int8_ms).toFixed(2)}× the time`);
}
