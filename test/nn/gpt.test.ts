/**
 * GPT (src/nn/gpt.ts): nanoGPT parameter names and init, the tied lm_head, causality, the
 * loss, learning on a toy sequence, generation (seeded sampling, greedy, top-k) and the
 * key/value cache against recomputing the full forward each step, HF GPT-2 checkpoint loading,
 * and the errors; a golden comparison with an independent NumPy reference
 * (fixtures/gen_gpt_reference.py) and a directional-derivative check of the loss gradient.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { manualSeed, nn, noGrad, randint, randnLike, tensor, Tensor } from '../../src/index.js';
import { errorOf, expectClose, expectEqual, fixtureTensor, type FixtureTensor } from '../helpers.js';

const ids = (rows: number[][]): Tensor => tensor(rows, { dtype: 'int32' });

function tinyConfig(over: Partial<nn.GPTConfig> = {}): nn.GPTConfig {
  return new nn.GPTConfig({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, ...over });
}

function tinyGPT(seed = 0, over: Partial<nn.GPTConfig> = {}, dtype: 'float32' | 'float64' = 'float64'): nn.GPT {
  manualSeed(seed);
  return new nn.GPT(tinyConfig(over), { dtype }).eval();
}

/** The logits of the last position of a full (uncached) forward: (B, V). */
function lastLogits(model: nn.GPT, seq: Tensor): Tensor {
  return noGrad(() => {
    const { logits } = model.forward(seq);
    return logits.select(1, seq.shape[1]! - 1);
  });
}

/** Sample standard deviation of a tensor's elements. */
function stdOf(t: Tensor): number {
  const a = Array.from(t.toTypedArray() as ArrayLike<number>);
  const m = a.reduce((s, x) => s + x, 0) / a.length;
  return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1));
}

