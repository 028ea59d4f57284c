/**
 * Buffer reuse (src/backends/cpu/pool.ts) and the disposal of backward()'s temporaries
 * (src/autograd/backward.ts) that feeds it: recycled memory must never show through a tensor
 * the user can still reach.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { ArrayPool, POOL_MIN_BYTES } from '../../src/backends/cpu/pool.js';
import { cpuPool, emptyCpuCache, fromTypedArray, randn, setCpuPoolLimit, tensor, tidy, type Tensor } from '../../src/index.js';

const N = POOL_MIN_BYTES; // float32 elements: 4× the pooling threshold

afterEach(() => setCpuPoolLimit(512 * 1024 * 1024));

describe('ArrayPool', () => {
  it('reuses a released array of the same dtype and length, zero-filling on request', () => {
    const p = new ArrayPool();
    const a = p.alloc('float32', N, true);
    a.fill(7);
    p.release(a, 'float32');
    expect(p.stats()).toMatchObject({ arrays: 1, bytes: 4 * N });
    expect(p.alloc('float64', N, false)).not.toBe(a); // another dtype
    expect(p.alloc('float32', N + 1, false)).not.toBe(a); // another length
    const b = p.alloc('float32', N, true);
    expect(b).toBe(a);
    expect(b.every((v) => v === 0)).toBe(true);
    expect(p.stats()).toMatchObject({ arrays: 0, bytes: 0, hits: 1 });
  });

  it('never takes back arrays it did not allocate, nor small ones', () => {
    const p = new ArrayPool();
    p.release(new Float32Array(N), 'float32');
    const small = p.alloc('float32', 4, false);
    p.release(small, 'float32');
    expect(p.stats().arrays).toBe(0);
  });

  it('empties itself rather than exceed its limit; limit 0 turns reuse off', () => {
    const p = new ArrayPool(4 * N * 2);
    const xs = [p.alloc('float32', N, false), p.alloc('float32', N, false), p.alloc('float32', N, false)];
    for (const x of xs) p.release(x, 'float32');
    expect(p.stats().bytes).toBeLessThanOrEqual(4 * N * 2);
    const off = new ArrayPool(0);
    const y = off.alloc('float32', N, false);
    off.release(y, 'float32');
    expect(off.alloc('float32', N, false)).not.toBe(y);
    expect(() => setCpuPoolLimit(-1)).toThrow('setCpuPoolLimit: expected a byte count ≥ 0, got -1');
  });

  it('a tensor wrapping a caller array is never recycled into another tensor', () => {
    const mine = new Float32Array(N).fill(3);
    const t = fromTypedArray(mine, [N]);
    t.dispose();
    for (let i = 0; i < 4; i++) tensor(new Array<number>(N).fill(9)).dispose();
    expect(mine.every((v) => v === 3)).toBe(true);
  });
});

describe('backward() disposes its own temporaries, and only those', () => {
  it('leaves .grad, retained grads and every forward tensor usable; the buffers are reused', () => {
    emptyCpuCache();
    const w = randn([64, 64]).requiresGrad_();
    const x = randn([64, 64]);
    const h = x.matmul(w).relu(); // forward tensors the user holds
    h.retainGrad();
    const y = h.mul(h).sum();
    const before = cpuPool.stats(true);
    y.backward();
    const after = cpuPool.stats();
    expect(after.arrays).toBeGreaterThan(before.arrays); // intermediate gradients came back
    const g = Array.from(w.grad!.toTypedArray());
    const hg = Array.from(h.grad!.toTypedArray());
    const hv = Array.from(h.toTypedArray());
    // allocate the same sizes again: the recycled buffers must not alias anything above
    for (let i = 0; i < 5; i++) randn([64, 64]).mul(2).add(1);
    expect(Array.from(w.grad!.toTypedArray())).toEqual(g);
    expect(Array.from(h.grad!.toTypedArray())).toEqual(hg);
    expect(Array.from(h.toTypedArray())).toEqual(hv);
    // the values are right: ∂/∂h Σh² = 2h
    expect(hg.every((v, i) => Math.abs(v - 2 * hv[i]!) < 1e-5)).toBe(true);
    expect(cpuPool.stats().hits).toBeGreaterThan(0);
  });

  it('a leaf used twice gets the sum, and its first partial gradient is not left aliased', () => {
    const a = randn([40, 128]).requiresGrad_();
    const b = a.mul(3).add(a.mul(a)).sum();
    b.backward();
    const got = Array.from(a.grad!.toTypedArray());
    const av = a.toTypedArray();
    for (let i = 0; i < 8; i++) randn([40, 128]).mul(5);
    expect(Array.from(a.grad!.toTypedArray())).toEqual(got);
    got.forEach((v, i) => expect(Math.abs(v - (3 + 2 * av[i]!))).toBeLessThan(1e-5));
  });

  it('repeated steps inside tidy keep the parameter gradients exact', () => {
    const w = randn([32, 200]).requiresGrad_();
    const x = randn([200, 32]);
    const ref: number[][] = [];
    for (let s = 0; s < 3; s++) {
      w.grad = null;
      tidy(() => { w.matmul(x).tanh().sum().backward(); });
      ref.push(Array.from(w.grad!.toTypedArray()));
    }
    expect(ref[1]).toEqual(ref[0]);
    expect(ref[2]).toEqual(ref[0]);
    const first: Tensor = w.grad!;
    expect(first.isDisposed).toBe(false);
  });
});

describe('backward() hands fresh gradients to .grad without copying, never aliased', () => {
  it('two leaves fed the same gradient (x + y) get separate buffers; in-place edits stay local', () => {
    const x = randn([64, 64]).requiresGrad_();
    const y = randn([64, 64]).requiresGrad_();
    x.add(y).mul(3).sum().backward();
    expect(x.grad!.storage).not.toBe(y.grad!.storage);
    x.grad!.mul_(0);
    expect(Array.from(y.grad!.toTypedArray()).every((v) => v === 3)).toBe(true);
  });

  it('a user-supplied upstream gradient is never adopted as .grad', () => {
    const x = randn([64, 64]).requiresGrad_();
    const up = randn([64, 64]);
    x.mul(1).backward(up);
    expect(x.grad!.storage).not.toBe(up.storage);
    expect(Array.from(x.grad!.toTypedArray())).toEqual(Array.from(up.toTypedArray()));
  });
});
