/**
 * Runs the wasm SIMD elementwise kernels (GELU forward and backward, wasm-elementwise.ts) on
 * the float32 GEMM kernel's memory: the operands are copied in, the range is cut into chunks
 * that the calling thread and the GEMM's helper threads take in turn (threads.ts), and the
 * result is copied out. Results are bit-identical to the plain-JS float32 kernels whichever
 * thread computes which chunk (test/backends/wasm-elementwise.test.ts).
 */
import { float32KernelAndPool } from './matmul.js';

export type ElementwiseOp = 'gelu' | 'geluBackward';

/** Elements per chunk handed to a thread (even: the kernels take two lanes at a time). */
const CHUNK = 16384;

type GeluFn = (src: number, dst: number, n: number) => void;
type GeluBackwardFn = (a: number, b: number, dst: number, n: number) => void;

export class ElementwiseKernels {
  /**
   * out[i] = op(ins[0][offs[0] + i], ins[1]?[offs[1] + i]) for i < n. `threads: false` keeps
   * the work on the calling thread (tests compare both).
   */
  run(opName: ElementwiseOp, ins: readonly Float32Array[], offs: readonly number[], out: Float32Array, n: number, threads = true): void {
    const kp = float32KernelAndPool();
    if (kp === null) throw new Error('wasm elementwise: no wasm SIMD kernel in this runtime');
    const { kern } = kp;
    const m = n + (n & 1); // even: the last vector of an odd n reads one padding element
    const H = kern.heap((ins.length + 1) * m * 4) as Float32Array;
    for (let j = 0; j < ins.length; j++) {
      H.set(ins[j]!.subarray(offs[j]!, offs[j]! + n), j * m);
      if (m !== n) H[j * m + n] = 0;
    }
    const p0 = 0, p1 = m * 4, dst = ins.length * m * 4;
    const fn = opName === 'gelu' ? 0 : 1;
    const gelu = kern.exports['gelu'] as GeluFn, geluBackward = kern.exports['geluBackward'] as GeluBackwardFn;
    const call = (i0: number, len: number): void => {
      if (fn === 0) gelu(p0 + 4 * i0, dst + 4 * i0, len);
      else geluBackward(p0 + 4 * i0, p1 + 4 * i0, dst + 4 * i0, len);
    };
    const pool = threads ? kp.pool : null;
    if (pool !== null) pool.runElementwise(fn, p0, p1, dst, m, CHUNK, call);
    else call(0, m);
    out.set(H.subarray(dst / 4, dst / 4 + n));
  }
}

let kernels: ElementwiseKernels | null | undefined;

/** The kernels, or null where the runtime lacks wasm SIMD. */
export function elementwiseKernels(): ElementwiseKernels | null {
  if (kernels === undefined) kernels = float32KernelAndPool() === null ? null : new ElementwiseKernels();
  return kernels;
}
