/**
 * The float32 wasm arena (src/backends/cpu/arena.ts, issue #19 item 1): the allocator on its own
 * (size classes, reuse, cap, growth of shared and non-shared memories without detaching live
 * views, scratch), then the kernels' in-place paths — every wasm kernel given arena views must
 * produce exactly the bits it produces on plain arrays (the copy path) — and memory that stays
 * flat over training steps.
 */
import './arena-on.js';
import { describe, expect, it } from 'vitest';

import { sizeClass, WasmArena } from '../../src/backends/cpu/arena.js';
import { adamStepWasm, dropoutWasm, elementwiseKernels, layerNormBackwardWasm, layerNormForwardWasm, softmaxBackwardWasm, softmaxForwardWasm } from '../../src/backends/cpu/elementwise.js';
import { float32Arena, float32KernelAndPool, gemm, gemmBatched, WASM_F32_BLOCKING, gemmWasm, WasmGemmKernel } from '../../src/backends/cpu/matmul.js';
import { cpuArenaStats } from '../../src/backends/cpu/pool.js';
import { Generator, nn, optim, randn, tidy } from '../../src/index.js';

const PAGE = 65536;
type Mem = { buffer: ArrayBuffer; grow(n: number): number };
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => Mem } }).WebAssembly;

describe('WasmArena (the allocator)', () => {
  it('size classes: at most 25 % slack, never smaller than the request, multiples of 64 bytes', () => {
    for (const b of [1, 63, 64, 65, 1000, 1025, 4096, 16384, 16385, 100000, 123457, 1 << 24, (1 << 24) + 1]) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c % 64).toBe(0);
      if (b > 1024) expect(c).toBeLessThanOrEqual(b * 1.25 + 64);
    }
  });

  it('reuses a released block for a request of the same class (the same view for the same length), zero-filling on request', () => {
    const a = new WasmArena(new Wasm.Memory({ initial: 1, maximum: 64, shared: true }), true, 4 << 20);
    const x = a.alloc(5000, false)!;
    expect(a.contains(x) && a.address(x) === x.byteOffset && a.address(x) > 0).toBe(true);
    x.fill(7);
    expect(a.release(x)).toBe(true);
    expect(a.release(x)).toBe(false); // twice
    expect(a.release(new Float32Array(5000))).toBe(false); // not the arena's
    const y = a.alloc(5000, true)!;
    expect(y).toBe(x);
    expect(y.every((v) => v === 0)).toBe(true);
    a.release(y);
    const z = a.alloc(4990, false)!; // same class, other length: a new view of the same block
    expect(z.byteOffset).toBe(x.byteOffset);
    expect(z.length).toBe(4990);
    expect(a.capacity(z)).toBe(sizeClass(4 * 4990) / 4);
    expect(a.stats()).toMatchObject({ hits: 2, misses: 1, liveBlocks: 1, freeBlocks: 0 });
  });

  it('blocks never overlap, and a shared memory grows without detaching the views handed out before', () => {
    const mem = new Wasm.Memory({ initial: 1, maximum: 256, shared: true });
    const a = new WasmArena(mem, true, 8 << 20);
    const views: Float32Array[] = [];
    for (let i = 0; i < 12; i++) {
      const v = a.alloc(20000 + 1000 * i, false)!;
      v.fill(i + 1);
      views.push(v);
    }
    expect(mem.buffer.byteLength).toBeGreaterThan(PAGE); // it grew
    views.forEach((v, i) => {
      expect(v.length).toBe(20000 + 1000 * i); // not detached
      expect(v.every((x) => x === i + 1)).toBe(true); // nothing overwritten by a later block
      expect(a.contains(v)).toBe(true);
    });
    const ends = views.map((v) => [v.byteOffset, v.byteOffset + a.capacity(v) * 4] as const).sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < ends.length; i++) expect(ends[i]![0]).toBeGreaterThanOrEqual(ends[i - 1]![1]);
  });

  it('past its cap it refuses (the pool then hands out a plain array)', () => {
    const a = new WasmArena(new Wasm.Memory({ initial: 1, maximum: 256, shared: true }), true, 1 << 20);
    expect(a.alloc(200000, false)).not.toBeNull();
    expect(a.alloc(200000, false)).toBeNull();
    expect(a.stats().refused).toBe(1);
  });

  it('a non-shared memory is never grown (that would detach live views): past its reservation it refuses', () => {
    const mem = new Wasm.Memory({ initial: 8 }); // 512 KiB reserved
    const a = new WasmArena(mem, false, 8 * PAGE);
    const v = a.alloc(60000, false)!; // 240 KB
    v.fill(3);
    const w = a.alloc(60000, false)!;
    expect(a.alloc(60000, false)).toBeNull(); // would need a grow
    expect(mem.buffer.byteLength).toBe(8 * PAGE);
    expect(v.length).toBe(60000);
    expect(v.every((x) => x === 3)).toBe(true);
    a.release(w);
    expect(a.alloc(60000, false)).toBe(w); // freed room is reused
  });

  it('the scratch region is a block of its own: it never overlaps a live block, and grows by replacement', () => {
    const a = new WasmArena(new Wasm.Memory({ initial: 1, maximum: 256, shared: true }), true, 16 << 20);
    const v = a.alloc(10000, false)!;
    const s1 = a.scratch(1000);
    expect(s1 >= v.byteOffset + 40000 || s1 + 1000 <= v.byteOffset).toBe(true);
    expect(a.scratch(800)).toBe(s1); // big enough: the same region
    const s2 = a.scratch(100000);
    const u = a.alloc(10000, false)!; // may take the old scratch block, never the new one
    expect(u.byteOffset + 40000 <= s2 || u.byteOffset >= s2 + 100000).toBe(true);
    expect(() => new WasmArena(new Wasm.Memory({ initial: 1, maximum: 4, shared: true }), true, 2 * PAGE).scratch(1 << 20)).toThrow(RangeError);
  });
});

