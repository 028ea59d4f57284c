import { describe, expect, it } from 'vitest';
import { cpuArenaStats, formatProfile, randn, startProfile, stopProfile } from '../../src/index.js';
import { wasmGemmAvailable } from '../../src/backends/cpu/matmul.js';

describe('profiler', () => {
  it('counts kernel calls by entry point and opcode, and backward formulas by op', () => {
    const a = randn([4, 5], { requiresGrad: true });
    const b = randn([5, 3]);
    startProfile();
    a.matmul(b).tanh().sum().backward();
    const entries = stopProfile();
    const by = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(by['kernel:matmul']?.calls).toBeGreaterThanOrEqual(2); // forward + dA
    expect(by['kernel:map:tanh']?.calls).toBe(1);
    expect(by['backward:tanh']?.calls).toBe(1);
    expect(by['backward:matmul']?.calls).toBe(1);
    for (let i = 1; i < entries.length; i++) expect(entries[i - 1]!.ms).toBeGreaterThanOrEqual(entries[i]!.ms);
    expect(formatProfile(entries)).toMatch(/kernel:matmul/);
  });

  it('times the JS ↔ wasm copies inside the CPU kernels (copy:in:/copy:out:) and totals them', () => {
    // under 16 KiB each: plain arrays, not views of the wasm arena, so the kernel copies them
    // (and C out: N = 60 is not a multiple of the register tile's 8)
    const a = randn([60, 60]), b = randn([60, 60]);
    startProfile();
    a.matmul(b).gelu();
    const entries = stopProfile();
    const by = Object.fromEntries(entries.map((e) => [e.name, e]));
    if (wasmGemmAvailable()) {
      expect(by['copy:in:gemm']?.calls).toBeGreaterThanOrEqual(1);
      expect(by['copy:out:gemm']?.calls).toBeGreaterThanOrEqual(1);
      expect(by['copy:in:gemm']!.ms).toBeLessThanOrEqual(by['kernel:matmul']!.ms); // part of the kernel's time
      expect(formatProfile(entries)).toMatch(/copy:\* \(all JS ↔ wasm copies\)/);
    } else {
      expect(entries.some((e) => e.name.startsWith('copy:'))).toBe(false);
    }
    if (cpuArenaStats() !== null) {
      // 64×64 float32 (16 KiB): arena views, multiplied in place: no copy recorded
      const x = randn([64, 64]), y = randn([64, 64]);
      startProfile();
      x.matmul(y);
      expect(stopProfile().filter((e) => e.name.startsWith('copy:'))).toEqual([]);
    }
  });

  it('records nothing when stopped', () => {
    stopProfile();
    randn([3]).exp();
    startProfile();
    expect(stopProfile()).toEqual([]);
  });
});
