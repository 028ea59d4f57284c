/**
 * The backend conformance suite: every kernel of the contract (src/backends/contract.ts — memory,
 * the required kernels and the optional fused ones), run through `getBackend(name)` for each
 * backend, on float32 data laid out as strided views, against float64 reference loops written
 * here from the definitions in the contract (elementwise formulas from the opcode table).
 *
 * Parameterised by backend: 'cpu' always, 'gpu' where gpu.js has WebGL (CI runs the suite under
 * `xvfb-run`; elsewhere the gpu block is skipped with the reason in its title). An optional
 * kernel a backend lacks is skipped with a title saying so (the op layer runs its composite).
 * A test checks that the suite covers every kernel the contract lists. Deep property tests of
 * the CPU kernels are in cpu.test.ts, of the GPU's in gpu.test.ts / gpu-ops.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { getBackend, backendInfo, int8LinearReference, packInt8Weight, registerGpuBackend, type Backend, type Storage, type View } from '../../src/backends/index.js';
import { KERNELS, OPTIONAL_KERNELS } from '../../src/backends/contract.js';
import { erf } from '../../src/backends/erf.js';
import { BINARY_EXPR, mapOpArity, mapOpExpr, TERNARY_EXPR, UNARY_EXPR, type MapOp } from '../../src/backends/opcodes.js';
import { bernoulliBits } from '../../src/core/random-bits.js';
import type { DType } from '../../src/core/dtype.js';

registerGpuBackend();
const gpu = backendInfo('gpu');
const BACKENDS: { name: string; available: boolean; reason?: string; tol: { rtol: number; atol: number } }[] = [
  { name: 'cpu', available: true, tol: { rtol: 2e-6, atol: 1e-6 } },
  { name: 'gpu', available: gpu.available, reason: gpu.reason ?? gpu.description, tol: { rtol: 2e-4, atol: 2e-5 } },
];

/** The entry points this suite tests (must be every kernel the contract lists). */
const COVERED = new Set<string>([
  'fromArray', 'full', 'read', 'readAsync', 'dispose', 'map', 'reduce', 'argReduce', 'matmul', 'copy', 'gather', 'scatterAdd',
  'addmm', 'layerNormForward', 'layerNormBackward', 'softmaxForward', 'softmaxBackward', 'attentionForward', 'attentionBackward', 'crossEntropyForward', 'crossEntropyBackward', 'dropout', 'adamStep', 'int8Gemm', 'int8Linear',
]);

it('the suite covers every kernel of the contract', () => {
  for (const k of [...KERNELS, ...OPTIONAL_KERNELS]) expect(COVERED.has(k), k).toBe(true);
});

// ---- data, views, references ---------------------------------------------------------------------

const contiguousStrides = (shape: readonly number[]) => {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]!; }
  return st;
};
/** Seeded values in [lo, hi), rounded to float32. */
const values = (n: number, seed: number, lo = -2, hi = 2) => Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * ((Math.sin(seed * 97.1 + i * 12.9898) * 43758.5453) % 1 + 1) % 1);

function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

const REF_FN = new Map<MapOp, (...x: number[]) => number>();
for (const op of [...Object.keys(UNARY_EXPR), ...Object.keys(BINARY_EXPR), ...Object.keys(TERNARY_EXPR)] as MapOp[]) {
  const args = ['a', 'b', 'c'].slice(0, mapOpArity(op));
  REF_FN.set(op, new Function('erf', `return (${args.join(', ')}) => (${mapOpExpr(op)});`)(erf) as (...x: number[]) => number);
}
const BOOL_OUT = new Set<string>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor', 'logicalNot', 'isnan']);
const BOOL_IN = new Set<string>(['logicalAnd', 'logicalOr', 'logicalXor', 'logicalNot']);
const POSITIVE = new Set<string>(['log', 'sqrt', 'rsqrt', 'pow', 'reciprocal', 'div']);