// ---- in place = copied, bit for bit -------------------------------------------------------------

const arena = float32Arena();
const kp = float32KernelAndPool();

/** The same values as an arena view (what a storage of pooled size holds) and as a plain array. */
function pair(n: number, gen: Generator, scale = 1): [Float32Array, Float32Array] {
  const v = arena!.alloc(n, false)!;
  for (let i = 0; i < n; i++) v[i] = scale * gen.normal();
  expect(arena!.contains(v)).toBe(true);
  return [v, Float32Array.from(v)];
}
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.runIf(arena !== null && kp !== null)('kernels on arena views = kernels on copies, bit for bit', () => {
  it('float32 storages of pooled size are arena views (cpuArenaStats reports them)', () => {
    const t = randn([64, 128]);
    expect(arena!.contains(t.storage.backend.read(t.storage))).toBe(true);
    const st = cpuArenaStats()!;
    expect(st.liveBlocks).toBeGreaterThan(0);
    expect(st.topBytes).toBeLessThanOrEqual(st.memoryBytes);
  });

  it('gemm: A, B packed in place and C written in place, for plain, transposed, offset, bias and accumulating products of odd sizes', () => {
    const gen = new Generator(1);
    const cases: [number, number, number][] = [[64, 128, 96], [37, 40, 29], [5, 17, 300], [130, 64, 513], [4, 8, 4]];
    for (const [M, N, K] of cases) {
      for (const transB of [false, true]) {
        const [A, A0] = pair(M * K + 3, gen), [B, B0] = pair(K * N + 5, gen), [bias, bias0] = pair(N, gen);
        const bRs = transB ? 1 : N, bCs = transB ? K : 1;
        for (const acc of ['no', 'yes', 'bias'] as const) {
          const C = arena!.alloc(M * N, false)!, C0 = new Float32Array(M * N);
          const [c1] = pair(M * N, gen);
          C.set(c1); C0.set(c1);
          const accumulate = acc === 'no' ? false : acc === 'yes' ? true : { data: acc === 'bias' ? bias : bias0, off: 0, stride: 1 };
          const accumulate0 = acc === 'bias' ? { data: bias0, off: 0, stride: 1 } : accumulate;
          gemm(M, N, K, A, 3, K, 1, B, 5, bRs, bCs, C, 0, 'wasm', accumulate);
          gemm(M, N, K, A0, 3, K, 1, B0, 5, bRs, bCs, C0, 0, 'wasm', accumulate0);
          expect(bits(C), `${M}×${N}×${K} transB=${transB} ${acc}`).toEqual(bits(C0));
        }
      }
    }
  });

  it('gemm with the helper threads (a product past the threading threshold)', () => {
    const gen = new Generator(2);
    const M = 256, N = 256, K = 128;
    const [A, A0] = pair(M * K, gen), [B, B0] = pair(K * N, gen);
    const C = arena!.alloc(M * N, false)!, C0 = new Float32Array(M * N);
    gemmWasm(kp!.kern, WASM_F32_BLOCKING, M, N, K, A, 0, K, 1, B, 0, N, 1, C, 0);
    gemmWasm(kp!.kern, WASM_F32_BLOCKING, M, N, K, A0, 0, K, 1, B0, 0, N, 1, C0, 0);
    expect(bits(C)).toEqual(bits(C0));
  });

  it('gemmBatched (attention heads): in place, and with padding (C copied out)', () => {
    const gen = new Generator(3);
    for (const [count, M, N, K] of [[6, 64, 64, 32], [5, 13, 20, 7]] as const) {
      const [A, A0] = pair(count * M * K, gen), [B, B0] = pair(count * K * N, gen);
      const aOffs = Array.from({ length: count }, (_, i) => i * M * K), bOffs = Array.from({ length: count }, (_, i) => i * K * N);
      const C = arena!.alloc(count * M * N, false)!, C0 = new Float32Array(count * M * N);
      // B seen transposed (K×N read with strides 1, K): Q·Kᵀ's layout
      gemmBatched(count, M, N, K, A, aOffs, K, 1, B, bOffs, 1, K, C, 0);
      gemmBatched(count, M, N, K, A0, aOffs, K, 1, B0, bOffs, 1, K, C0, 0);
      expect(bits(C)).toEqual(bits(C0));
    }
  });

  it('elementwise (GELU, add, …), dropout and Adam', () => {
    const gen = new Generator(4);
    const k = elementwiseKernels()!;
    for (const n of [4096, 20001]) {
      const [x, x0] = pair(n + 2, gen), [y, y0] = pair(n, gen);
      for (const op of ['gelu', 'geluBackward', 'add', 'mul', 'div'] as const) {
        const out = arena!.alloc(n, false)!, out0 = new Float32Array(n);
        const ins = op === 'gelu' ? [x] : [x, y], ins0 = op === 'gelu' ? [x0] : [x0, y0];
        expect(k.run(op, ins, [2, 0], out, n)).toBe(true);
        expect(k.run(op, ins0, [2, 0], out0, n)).toBe(true);
        expect(bits(out), `${op} n=${n}`).toEqual(bits(out0));
      }
      const m = arena!.alloc(n, false)!, o = arena!.alloc(n, false)!;
      const m0 = new Float32Array(n), o0 = new Float32Array(n);
      dropoutWasm(x, 1, n, 0.3, 1 / 0.7, 11, 22, m, o);
      dropoutWasm(x0, 1, n, 0.3, 1 / 0.7, 11, 22, m0, o0);
      expect(bits(m)).toEqual(bits(m0));
      expect(bits(o)).toEqual(bits(o0));
      const [p, p0] = pair(n, gen), [g, g0] = pair(n, gen), [mm, mm0] = pair(n, gen), [v, v0] = pair(n, gen, 0);
      for (let i = 0; i < n; i++) v[i] = v0[i] = Math.abs(gen.normal());
      const s = { decay: Math.fround(0.999), b1: Math.fround(0.9), c1: Math.fround(0.1), b2: Math.fround(0.999), c2: Math.fround(0.001), negStep: Math.fround(-1e-3), bc2: Math.fround(0.03), eps: Math.fround(1e-8) };
      adamStepWasm(p, 0, g, 0, mm, 0, v, 0, n, s);
      adamStepWasm(p0, 0, g0, 0, mm0, 0, v0, 0, n, s);
      expect([bits(p), bits(mm), bits(v)]).toEqual([bits(p0), bits(mm0), bits(v0)]);
    }
  });

  it('layer norm and softmax, forward and backward (with a mask)', () => {
    const gen = new Generator(5);
    const R = 160, n = 128;
    const [x, x0] = pair(R * n, gen), [w, w0] = pair(n, gen), [b, b0] = pair(n, gen), [g, g0] = pair(R * n, gen);
    const out = () => [arena!.alloc(R * n, false)!, new Float32Array(R * n)] as const;
    const [y, y0] = out();
    const st = [new Float64Array(R), new Float64Array(R)], st0 = [new Float64Array(R), new Float64Array(R)];
    layerNormForwardWasm(x, n, w, b, 1e-5, y, st[0]!, st[1]!);
    layerNormForwardWasm(x0, n, w0, b0, 1e-5, y0, st0[0]!, st0[1]!);
    expect(bits(y)).toEqual(bits(y0));
    expect(st).toEqual(st0);
    const [dx, dx0] = out();
    const dw = new Float64Array(n), dw0 = new Float64Array(n), db = new Float64Array(n), db0 = new Float64Array(n);
    layerNormBackwardWasm(g, x, st[0]!, st[1]!, w, n, dx, dw, db);
    layerNormBackwardWasm(g0, x0, st0[0]!, st0[1]!, w0, n, dx0, dw0, db0);
    expect(bits(dx)).toEqual(bits(dx0));
    expect([dw, db]).toEqual([dw0, db0]);
    const [mask, mask0] = pair(n * 4, gen);
    const rowOffsets = Array.from({ length: R }, (_, r) => (r % 4) * n);
    const [s, s0] = out();
    softmaxForwardWasm(x, n, 0.125, { data: mask, rowOffsets }, s);
    softmaxForwardWasm(x0, n, 0.125, { data: mask0, rowOffsets }, s0);
    expect(bits(s)).toEqual(bits(s0));
    const [d, d0] = out();
    softmaxBackwardWasm(g, s, n, 0.125, d);
    softmaxBackwardWasm(g0, s0, n, 0.125, d0);
    expect(bits(d)).toEqual(bits(d0));
  });
});