describe('GPT: structure as nanoGPT', () => {
  it('has nanoGPT parameter names in nanoGPT order, lm_head deduplicated but in the state dict', () => {
    const m = tinyGPT();
    const perBlock = (i: number) => [
      'ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
      'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias',
    ].map((n) => `transformer.h.${i}.${n}`);
    const expected = ['transformer.wte.weight', 'transformer.wpe.weight', ...perBlock(0), ...perBlock(1), 'transformer.ln_f.weight', 'transformer.ln_f.bias'];
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(expected);
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual([...expected, 'lm_head.weight']);
    const shapes = Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, [...t.shape]]));
    expect(shapes['transformer.h.0.attn.c_attn.weight']).toEqual([24, 8]); // fused q, k, v: (3·nEmbd, nEmbd)
    expect(shapes['transformer.h.1.mlp.c_fc.weight']).toEqual([32, 8]); // (4·nEmbd, nEmbd)
    expect(shapes['transformer.h.1.mlp.c_proj.weight']).toEqual([8, 32]);
    expect(shapes['transformer.wpe.weight']).toEqual([8, 8]); // (blockSize, nEmbd)
    expect(shapes['lm_head.weight']).toEqual([11, 8]);
  });

  it('bias: false drops every Linear and LayerNorm bias', () => {
    const m = tinyGPT(0, { bias: false });
    const names = [...m.namedParameters()].map(([k]) => k);
    expect(names.filter((k) => k.endsWith('.bias'))).toEqual([]);
    expect(names).toContain('transformer.h.0.ln_1.weight');
    expect(m.transformer.h.at(0).attn.c_attn.bias).toBeNull();
  });

  it('initialises as nanoGPT: N(0, 0.02), c_proj N(0, 0.02/√(2·nLayer)), zero biases, unit LayerNorm', () => {
    manualSeed(3);
    const nLayer = 4;
    const m = new nn.GPT(new nn.GPTConfig({ vocabSize: 300, blockSize: 64, nLayer, nHead: 4, nEmbd: 64 }));
    const p = Object.fromEntries(m.namedParameters());
    const residualStd = 0.02 / Math.sqrt(2 * nLayer);
    // 4096–16384 samples each: the sample std is within ~2% of σ (5σ bound ≈ 5/√(2n))
    for (const k of ['transformer.h.0.attn.c_proj.weight', 'transformer.h.3.mlp.c_proj.weight']) {
      expect(Math.abs(stdOf(p[k]!) / residualStd - 1), k).toBeLessThan(0.06);
    }
    for (const k of ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.2.attn.c_attn.weight', 'transformer.h.1.mlp.c_fc.weight']) {
      expect(Math.abs(stdOf(p[k]!) / 0.02 - 1), k).toBeLessThan(0.06);
    }
    for (const [k, t] of Object.entries(p)) {
      if (k.endsWith('.bias')) expectEqual(t, new Float32Array(t.numel()), k);
      if (/ln_\d\.weight$|ln_f\.weight$/.test(k)) expectEqual(t, new Float32Array(t.numel()).fill(1), k);
    }
  });

  it('ties lm_head.weight to transformer.wte.weight (same Parameter, also after to(float64)), and both uses feed its gradient', () => {
    manualSeed(1);
    const m = new nn.GPT(tinyConfig());
    expect(m.lm_head.weight).toBe(m.transformer.wte.weight);
    m.to('float64');
    expect(m.lm_head.weight).toBe(m.transformer.wte.weight);
    expect(m.lm_head.weight.dtype).toBe('float64');
    expect(m.transformer.h.at(0)).toBe((m.transformer.h as unknown as Record<string, nn.GPTBlock>)['0']);
    // the tied weight's gradient is the embedding's plus the output projection's
    const x = ids([[1, 2, 3]]);
    const y = ids([[2, 3, 4]]);
    m.forward(x, y).loss!.backward();
    const gTied = m.transformer.wte.weight.grad!;
    // untie: with a separate copy of the weight in lm_head, the embedding gets only its own part
    manualSeed(1);
    const u = new nn.GPT(tinyConfig()).to('float64');
    u.lm_head.weight = new nn.Parameter(u.transformer.wte.weight.detach().clone());
    u.forward(x, y).loss!.backward();
    const sum = u.transformer.wte.weight.grad!.add(u.lm_head.weight.grad!);
    expectClose(sum, gTied, { rtol: 1e-12, atol: 1e-15, what: 'tied grad = embedding grad + lm_head grad' });
    expect(m.numParameters()).toBe(u.numParameters() - u.lm_head.weight.numel());
  });

  it('prints as a nanoGPT-shaped module tree', () => {
    const text = tinyGPT().toString();
    expect(text.split('\n').slice(0, 6)).toEqual([
      'GPT(',
      '  (transformer): GPTTransformer(',
      '    (wte): Embedding(11, 8)',
      '    (wpe): Embedding(8, 8)',
      '    (drop): Dropout(p=0)',
      '    (h): ModuleList(',
    ]);
    expect(text).toContain('(attn): CausalSelfAttention(\n          nEmbd=8, nHead=2\n          (c_attn): Linear(inFeatures=8, outFeatures=24, bias=true)');
    expect(text.trimEnd().endsWith('(lm_head): Linear(inFeatures=8, outFeatures=11, bias=false)\n)')).toBe(true);
  });

  it('getNumParams excludes the position embeddings by default (nanoGPT)', () => {
    const m = tinyGPT();
    const C = 8, V = 11, Tb = 8, L = 2;
    const perBlock = 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C);
    const total = V * C + Tb * C + L * perBlock + 2 * C;
    expect(m.numParameters()).toBe(total);
    expect(m.getNumParams(false)).toBe(total);
    expect(m.getNumParams()).toBe(total - Tb * C);
  });
});