for (const B of BACKENDS) {
  describe.skipIf(!B.available)(`backend '${B.name}'${B.available ? '' : ` (skipped: ${B.reason})`}`, () => {
    const be = (): Backend => getBackend(B.name);
    const up = (a: Float32Array | Int32Array | Uint8Array | Float64Array, dtype: DType = 'float32'): Storage => be().fromArray(a, dtype);
    const view = (s: Storage, shape: number[], strides = contiguousStrides(shape), offset = 0): View => ({ storage: s, shape, strides, offset });
    const read = (s: Storage) => Array.from(be().read(s));
    const close = (got: readonly number[], want: readonly number[], what: string) => {
      expect(got.length, `${what}: length`).toBe(want.length);
      want.forEach((w, i) => {
        const g = got[i]!;
        if (Number.isNaN(w)) expect(g, `${what}[${i}]`).toBeNaN();
        else if (!Number.isFinite(w)) expect(g, `${what}[${i}]`).toBe(w);
        else expect(Math.abs(g - w), `${what}[${i}]: got ${g}, want ${w}`).toBeLessThanOrEqual(B.tol.atol + B.tol.rtol * Math.abs(w));
      });
    };
    const at = (v: { strides: readonly number[]; offset: number }, idx: readonly number[]) => v.offset + idx.reduce((s, i, k) => s + i * v.strides[k]!, 0);
    /** A [2,3] view of a [3,2] float32 storage through swapped strides (a transpose). */
    const transposed = (data: Float32Array) => view(up(data), [2, 3], [1, 2]);
    const tRef = (data: Float32Array) => [...indices([2, 3])].map((i) => data[i[0]! + 2 * i[1]!]!);

    it('memory: fromArray copies, full fills, read and readAsync agree, dispose', async () => {
      const src = Float32Array.from([1, 2, 3]);
      const s = up(src);
      src[0] = 100;
      expect(read(s)).toEqual([1, 2, 3]);
      expect(Array.from(await be().readAsync(s))).toEqual([1, 2, 3]);
      expect(s.dtype).toBe('float32');
      expect(read(be().full(4, 'int32', 7))).toEqual([7, 7, 7, 7]);
      be().dispose(s);
      expect(s.disposed).toBe(true);
    });

    it('map: every opcode of the table, on a transposed view and a stride-0 broadcast operand', () => {
      for (const op of REF_FN.keys()) {
        const arity = mapOpArity(op);
        const boolIn = BOOL_IN.has(op);
        const pos = POSITIVE.has(op);
        const raw = [0, 1, 2].map((k) => {
          const v = values(6, k + 1, pos ? 0.2 : -2, pos ? 2 : 2);
          return boolIn || (op === 'where' && k === 0) ? Uint8Array.from(v, (x) => (x > (pos ? 1 : 0) ? 1 : 0)) : v;
        });
        if (op === 'clamp') { raw[1] = new Float32Array(6).fill(-0.5); raw[2] = new Float32Array(6).fill(0.75); }
        const dt = (k: number): DType => (boolIn || (op === 'where' && k === 0) ? 'bool' : 'float32');
        // input 0: a transposed view; input 1: one row broadcast over the first dim (stride 0); input 2: contiguous
        const inputs = [
          view(up(raw[0]!, dt(0)), [2, 3], [1, 2]),
          view(up(raw[1]!, dt(1)), [2, 3], [0, 1]),
          view(up(raw[2]!, dt(2)), [2, 3]),
        ].slice(0, arity);
        const outDtype: DType = BOOL_OUT.has(op) ? 'bool' : 'float32';
        const got = read(be().map(op, inputs, [2, 3], outDtype));
        const f = REF_FN.get(op)!;
        const want = [...indices([2, 3])].map((idx) => {
          const r = f(...inputs.map((v, k) => Number(raw[k]![at(v, idx)]!)));
          return outDtype === 'bool' ? (r ? 1 : 0) : r;
        });
        close(got, want, `map ${op}`);
      }
    });

    it('reduce: sum / max / min over one and several dims of a transposed view', () => {
      const data = values(24, 3);
      const x = view(up(data), [2, 3, 4], [1, 8, 2]); // permuted layout of a 24-element storage
      for (const op of ['sum', 'max', 'min'] as const) {
        for (const dims of [[1], [0, 2], [0, 1, 2]]) {
          const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
          const want = [...indices(outShape)].map((o) => {
            let acc = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
            for (const idx of indices(x.shape)) {
              if (idx.some((v, i) => !dims.includes(i) && v !== o[i])) continue;
              const v = data[at(x, idx)]!;
              acc = op === 'sum' ? acc + v : op === 'max' ? Math.max(acc, v) : Math.min(acc, v);
            }
            return acc;
          });
          close(read(be().reduce(op, x, dims, 'float32')), want, `reduce ${op} ${dims}`);
        }
      }
    });

    it('argReduce: argmax / argmin along each dim (first occurrence)', () => {
      const data = Float32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 9]);
      const x = view(up(data), [3, 4]);
      for (const op of ['argmax', 'argmin'] as const) {
        for (const dim of [0, 1]) {
          const outShape = x.shape.map((d, i) => (i === dim ? 1 : d));
          const want = [...indices(outShape)].map((o) => {
            let best = 0;
            for (let j = 1; j < x.shape[dim]!; j++) {
              const a = data[at(x, o.map((v, i) => (i === dim ? j : v)))]!, b = data[at(x, o.map((v, i) => (i === dim ? best : v)))]!;
              if (op === 'argmax' ? a > b : a < b) best = j;
            }
            return best;
          });
          expect(read(be().argReduce(op, x, dim)), `${op} dim ${dim}`).toEqual(want);
        }
      }
    });

    it('matmul: batched, the second operand transposed through its strides', () => {
      const a = values(2 * 3 * 4, 5), b = values(2 * 5 * 4, 6); // b stored as [2, 5, 4], viewed as [2, 4, 5]
      const av = view(up(a), [2, 3, 4]), bv = view(up(b), [2, 4, 5], [20, 1, 4]);
      const want: number[] = [];
      for (const [n, i, j] of indices([2, 3, 5])) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += a[at(av, [n!, i!, k])]! * b[at(bv, [n!, k, j!])]!;
        want.push(s);
      }
      close(read(be().matmul(av, bv, 'float32')), want, 'matmul');
    });

    it('copy: into a strided, offset destination view, from a transposed source', () => {
      const src = values(6, 7);
      const dst = up(new Float32Array(16));
      const dv = view(dst, [2, 3], [8, 2], 1);
      be().copy(dv, transposed(src));
      const want = new Array<number>(16).fill(0);
      [...indices([2, 3])].forEach((idx, k) => (want[at(dv, idx)] = tRef(src)[k]!));
      close(read(dst), want, 'copy');
    });

    it('gather and scatterAdd along a dim, with repeated indices', () => {
      const x = values(12, 8);
      const xv = view(up(x), [3, 4]);
      const idx = Int32Array.from([2, 0, 0, 1, 1, 2]);
      const iv = view(up(idx, 'int32'), [2, 3]);
      const want = [...indices([2, 3])].map(([i, j]) => x[idx[i! * 3 + j!]! * 4 + j!]!);
      close(read(be().gather(xv, 0, iv)), want, 'gather');
      const dst = up(new Float32Array(12));
      const src = values(6, 9);
      be().scatterAdd(view(dst, [3, 4]), 0, iv, view(up(src), [2, 3]));
      const acc = new Array<number>(12).fill(0);
      [...indices([2, 3])].forEach(([i, j]) => (acc[idx[i! * 3 + j!]! * 4 + j!] += src[i! * 3 + j!]!));
      close(read(dst), acc, 'scatterAdd');
    });

    // ---- optional kernels ----
    const has = (k: string) => typeof (getBackend(B.name) as unknown as Record<string, unknown>)[k] === 'function';
    const opt = (k: string, title: string, fn: () => void) =>
      (has(k) ? it : it.skip)(`${k}: ${title}${has(k) ? '' : ` (not implemented by '${B.name}': the op runs its composite)`}`, fn);

    opt('addmm', 'bias + a·b with a transposed b', () => {
      const a = values(6, 10), b = values(12, 11), bias = values(4, 12);
      const bv = view(up(b), [3, 4], [1, 3]);
      const want = [...indices([2, 4])].map(([i, j]) => bias[j!]! + [0, 1, 2].reduce((s, k) => s + a[i! * 3 + k]! * b[at(bv, [k, j!])]!, 0));
      close(read(be().addmm!(view(up(bias), [4]), view(up(a), [2, 3]), bv, 'float32')), want, 'addmm');
    });

    const rows = (x: Float32Array, n: number) => Array.from({ length: x.length / n }, (_, r) => Array.from(x.subarray(r * n, (r + 1) * n)));
    opt('softmaxForward', 'softmax and logSoftmax of rows, with a scale and a broadcast additive mask', () => {
      const x = values(12, 13), mask = Float32Array.from([0, -1e9, 0, 0]);
      for (const log of [false, true]) {
        const got = read(be().softmaxForward!(view(up(x), [3, 4]), 4, log, { scale: 0.5, mask: view(up(mask), [3, 4], [0, 1]) }));
        const want = rows(x, 4).flatMap((r) => {
          const z = r.map((v, j) => 0.5 * v + mask[j]!), m = Math.max(...z), s = z.reduce((a, v) => a + Math.exp(v - m), 0);
          return z.map((v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
        });
        close(got, want, `softmax log=${log}`);
      }
    });
    opt('softmaxBackward', 'the gradient of softmax and logSoftmax from the output', () => {
      const y0 = values(8, 14, 0.1, 1), g = values(8, 15);
      const y = Float32Array.from(rows(y0, 4).flatMap((r) => { const s = r.reduce((a, v) => a + v, 0); return r.map((v) => v / s); }));
      const got = read(be().softmaxBackward!(view(up(g), [2, 4]), view(up(y), [2, 4]), 4, false, 1));
      const want = [0, 1].flatMap((r) => {
        const dot = [0, 1, 2, 3].reduce((a, j) => a + g[r * 4 + j]! * y[r * 4 + j]!, 0);
        return [0, 1, 2, 3].map((j) => y[r * 4 + j]! * (g[r * 4 + j]! - dot));
      });
      close(got, want, 'softmaxBackward');
    });
    // attention: q (2, 3, 2) transposed through its strides, k (2, 4, 2), v (2, 4, 3); an additive
    // mask (2, 1, 4) broadcast over the 3 query rows with −∞ on key 3 of batch 1, causal with
    // offset 1 (query i sees keys j ≤ i + 1): the naive softmax(QKᵀ·s + M)·V and its gradients
    const attnCase = () => {
      const qT = values(12, 40), k = values(16, 41), v = values(24, 42), m = Float32Array.from([0, 0.5, -1, 0, 0, 0.25, 0, -Infinity]);
      const q = (b: number, i: number, e: number) => qT[b * 6 + e * 3 + i]!; // stored (2, 2, 3): q[b] transposed
      const scale = 0.6, L = 3, S = 4, E = 2, Ev = 3;
      const P: number[][][] = [0, 1].map((b) => [0, 1, 2].map((i) => {
        const x = [0, 1, 2, 3].map((j) => (j > i + 1 ? -Infinity : scale * (q(b, i, 0) * k[b * 8 + j * 2]! + q(b, i, 1) * k[b * 8 + j * 2 + 1]!) + m[b * 4 + j]!));
        const mx = Math.max(...x), z = x.reduce((a, t) => a + Math.exp(t - mx), 0);
        return x.map((t) => Math.exp(t - mx) / z);
      }));
      const out = [0, 1].flatMap((b) => [0, 1, 2].flatMap((i) => [0, 1, 2].map((e) => [0, 1, 2, 3].reduce((a, j) => a + P[b]![i]![j]! * v[b * 12 + j * 3 + e]!, 0))));
      const views = {
        q: view(up(qT), [2, L, E], [6, 1, 3]), k: view(up(k), [2, S, E]), v: view(up(v), [2, S, Ev]),
        opts: { scale, mask: view(up(m), [2, L, S], [4, 0, 1]), causal: true, causalOffset: 1 },
      };
      return { q, k, v, P, out, views, scale, L, S, E, Ev };
    };
    opt('attentionForward', 'softmax(QKᵀ·scale + M)·V with a broadcast additive mask, causal offset, transposed q', () => {
      const c = attnCase();
      const r = be().attentionForward!(c.views.q, c.views.k, c.views.v, c.views.opts);
      close(read(r.out), c.out, 'attention out');
      expect(r.lse.size).toBe(6);
    });
    opt('attentionBackward', 'dQ, dK, dV of softmax(QKᵀ·scale + M)·V (P recomputed from the saved lse)', () => {
      const c = attnCase();
      const f = be().attentionForward!(c.views.q, c.views.k, c.views.v, c.views.opts);
      const g = values(18, 43);
      const r = be().attentionBackward!(view(up(g), [2, 3, 3]), c.views.q, c.views.k, c.views.v, view(f.out, [2, 3, 3]), f.lse, c.views.opts);
      const dq: number[] = [], dk = new Array<number>(16).fill(0), dv = new Array<number>(24).fill(0);
      for (let b = 0; b < 2; b++) {
        for (let i = 0; i < 3; i++) {
          const gi = [0, 1, 2].map((e) => g[b * 9 + i * 3 + e]!);
          const dP = [0, 1, 2, 3].map((j) => gi.reduce((a, t, e) => a + t * c.v[b * 12 + j * 3 + e]!, 0));
          const D = [0, 1, 2, 3].reduce((a, j) => a + c.P[b]![i]![j]! * dP[j]!, 0);
          const dS = [0, 1, 2, 3].map((j) => c.scale * c.P[b]![i]![j]! * (dP[j]! - D));
          for (let e = 0; e < 2; e++) dq.push([0, 1, 2, 3].reduce((a, j) => a + dS[j]! * c.k[b * 8 + j * 2 + e]!, 0));
          for (let j = 0; j < 4; j++) {
            for (let e = 0; e < 2; e++) dk[b * 8 + j * 2 + e]! += dS[j]! * c.q(b, i, e);
            for (let e = 0; e < 3; e++) dv[b * 12 + j * 3 + e]! += c.P[b]![i]![j]! * gi[e]!;
          }
        }
      }
      close(read(r.dq), dq, 'dq');
      close(read(r.dk), dk, 'dk');
      close(read(r.dv), dv, 'dv');
    });
    opt('crossEntropyForward', 'probabilities, summed loss and count, an ignored row skipped', () => {
      const x = values(12, 16), t = Int32Array.from([1, -100, 3]);
      const r = be().crossEntropyForward!(view(up(x), [3, 4]), 4, view(up(t, 'int32'), [3]), -100);
      const lse = rows(x, 4).map((row) => { const m = Math.max(...row); return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)); });
      expect(r.count).toBe(2);
      close([r.total], [lse[0]! - x[1]! + lse[2]! - x[11]!], 'crossEntropy total');
      close(read(r.probs).filter((_, i) => Math.floor(i / 4) !== 1), [0, 2].flatMap((ri) => rows(x, 4)[ri]!.map((v) => Math.exp(v - lse[ri]!))), 'probs');
    });
    opt('crossEntropyBackward', 'scale·(p − onehot(t)), zero on ignored rows', () => {
      const p = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25]), t = Int32Array.from([2, -100]);
      const got = read(be().crossEntropyBackward!(up(p), 4, view(up(t, 'int32'), [2]), -100, 0.5));
      close(got, [0.05, 0.1, 0.15 - 0.5, 0.2, 0, 0, 0, 0], 'crossEntropyBackward');
    });
    opt('layerNormForward', '(x − μ)/√(σ² + ε)·w + b per row, with the row statistics', () => {
      const x = values(8, 17), w = values(4, 18), b = values(4, 19);
      const r = be().layerNormForward!(view(up(x), [2, 4]), 4, view(up(w), [4]), view(up(b), [4]), 1e-5);
      const want = rows(x, 4).flatMap((row) => {
        const mu = row.reduce((a, v) => a + v, 0) / 4, vr = row.reduce((a, v) => a + (v - mu) ** 2, 0) / 4;
        return row.map((v, j) => ((v - mu) / Math.sqrt(vr + 1e-5)) * w[j]! + b[j]!);
      });
      close(read(r.y), want, 'layerNorm y');
      expect(r.stats.size).toBe(4);
    });
    opt('layerNormBackward', 'dx, dw, db against the closed form', () => {
      const x = values(8, 20), w = values(4, 21), g = values(8, 22);
      const f = be().layerNormForward!(view(up(x), [2, 4]), 4, view(up(w), [4]), null, 1e-5);
      const r = be().layerNormBackward!(view(up(g), [2, 4]), view(up(x), [2, 4]), f.stats, view(up(w), [4]), 4, { x: true, w: true, b: true });
      const dx: number[] = [], dw = [0, 0, 0, 0], db = [0, 0, 0, 0];
      rows(x, 4).forEach((row, ri) => {
        const mu = row.reduce((a, v) => a + v, 0) / 4, rstd = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / 4 + 1e-5);
        const xh = row.map((v) => (v - mu) * rstd), gy = row.map((_, j) => g[ri * 4 + j]! * w[j]!);
        const m1 = gy.reduce((a, v) => a + v, 0) / 4, m2 = gy.reduce((a, v, j) => a + v * xh[j]!, 0) / 4;
        dx.push(...xh.map((h, j) => rstd * (gy[j]! - m1 - h * m2)));
        xh.forEach((h, j) => { dw[j] += g[ri * 4 + j]! * h; db[j] += g[ri * 4 + j]!; });
      });
      close(read(r.dx!), dx, 'dx');
      close(read(r.dw!), dw, 'dw');
      close(read(r.db!), db, 'db');
    });
    opt('dropout', 'mask from the counter-based stream of the keys, out = x·mask (small and large tensors)', () => {
      for (const n of [10, 5000]) {
        const x = values(n, 23), p = 0.3, scale = 1 / 0.7, k1 = 12345, k2 = -678;
        const r = be().dropout!(view(up(x), [n]), p, scale, { k1, k2 })!;
        const mask = Array.from({ length: n }, (_, i) => (bernoulliBits(i, k1, k2) >= p * 4294967296 ? Math.fround(scale) : 0));
        close(read(r.mask), mask, `dropout mask n=${n}`);
        close(read(r.out), mask.map((m, i) => Math.fround(x[i]! * m)), `dropout out n=${n}`);
      }
    });
    opt('int8Gemm', 'C = A·Bᵀ in exact integer arithmetic, including the extremes −128 and 127', () => {
      const m = 3, n = 5, k = 37;
      const a = Int8Array.from({ length: m * k }, (_, i) => (i === 0 ? -128 : i === 1 ? 127 : ((i * 37) % 255) - 127));
      const b = Int8Array.from({ length: n * k }, (_, i) => (i === 0 ? -128 : ((i * 91) % 255) - 127));
      const want: number[] = [];
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let q = 0; q < k; q++) s += a[i * k + q]! * b[j * k + q]!; want.push(s); }
      expect(Array.from(be().int8Gemm!(a, b, m, n, k))).toEqual(want);
    });

    opt('int8Linear', 'the quantized Linear (7-bit rows, packed int8 weight, rescale + bias) bit for bit as its JS reference', () => {
      const m = 5, n = 11, k = 37;
      const x = Float32Array.from(values(m * k, 28));
      const w = packInt8Weight(Int8Array.from({ length: n * k }, (_, i) => ((i * 91) % 255) - 127), n, k);
      const sw = Float32Array.from({ length: n }, (_, i) => 0.01 * (i + 1)), b = Float32Array.from(values(n, 29));
      const xv = view(up(x), [m, k]);
      expect(read(be().int8Linear!(xv, w, sw, b)!)).toEqual(Array.from(int8LinearReference(x, m, w, sw, b)));
      expect(read(be().int8Linear!(xv, w, sw, null)!)).toEqual(Array.from(int8LinearReference(x, m, w, sw, null)));
      // a strided (transposed) view or another dtype is declined
      expect(be().int8Linear!({ ...view(up(x), [k, m]), shape: [m, k], strides: [1, m] }, w, sw, b)).toBeNull();
    });

    opt('adamStep', 'θ, m, v in place as the Adam/AdamW formulas (small and large tensors)', () => {
      for (const n of [7, 5000]) {
        const p = values(n, 24), g = values(n, 25), m = values(n, 26), v = values(n, 27, 0, 1);
        const s = { decay: 1 - 0.01 * 0.1, beta1: 0.9, beta2: 0.999, stepSize: 0.01 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8 };
        const ps = up(p), ms = up(m), vs = up(v);
        expect(be().adamStep!(view(ps, [n]), view(up(g), [n]), view(ms, [n]), view(vs, [n]), s)).toBe(true);
        const m2 = Array.from(m, (mi, i) => s.beta1 * mi + (1 - s.beta1) * g[i]!);
        const v2 = Array.from(v, (vi, i) => s.beta2 * vi + (1 - s.beta2) * g[i]! * g[i]!);
        const p2 = Array.from(p, (pi, i) => pi * s.decay - (s.stepSize * m2[i]!) / (Math.sqrt(v2[i]!) / s.bc2Sqrt + s.eps));
        close(read(ms), m2, `adam m n=${n}`);
        close(read(vs), v2, `adam v n=${n}`);
        close(read(ps), p2, `adam θ n=${n}`);
      }
      // a strided view is declined, nothing written
      const ps = up(Float32Array.from([1, 2, 3, 4]));
      expect(be().adamStep!(view(ps, [2], [2]), view(up(new Float32Array(2)), [2]), view(up(new Float32Array(2)), [2]), view(up(new Float32Array(2)), [2]), { decay: 1, beta1: 0.9, beta2: 0.9, stepSize: 1, bc2Sqrt: 1, eps: 1 })).toBe(false);
      expect(read(ps)).toEqual([1, 2, 3, 4]);
    });

    opt('int8Gemm', 'a·bᵀ of int8 matrices in exact int32 (the extremes −128·−128 included, odd sizes)', () => {
      for (const [m, n, k] of [[1, 1, 1], [3, 5, 17], [7, 6, 40]] as const) {
        const a = Int8Array.from({ length: m * k }, (_, i) => (i === 0 ? -128 : Math.round(values(1, i + m)[0]! * 63)));
        const b = Int8Array.from({ length: n * k }, (_, i) => (i === 0 ? -128 : Math.round(values(1, i + 99)[0]! * 63)));
        const c = be().int8Gemm!(a, b, m, n, k);
        const want = Array.from({ length: m * n }, (_, p) => {
          let s = 0;
          for (let t = 0; t < k; t++) s += a[Math.floor(p / n) * k + t]! * b[(p % n) * k + t]!;
          return s;
        });
        expect([...c], `int8Gemm ${m}×${n}×${k}`).toEqual(want);
      }
    });
  });
}
