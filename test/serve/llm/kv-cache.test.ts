import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, tensor } from '../../../src/index.js';
import { GPT, GPTConfig } from '../../../src/nn/gpt.js';
import { causalAttentionContiguous } from '../../../src/nn/row-attention.js';
import { BlockTable, PagedKVCache, PoolExhaustedError, pagedAttention } from '../../../src/serve/llm/kv-cache.js';
import { GPTRunner } from '../../../src/serve/llm/runner.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('PagedKVCache: blocks, tables, reference counts', () => {
  it('allocates blocks from one pool as positions are reserved and returns them on free', () => {
    const c = new PagedKVCache({ numBlocks: 4, blockSize: 16, nLayer: 1, nHead: 1, headDim: 2 });
    const t = new BlockTable();
    expect(c.blocksNeeded(t, 1)).toBe(1);
    c.reserve(t, 1);
    expect([t.blocks.length, t.length, c.numUsed]).toEqual([1, 1, 1]);
    c.reserve(t, 16);
    expect(t.blocks.length).toBe(1);
    c.reserve(t, 17);
    expect([t.blocks.length, c.numUsed, c.numFree]).toEqual([2, 2, 2]);
    expect(c.slot(t, 17 - 1)).toBe(t.blocks[1]! * 16);
    const u = new BlockTable();
    expect(() => c.reserve(u, 49)).toThrow(PoolExhaustedError); // needs 4, 2 free
    expect([u.blocks.length, c.numFree]).toEqual([0, 2]); // all or nothing
    c.free(t);
    expect([c.numUsed, t.blocks.length, t.length]).toEqual([0, 0, 0]);
    c.reserve(u, 64);
    expect(c.numFree).toBe(0);
    expect(() => c.allocate()).toThrow(/all 4 blocks are in use/);
    expect(() => c.release(99)).toThrow(/block must be an integer in \[0, 4\)/);
    expect(() => new PagedKVCache({ numBlocks: 0, nLayer: 1, nHead: 1, headDim: 1 })).toThrow(/numBlocks must be a positive integer, got 0/);
  });

  it('fork shares blocks (refcounts), and the first write into a shared block copies it (copy-on-write)', () => {
    const c = new PagedKVCache({ numBlocks: 8, blockSize: 4, nLayer: 2, nHead: 1, headDim: 2 });
    const a = new BlockTable();
    c.reserve(a, 6); // blocks: 4 full + 2 of the second
    for (let p = 0; p < 6; p++) for (let l = 0; l < 2; l++) c.write(l, a, p, new Float32Array([p, l + 10]), 0, new Float32Array([-p, -l]), 0);
    const b = c.fork(a);
    expect(b.blocks).toEqual(a.blocks);
    expect(c.refs(a.blocks[0]!)).toBe(2);
    expect(c.numUsed).toBe(2);
    // b appends position 6, inside the shared second block: one copy, then b owns it
    expect(c.blocksNeeded(b, 7)).toBe(1);
    c.reserve(b, 7);
    expect(b.blocks[0]).toBe(a.blocks[0]); // the full prefix block stays shared
    expect(b.blocks[1]).not.toBe(a.blocks[1]);
    expect([c.refs(a.blocks[1]!), c.refs(b.blocks[1]!), c.refs(a.blocks[0]!)]).toEqual([1, 1, 2]);
    // the copy holds a's positions 4 and 5 in both layers
    for (const l of [0, 1]) for (const p of [4, 5]) {
      expect(Array.from(c.k[l]!.subarray(c.slot(b, p) * 2, c.slot(b, p) * 2 + 2))).toEqual([p, l + 10]);
      expect(Array.from(c.v[l]!.subarray(c.slot(b, p) * 2, c.slot(b, p) * 2 + 2))).toEqual([-p, -l]);
    }
    // a now owns its second block alone: appending needs no copy
    expect(c.blocksNeeded(a, 7)).toBe(0);
    c.free(a);
    expect(c.refs(b.blocks[0]!)).toBe(1);
    c.free(b);
    expect(c.numUsed).toBe(0);
  });
});

describe('PagedAttention is bit-identical to contiguous attention', () => {
  it('random K/V scattered over shuffled physical blocks: every position, every head, bitwise', () => {
    const rnd = lcg(7);
    const nh = 3, hs = 5, S = 37, C = nh * hs, bs = 4;
    const cache = new PagedKVCache({ numBlocks: 16, blockSize: bs, nLayer: 1, nHead: nh, headDim: hs });
    // take blocks in a scrambled physical order
    const junk = new BlockTable();
    cache.reserve(junk, 3 * bs);
    const t = new BlockTable();
    cache.reserve(t, S);
    cache.free(junk);
    const q = new Float32Array(nh * S * hs), k = new Float32Array(nh * S * hs), v = new Float32Array(nh * S * hs); // (1, nh, S, hs)
    for (const a of [q, k, v]) for (let i = 0; i < a.length; i++) a[i] = (rnd() - 0.5) * 6;
    const row = (a: Float32Array, p: number) => {
      const r = new Float32Array(C); // (nh·hs) of position p
      for (let h = 0; h < nh; h++) for (let d = 0; d < hs; d++) r[h * hs + d] = a[(h * S + p) * hs + d]!;
      return r;
    };
    for (let p = 0; p < S; p++) cache.write(0, t, p, row(k, p), 0, row(v, p), 0);
    const want = causalAttentionContiguous(q, k, v, 1, nh, S, hs, 0, new Float32Array(S * C)); // (1, S, C)
    const got = new Float32Array(S * C);
    for (let p = 0; p < S; p++) pagedAttention(cache, 0, t, p + 1, row(q, p), 0, got, p * C);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it("GPT's own cached attention: prefill and token-by-token decode give bit-identical logits, and so does the paged runner in any chunking", () => {
    manualSeed(3);
    const gpt = new GPT(new GPTConfig({ vocabSize: 23, blockSize: 48, nLayer: 2, nHead: 2, nEmbd: 16 })).eval();
    const rnd = lcg(11);
    const T = 40;
    const ids = Array.from({ length: T }, () => Math.floor(rnd() * 23));
    const prefill = noGrad(() => gpt.forward(tensor([ids], { dtype: 'int32' }), null, { kvCache: gpt.newCache() }).logits.toTypedArray()); // (1, T, V)
    const cacheC = gpt.newCache();
    const decode: number[] = [];
    noGrad(() => {
      for (let p = 0; p < T; p++) decode.push(...gpt.forward(tensor([[ids[p]!]], { dtype: 'int32' }), null, { kvCache: cacheC }).logits.toTypedArray());
    });
    expect(decode).toEqual(Array.from(prefill));
    // the paged runner, positions fed in chunks of 1…9 (one chunk gives the logits of its last position)
    const cache = new PagedKVCache({ numBlocks: 8, blockSize: 16, nLayer: 2, nHead: 2, headDim: 8 });
    const runner = new GPTRunner(gpt, cache);
    const table = new BlockTable();
    for (let p = 0; p < T;) {
      const n = Math.min(T - p, 1 + Math.floor(rnd() * 9));
      cache.reserve(table, p + n);
      const [logits] = runner.forward([{ table, tokens: ids.slice(p, p + n), start: p, wantLogits: true }]);
      p += n;
      expect(Array.from(logits!)).toEqual(Array.from(prefill.subarray((p - 1) * 23, p * 23)));
    }
  });
});