describe('GPT: forward', () => {
  it('returns logits (B, T, V) and no loss without targets', () => {
    const m = tinyGPT();
    const out = m.forward(ids([[1, 2, 3, 4], [5, 6, 7, 8]]));
    expect(out.logits.shape).toEqual([2, 4, 11]);
    expect(out.loss).toBeUndefined();
  });

  it('is causal: changing token t changes logits at t… but not before t', () => {
    const m = tinyGPT(2);
    const a = ids([[1, 2, 3, 4, 5, 6]]);
    const b = ids([[1, 2, 3, 9, 5, 6]]); // position 3 differs
    const la = m.forward(a).logits, lb = m.forward(b).logits;
    expectEqual(lb.slice(1, 0, 3), la.slice(1, 0, 3), 'logits before the changed token');
    for (let t = 3; t < 6; t++) {
      const diff = la.select(1, t).sub(lb.select(1, t)).abs().max().item();
      expect(diff, `logits at position ${t} must depend on token 3`).toBeGreaterThan(1e-6);
    }
  });

  it('loss is the mean cross-entropy over non −100 targets, ≈ ln V at init', () => {
    const m = tinyGPT(4);
    const x = ids([[1, 2, 3, 4], [4, 3, 2, 1]]);
    const y = ids([[2, 3, -100, 5], [3, -100, -100, 0]]);
    const { logits, loss } = m.forward(x, y);
    const lp = logits.logSoftmax(-1).toArray() as number[][][];
    const yy = y.toArray() as number[][];
    let s = 0, n = 0;
    for (let b = 0; b < 2; b++) for (let t = 0; t < 4; t++) if (yy[b]![t] !== -100) { s -= lp[b]![t]![yy[b]![t]!]!; n++; }
    expectClose(loss!, s / n, { rtol: 1e-12, what: 'loss' });
    // small init ⇒ near-uniform predictions
    expect(Math.abs(loss!.item() - Math.log(11))).toBeLessThan(0.1);
  });

  it('gradients reach every parameter', () => {
    const m = tinyGPT(5);
    m.forward(ids([[1, 2, 3, 4, 5]]), ids([[2, 3, 4, 5, 6]])).loss!.backward();
    for (const [k, p] of m.namedParameters()) {
      expect(p.grad, `${k} has no grad`).not.toBeNull();
      expect(p.grad!.abs().sum().item(), `${k} grad is zero`).toBeGreaterThan(0);
    }
  });

  it('dropout is active in train mode and off in eval mode', () => {
    const m = tinyGPT(6, { dropout: 0.5 });
    const x = ids([[1, 2, 3, 4]]);
    const e1 = m.eval().forward(x).logits, e2 = m.forward(x).logits;
    expectEqual(e1, e2, 'eval forward is deterministic');
    const t1 = m.train().forward(x).logits;
    expect(t1.sub(e1).abs().max().item()).toBeGreaterThan(1e-6);
  });

  it('learns a tiny repeated sequence: the loss falls below half of its start within 40 SGD steps', () => {
    manualSeed(7);
    const V = 8;
    const m = new nn.GPT(new nn.GPTConfig({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 }));
    // the cyclic sequence 0 1 … 7 0 1 …, in 4 windows at different phases; targets are shifted by one
    const B = 4, T = 12;
    const x = ids(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b + i) % V)));
    const y = ids(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b + i + 1) % V)));
    const lr = 0.3;
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      m.zeroGrad();
      const { loss } = m.forward(x, y);
      losses.push(loss!.item());
      loss!.backward();
      noGrad(() => {
        for (const p of m.parameters()) p.sub_(p.grad!.mul(lr)); // plain SGD: p ← p − lr·∇p
      });
    }
    expect(losses[0]!).toBeGreaterThan(1.5);
    expect(losses.at(-1)!, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.5 * losses[0]!);
    // and greedy generation continues the cycle
    const out = m.eval().generate(ids([[2, 3, 4]]), { maxNewTokens: 6, temperature: 0 });
    expect(out.toArray()).toEqual([[2, 3, 4, 5, 6, 7, 0, 1, 2]]);
  });
});