describe.runIf(arena !== null)('a kernel on a non-shared memory (one thread; a browser without cross-origin isolation)', () => {
  it('reserves its arena up front and computes in place what the copy path computes, without ever growing the memory', () => {
    const kern = new WasmGemmKernel({ dtype: 'float32', mr: 4, nr: 8, arena: true });
    expect(kern.shared).toBe(false);
    const ar = kern.arena!;
    const bytes = kern.memory.buffer.byteLength;
    expect(bytes).toBeGreaterThanOrEqual(ar.limitBytes);
    const gen = new Generator(6);
    const M = 96, N = 64, K = 200;
    const A = ar.alloc(M * K, false)!, B = ar.alloc(K * N, false)!, C = ar.alloc(M * N, false)!;
    for (let i = 0; i < A.length; i++) A[i] = gen.normal();
    for (let i = 0; i < B.length; i++) B[i] = gen.normal();
    const A0 = Float32Array.from(A), B0 = Float32Array.from(B), C0 = new Float32Array(M * N);
    gemmWasm(kern, WASM_F32_BLOCKING, M, N, K, A, 0, K, 1, B, 0, 1, K, C, 0, 'auto', null);
    gemmWasm(kern, WASM_F32_BLOCKING, M, N, K, A0, 0, K, 1, B0, 0, 1, K, C0, 0, 'auto', null);
    expect(bits(C)).toEqual(bits(C0));
    expect(kern.memory.buffer.byteLength).toBe(bytes); // never grown: A, B, C still attached
    expect(A.length).toBe(M * K);
  });
});

describe.runIf(arena !== null)('memory stays flat', () => {
  it('training steps in tidy with zeroGrad: the arena stops growing after the first steps', () => {
    const model = new nn.Sequential(new nn.Linear(256, 512), new nn.GELU(), new nn.Linear(512, 256));
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
    const x = randn([64, 256]);
    const step = (): void => tidy(() => {
      opt.zeroGrad();
      model.forward(x).pow(2).mean().backward();
      opt.step();
    });
    for (let i = 0; i < 3; i++) step();
    const warm = cpuArenaStats()!;
    for (let i = 0; i < 25; i++) step();
    const end = cpuArenaStats()!;
    expect(end.topBytes).toBe(warm.topBytes);
    expect(end.liveBlocks).toBe(warm.liveBlocks);
  });
});
