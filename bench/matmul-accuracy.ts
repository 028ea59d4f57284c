/**
 * float32 matmul accuracy and speed (issue #11 item 9), a short stand-alone script:
 *
 *   npx tsx bench/matmul-accuracy.ts
 *
 * Accuracy: A (M×K) and B (K×N) with N(0, 1) entries, K = 4096 (and a few other K), the float32
 * product through the public API against the float64 product of the same (float32) values,
 * which is exact to ~1e-16 here. Reported per product:
 *   normwise  max_ij |C − C₆₄| / max_ij |C₆₄|     (the "max relative error" of the docs)
 *   frob      ‖C − C₆₄‖_F / ‖C₆₄‖_F
 * Speed: n×n·n×n float32 GFLOP/s (median of a few runs) at 1 and 2 gemm threads, and whether
 * the results are bit-identical across thread counts.
 */
import { getGemmThreads, manualSeed, randn, setGemmThreads, type Tensor } from '../src/index.js';

function errors(c: Tensor, c64: Tensor): { normwise: number; frob: number } {
  const a = c.toTypedArray(), b = c64.toTypedArray();
  let maxErr = 0, maxRef = 0, se = 0, sr = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    maxErr = Math.max(maxErr, e);
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
    se += e * e;
    sr += b[i]! * b[i]!;
  }
  return { normwise: maxErr / maxRef, frob: Math.sqrt(se / sr) };
}

function accuracy(M: number, K: number, N: number): { normwise: number; frob: number } {
  manualSeed(K + M);
  const a = randn([M, K]), b = randn([K, N]);
  const c = a.matmul(b);
  const c64 = a.to('float64').matmul(b.to('float64'));
  return errors(c, c64);
}

function gflops(n: number, threads: number): { gflops: number; bits: Float32Array } {
  setGemmThreads(threads);
  manualSeed(1);
  const a = randn([n, n]), b = randn([n, n]);
  let bits = a.matmul(b).toTypedArray() as Float32Array; // warm-up
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    const c = a.matmul(b);
    times.push(performance.now() - t0);
    bits = c.toTypedArray() as Float32Array;
  }
  times.sort((x, y) => x - y);
  return { gflops: (2 * n ** 3) / (times[3]! * 1e6), bits };
}

const saved = getGemmThreads();
console.log('accuracy (float32 vs float64 of the same values, N(0,1)):');
for (const [M, K, N] of [[64, 4096, 64], [128, 4096, 96], [32, 1024, 32], [16, 16384, 16], [256, 256, 256]] as const) {
  const e = accuracy(M, K, N);
  console.log(`  ${M}×${K}·${K}×${N}: max rel (normwise) ${e.normwise.toExponential(2)}, frobenius ${e.frob.toExponential(2)}`);
}
console.log('speed (float32 n×n·n×n):');
for (const n of [256, 512, 1024]) {
  const one = gflops(n, 1), two = gflops(n, 2);
  const same = one.bits.every((v, i) => Object.is(v, two.bits[i]));
  console.log(`  n=${n}: ${one.gflops.toFixed(1)} GFLOP/s (1 thread), ${two.gflops.toFixed(1)} GFLOP/s (2 threads), bit-identical across threads: ${same}`);
}
setGemmThreads(saved);