describe('GPT: generation and the key/value cache', () => {
  // Exact (bitwise) equality holds because every row of a matmul, softmax and LayerNorm is
  // computed by the same arithmetic in the same order whatever the number of rows, and masked
  // scores contribute exp(−∞) = 0 exactly. A backend whose GEMM changes its accumulation order
  // with the matrix size would break this and should relax these three checks to ~1e-12.
  it('greedy generation with the cache gives the same tokens and logits as recomputing the full forward each step', () => {
    const m = tinyGPT(8);
    const prompt = ids([[1, 2, 3], [7, 0, 5]]);
    const cachedLogits: Tensor[] = [];
    const out = m.generate(prompt, { maxNewTokens: 4, temperature: 0, onStep: (_s, l) => cachedLogits.push(l) });
    expect(out.shape).toEqual([2, 7]);
    // reference: the full forward over the sequence so far, last position, then argmax
    let seq = prompt;
    for (let step = 0; step < 4; step++) {
      const ref = lastLogits(m, seq);
      expectClose(cachedLogits[step]!, ref, { rtol: 0, atol: 0, what: `logits at step ${step}` });
      const next = ref.argmax(-1, true);
      expectEqual(out.slice(1, 3 + step, 4 + step), next, `token at step ${step}`);
      seq = out.slice(1, 0, 4 + step).contiguous();
    }
    const noCache = m.generate(prompt, { maxNewTokens: 4, temperature: 0, useCache: false });
    expectEqual(out, noCache, 'cache vs no cache');
  });

  it('past blockSize the context is cropped to the last blockSize tokens (cache falls back to recomputing)', () => {
    const m = tinyGPT(9); // blockSize 8
    const prompt = ids([[1, 2, 3, 4, 5, 6]]);
    const logits: Tensor[] = [];
    const out = m.generate(prompt, { maxNewTokens: 6, temperature: 0, onStep: (_s, l) => logits.push(l) });
    expect(out.shape).toEqual([1, 12]);
    for (let step = 0; step < 6; step++) {
      const T = 6 + step;
      const window = out.slice(1, Math.max(0, T - 8), T).contiguous(); // what nanoGPT feeds: idx[:, -blockSize:]
      expectClose(logits[step]!, lastLogits(m, window), { rtol: 0, atol: 0, what: `logits at step ${step} (T = ${T})` });
    }
    expectEqual(out, m.generate(prompt, { maxNewTokens: 6, temperature: 0, useCache: false }), 'cache vs no cache');
    // a prompt that is already longer than blockSize is cropped too
    const long = ids([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
    const o2 = m.generate(long, { maxNewTokens: 1, temperature: 0 });
    expectEqual(o2.slice(1, 10, 11), lastLogits(m, long.slice(1, 2, 10).contiguous()).argmax(-1, true), 'cropped long prompt');
  });

  it('forward with a KV cache fed in chunks (3, then 2, then 1 tokens) equals the full forward', () => {
    const m = tinyGPT(10);
    const seq = ids([[3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8]]);
    const full = m.forward(seq).logits; // (2, 6, V)
    const cache = m.newCache();
    const parts: Tensor[] = [];
    for (const [s, e] of [[0, 3], [3, 5], [5, 6]] as const) {
      parts.push(m.forward(seq.slice(1, s, e).contiguous(), null, { kvCache: cache }).logits);
      expect(cache.length).toBe(e);
    }
    parts.forEach((p, i) => {
      const [s, e] = [[0, 3], [3, 5], [5, 6]][i]!;
      expectClose(p, full.slice(1, s!, e!), { rtol: 0, atol: 0, what: `chunk ${i}` });
    });
    // a cache that would exceed blockSize is an error
    expect(errorOf(() => m.forward(ids([[1, 2, 3], [1, 2, 3]]), null, { kvCache: cache }))).toMatch(/length 9 \(6 cached \+ 3 new\), block size is only 8/);
    expect(errorOf(() => m.forward(ids([[1]]), null, { kvCache: cache }))).toMatch(/cache holds a batch of 2, got idx batch 1/);
    cache.reset();
    expect(cache.length).toBe(0);
  });

  it('seeded sampling is reproducible, and the cache does not change what is sampled', () => {
    const m = tinyGPT(11);
    const prompt = ids([[1, 2], [3, 4]]);
    const a = m.generate(prompt, { maxNewTokens: 10, temperature: 1.5, seed: 42 });
    const b = m.generate(prompt, { maxNewTokens: 10, temperature: 1.5, seed: 42 });
    const c = m.generate(prompt, { maxNewTokens: 10, temperature: 1.5, seed: 42, useCache: false });
    const d = m.generate(prompt, { maxNewTokens: 10, temperature: 1.5, seed: 43 });
    expectEqual(a, b, 'same seed');
    expectEqual(a, c, 'same seed, no cache');
    expect(a.equal(d), 'a different seed gives a different sample').toBe(false);
    // seed reseeds the default generator: manualSeed then no seed is the same stream
    manualSeed(42);
    expectEqual(m.generate(prompt, { maxNewTokens: 10, temperature: 1.5 }), a, 'manualSeed(42) then generate');
  });

  it('topK restricts sampling to the k largest logits; topK 1 and temperature 0 are greedy', () => {
    const m = tinyGPT(12);
    const prompt = ids([[5, 6, 7]]);
    const seen = new Set<number>();
    for (let seed = 0; seed < 8; seed++) {
      m.generate(prompt, {
        maxNewTokens: 5, temperature: 2, topK: 2, seed, onStep: (_s, logits, next) => {
          const row = Array.from(logits.toTypedArray() as Float64Array);
          const sorted = [...row].sort((p, q) => q - p);
          const tok = next.item();
          seen.add(tok);
          expect(row[tok]!, `token ${tok} is not among the top 2`).toBeGreaterThanOrEqual(sorted[1]!);
        },
      });
    }
    expect(seen.size, 'sampling explores more than one token').toBeGreaterThan(1);
    const greedy = m.generate(prompt, { maxNewTokens: 5, temperature: 0 });
    expectEqual(m.generate(prompt, { maxNewTokens: 5, temperature: 1, topK: 1, seed: 3 }), greedy, 'topK 1');
    expectEqual(m.generate(prompt, { maxNewTokens: 5, temperature: 1e-6, seed: 4 }), greedy, 'near-zero temperature');
  });

  it('sampling frequencies follow softmax(logits / temperature)', () => {
    // a tiny model with a single-token prompt: estimate P(next | prompt) from 4000 draws
    const m = tinyGPT(13, { vocabSize: 4 });
    const prompt = ids([[1]]);
    const logits = lastLogits(m, prompt).mul(3); // make the distribution less flat: temperature 1/3
    const p = Array.from(logits.softmax(-1).toTypedArray() as Float64Array);
    const counts = [0, 0, 0, 0];
    const N = 4000;
    const batch = ids(Array.from({ length: N }, () => [1]));
    const out = m.generate(batch, { maxNewTokens: 1, temperature: 1 / 3, seed: 5 });
    for (const t of out.slice(1, 1, 2).toTypedArray()) counts[t as number]!++;
    for (let j = 0; j < 4; j++) {
      const sd = Math.sqrt((p[j]! * (1 - p[j]!)) / N);
      expect(Math.abs(counts[j]! / N - p[j]!), `token ${j}: freq ${counts[j]! / N}, p ${p[j]}`).toBeLessThan(5 * sd + 1e-9);
    }
  });

  it('runs under noGrad and maxNewTokens 0 returns the prompt', () => {
    const m = tinyGPT(14);
    const prompt = ids([[1, 2]]);
    expectEqual(m.generate(prompt, { maxNewTokens: 0 }), prompt, 'no new tokens');
    let saw = false;
    m.generate(prompt, { maxNewTokens: 2, temperature: 0, onStep: (_s, l) => { saw = true; expect(l.requiresGrad).toBe(false); } });
    expect(saw).toBe(true);
  });

  it('random prompts: cache and no-cache greedy generations agree (batch 3, crossing blockSize)', () => {
    const m = tinyGPT(30);
    manualSeed(31);
    for (let trial = 0; trial < 3; trial++) {
      const prompt = randint(0, 11, [3, 1 + trial * 3], { dtype: 'int32' });
      const a = m.generate(prompt, { maxNewTokens: 9, temperature: 0 });
      const b = m.generate(prompt, { maxNewTokens: 9, temperature: 0, useCache: false });
      expectEqual(a, b, `trial ${trial}`);
    }
  });
});

describe('GPT: loading checkpoints', () => {
  /** A HuggingFace GPT2Model-style state dict from a model: no prefix, Conv1D (in, out), mask buffers, no lm_head. */
  function toHF(m: nn.GPT): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(m.stateDict())) {
      if (k === 'lm_head.weight') continue;
      const name = k.replace(/^transformer\./, '');
      sd[name] = /(c_attn|c_proj|c_fc)\.weight$/.test(k) ? t.transpose(0, 1).contiguous() : t.clone();
    }
    for (let i = 0; i < m.config.nLayer; i++) {
      sd[`h.${i}.attn.bias`] = tensor([[[[1]]]]);
      sd[`h.${i}.attn.masked_bias`] = tensor(-1e4);
    }
    return sd;
  }

  it('loadPretrained reads a HuggingFace GPT-2 layout (Conv1D transposed, no prefix, tied lm_head)', () => {
    const src = tinyGPT(20);
    const dst = tinyGPT(21);
    const x = ids([[1, 2, 3, 4]]);
    expect(dst.forward(x).logits.equal(src.forward(x).logits)).toBe(false);
    dst.loadPretrained(toHF(src));
    expectEqual(dst.forward(x).logits, src.forward(x).logits, 'logits after loading');
    expect(dst.lm_head.weight).toBe(dst.transformer.wte.weight);
  });

  it('loadStateDict round-trips a nanoGPT state dict; loadPretrained reports missing and mismatched keys', () => {
    const src = tinyGPT(22);
    const dst = tinyGPT(23);
    dst.loadStateDict(src.stateDict());
    const x = ids([[4, 3, 2]]);
    expectEqual(dst.forward(x).logits, src.forward(x).logits, 'after loadStateDict');
    const hf = toHF(src);
    delete hf['h.1.mlp.c_fc.bias'];
    hf['h.0.ln_1.weight'] = tensor([1, 2, 3]);
    const msg = errorOf(() => dst.loadPretrained(hf));
    expect(msg).toMatch(/Missing key\(s\).*"transformer\.h\.1\.mlp\.c_fc\.bias"/);
    expect(msg).toMatch(/transformer\.h\.0\.ln_1\.weight: copying a param with shape \[3\]/);
  });
});

