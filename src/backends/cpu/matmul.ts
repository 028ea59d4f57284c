/**
 * General matrix multiply C = A·B on strided operands (no transpose is ever materialised:
 * Aᵀ is A with its two strides swapped).
 *
 *   C[i, j] = Σₖ A[i, k]·B[k, j]        A: M×K, B: K×N, C: M×N contiguous at cOff
 *
 * B is packed into a contiguous row-major float64 panel when its columns are not unit-stride,
 * then rows of C are accumulated in float64 with an i-k-j loop whose inner loop streams
 * contiguous memory.
 */
import type { TypedArray } from '../../tensor/dtype.js';

export function gemm(
  M: number, N: number, K: number,
  A: TypedArray, aOff: number, aRs: number, aCs: number,
  B: TypedArray, bOff: number, bRs: number, bCs: number,
  C: TypedArray, cOff: number,
): void {
  // Pack B (K×N) row-major when needed so the inner loop is unit-stride.
  let Bp: TypedArray = B, bo = bOff, brs = bRs;
  if (bCs !== 1) {
    const packed = new Float64Array(K * N);
    for (let k = 0; k < K; k++) {
      const src = bOff + k * bRs;
      for (let j = 0; j < N; j++) packed[k * N + j] = B[src + j * bCs]!;
    }
    Bp = packed; bo = 0; brs = N;
  }
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0);
    const ai = aOff + i * aRs;
    for (let k = 0; k < K; k++) {
      const aik = A[ai + k * aCs]!;
      const bk = bo + k * brs;
      for (let j = 0; j < N; j++) acc[j]! += aik * Bp[bk + j]!;
    }
    const ci = cOff + i * N;
    for (let j = 0; j < N; j++) C[ci + j] = acc[j]!;
  }
}
