/**
 * The per-allocation size limit (issue #11 item 18, src/core/limits.ts): creation functions,
 * ops' outputs and layers' parameters check the bytes up front against one documented, settable
 * cap (default: half the physical memory) and fail at once with the op, the size and the limit —
 * before, `zeros([1e9, 1e9])` said "Invalid typed array length" and a big enough Linear aborted
 * the process on a full heap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import os from 'node:os';

import { arange, eye, getMaxAllocationBytes, linspace, nn, rand, randint, randn, setMaxAllocationBytes, tensor, zeros, ones, full, cat } from '../../src/index.js';
import { defaultMaxAllocationBytes, fmtBytes } from '../../src/core/limits.js';

afterEach(() => setMaxAllocationBytes(null));

describe('the allocation limit', () => {
  it('defaults to half the physical memory in Node', () => {
    expect(defaultMaxAllocationBytes()).toBe(Math.floor(os.totalmem() / 2));
    expect(getMaxAllocationBytes()).toBe(Math.floor(os.totalmem() / 2));
  });

  it('zeros([1e9, 1e9]), arange(0, 1e12), new nn.Linear(1e6, 1e6) fail at once, naming the op, the bytes and the limit', () => {
    const t0 = performance.now();
    expect(() => zeros([1e9, 1e9])).toThrow(/^zeros: a tensor of shape \[1000000000,1000000000\] \(float32\) needs 4\.00e\+18 bytes \(3\.5 EiB\), over the allocation limit of .* \(the default, half the physical memory; change it with setMaxAllocationBytes\)$/);
    expect(() => arange(0, 1e12)).toThrow(/^arange: a tensor of shape \[1000000000000\] \(int32\) needs 4\.00e\+12 bytes/);
    expect(() => new nn.Linear(1e6, 1e6)).toThrow(/^Linear: the parameter weight of shape \[1000000,1000000\] \(float32\) needs 4\.00e\+12 bytes \(3\.6 TiB\), over the allocation limit/);
    expect(() => new nn.Embedding(1e12, 8)).toThrow(/^Embedding: the parameter weight/);
    expect(() => new nn.MultiheadAttention(1e6, 1)).toThrow(/^MultiheadAttention: the parameter in_proj_weight/);
    expect(performance.now() - t0).toBeLessThan(5000); // up front, not after trying (no timing assertion beyond "not minutes")
    expect(() => zeros([1e9, 1e9])).toThrow(RangeError);
  });

  it('is settable: every creation function, op output and layer checks it', () => {
    setMaxAllocationBytes(1000);
    expect(getMaxAllocationBytes()).toBe(1000);
    const lim = /over the allocation limit of 1000 B \(change it with setMaxAllocationBytes\)/;
    expect(() => zeros([251])).toThrow(lim); // 1004 bytes
    expect(zeros([250]).numel()).toBe(250); // 1000 bytes: at the limit is fine
    for (const make of [() => ones([300]), () => full([300], 1), () => rand([300]), () => randn([300]), () => randint(0, 3, [300]),
      () => arange(300), () => linspace(0, 1, 300), () => eye(20), () => zeros([126], { dtype: 'float64' })]) {
      expect(make).toThrow(lim);
    }
    expect(zeros([900], { dtype: 'bool' }).numel()).toBe(900);
    const x = zeros([200]); // 800 bytes
    expect(() => x.to('float64')).toThrow(/^to: the result of shape \[200\] \(float64\) needs 1\.60e\+3 bytes \(1\.6 KiB\)/);
    expect(() => x.add(tensor([[1], [2]]))).toThrow(/^add: the result of shape \[2,200\]/);
    expect(() => zeros([20, 1]).matmul(zeros([1, 20]))).toThrow(/^matmul: the result of shape \[20,20\]/);
    expect(() => cat([x, x])).toThrow(/^cat: the result of shape \[400\]/);
    expect(() => new nn.Linear(20, 20)).toThrow(/^Linear: the parameter weight of shape \[20,20\] \(float32\) needs 1\.60e\+3 bytes \(1\.6 KiB\)/);
    setMaxAllocationBytes(null);
    expect(getMaxAllocationBytes()).toBe(defaultMaxAllocationBytes());
    expect(() => setMaxAllocationBytes(-1)).toThrow(/non-negative/);
    expect(() => setMaxAllocationBytes(NaN)).toThrow(RangeError);
  });

  it('formats sizes', () => {
    expect(fmtBytes(1000)).toBe('1000 B');
    expect(fmtBytes(2 ** 31)).toBe('2.15e+9 bytes (2.0 GiB)');
  });
});