describe('GPT: errors', () => {
  it('rejects bad configs, naming the field and the value', () => {
    expect(errorOf(() => new nn.GPTConfig({ nEmbd: 10, nHead: 4 }))).toMatch(/nEmbd \(10\) must be divisible by nHead \(4\)/);
    expect(errorOf(() => new nn.GPTConfig({ nLayer: 0 }))).toMatch(/nLayer must be a positive integer, got 0/);
    expect(errorOf(() => new nn.GPTConfig({ blockSize: 2.5 }))).toMatch(/blockSize must be a positive integer, got 2.5/);
    expect(errorOf(() => new nn.GPTConfig({ dropout: 1.5 }))).toMatch(/dropout must be a number in \[0, 1\], got 1.5/);
    expect(errorOf(() => new nn.GPTConfig({ nEmb: 8 } as unknown as Partial<nn.GPTConfig>))).toMatch(/unknown option 'nEmb'/);
    expect(errorOf(() => new nn.GPT({ vocabSize: 3 } as unknown as nn.GPTConfig))).toMatch(/expected a GPTConfig/);
  });

  it('defaults are nanoGPT GPT-2 124M', () => {
    const c = new nn.GPTConfig();
    expect([c.vocabSize, c.blockSize, c.nLayer, c.nHead, c.nEmbd, c.dropout, c.bias]).toEqual([50304, 1024, 12, 12, 768, 0, true]);
    expect(c.headDim).toBe(64);
  });

  it('rejects sequences longer than blockSize and badly typed inputs', () => {
    const m = tinyGPT();
    expect(errorOf(() => m.forward(ids([[0, 1, 2, 3, 4, 5, 6, 7, 8]])))).toMatch(/sequence of length 9, block size is only 8/);
    expect(errorOf(() => m.forward(tensor([[1, 2]])))).toMatch(/idx must be an int32 tensor of shape \(B, T\), got float32 \[1,2\]/);
    expect(errorOf(() => m.forward(ids([[1, 2]]).reshape([2])))).toMatch(/got int32 \[2\]/);
    expect(errorOf(() => m.forward(ids([[1, 2]]), ids([[1, 2, 3]])))).toMatch(/targets must be an int32 tensor of idx's shape \[1,2\].*got int32 \[1,3\]/);
    expect(errorOf(() => m.forward(ids([[1, 11]])))).toMatch(/11/);
    expect(errorOf(() => m.forward(ids([[1, 2]]), ids([[1, 12]])))).toMatch(/target 12 is out of bounds at position \[1\]/);
  });

  it('the blocks reject inputs of the wrong width', () => {
    const m = tinyGPT();
    expect(errorOf(() => m.transformer.h.at(0).attn.forward(randnLike(tensor([[[1, 2, 3]]], { dtype: 'float64' }))))).toMatch(/input must be \(B, T, nEmbd = 8\), got \[1,1,3\]/);
  });

  it('rejects bad generate options', () => {
    const m = tinyGPT();
    const p = ids([[1]]);
    expect(errorOf(() => m.generate(p, { maxNewTokens: -1 }))).toMatch(/maxNewTokens must be a non-negative integer, got -1/);
    expect(errorOf(() => m.generate(p, { maxNewTokens: 1, temperature: -1 }))).toMatch(/temperature must be a finite number ≥ 0.*got -1/);
    expect(errorOf(() => m.generate(p, { maxNewTokens: 1, topK: 0 }))).toMatch(/topK must be a positive integer or null, got 0/);
    expect(errorOf(() => m.generate(tensor([[1]]), { maxNewTokens: 1 }))).toMatch(/idx must be a non-empty int32 tensor/);
  });

});

interface GPTReference {
  config: { vocabSize: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number; bias: boolean };
  state_dict: Record<string, FixtureTensor>;
  idx: FixtureTensor;
  targets: FixtureTensor;
  logits: FixtureTensor;
  loss: FixtureTensor;
  greedy: { prompt: FixtureTensor; max_new_tokens: number; out: FixtureTensor };
}

describe('GPT vs an independent NumPy reference (fixtures/gpt_reference.json)', () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/gpt_reference.json', import.meta.url), 'utf8')) as GPTReference;
  function load(): nn.GPT {
    const m = new nn.GPT(new nn.GPTConfig(ref.config), { dtype: 'float64' }).eval();
    m.loadStateDict(Object.fromEntries(Object.entries(ref.state_dict).map(([k, v]) => [k, fixtureTensor(v, { name: k })])));
    return m;
  }

  it('the reference has exactly our parameter names and shapes', () => {
    const own = Object.fromEntries(Object.entries(new nn.GPT(new nn.GPTConfig(ref.config)).stateDict()).map(([k, t]) => [k, [...t.shape]]));
    expect(Object.fromEntries(Object.entries(ref.state_dict).map(([k, t]) => [k, t.shape]))).toEqual(own);
  });

  it('logits and loss match', () => {
    const m = load();
    const { logits, loss } = m.forward(fixtureTensor(ref.idx), fixtureTensor(ref.targets));
    expectClose(logits, fixtureTensor(ref.logits), { rtol: 1e-10, atol: 1e-12, what: 'logits' });
    expectClose(loss!, fixtureTensor(ref.loss), { rtol: 1e-12, atol: 0, what: 'loss' });
  });

  it('greedy generation (with the KV cache, crossing blockSize) gives the reference tokens', () => {
    const m = load();
    const out = m.generate(fixtureTensor(ref.greedy.prompt), { maxNewTokens: ref.greedy.max_new_tokens, temperature: 0 });
    expectEqual(out, fixtureTensor(ref.greedy.out), 'generated tokens');
  });
});

describe('GPT loss gradient', () => {
  it('matches the central-difference derivative along random directions in parameter space (float64)', () => {
    const m = tinyGPT(40, { dropout: 0 });
    const x = ids([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]]);
    const y = ids([[2, 3, 4, 5, 6, -100], [5, 4, 3, 2, 1, 0]]);
    const params = m.parameters();
    m.forward(x, y).loss!.backward();
    const lossAt = () => noGrad(() => m.forward(x, y).loss!.item());
    const eps = 1e-6;
    for (let rep = 0; rep < 3; rep++) {
      const dirs = params.map((p) => randnLike(p)); // one random direction v over all parameters
      // ⟨∇L, v⟩ from backward vs (L(θ + εv) − L(θ − εv)) / 2ε
      const analytic = params.reduce((s, p, i) => s + p.grad!.mul(dirs[i]!).sum().item(), 0);
      const shift = (sgn: number) => noGrad(() => params.forEach((p, i) => p.add_(dirs[i]!.mul(sgn * eps))));
      shift(1);
      const up = lossAt();
      shift(-2);
      const down = lossAt();
      shift(1);
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(analytic - numeric), `direction ${rep}: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(numeric));
    }
  });
});
