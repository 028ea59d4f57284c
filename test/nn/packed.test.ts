/**
 * Padding-free packed batches (BertInputs.cuSeqlens, nn/attention-mask.ts): the index math of
 * PackedBatch, its errors, and the models' results on a packed batch against each sequence alone
 * (the same bits for the hidden states and the pooler) and against a padded batch (loss and
 * gradients).
 */
import { describe, expect, it } from 'vitest';
import { BertConfig, BertForMaskedLM, BertForSequenceClassification, BertForTokenClassification, BertModel, PackedBatch } from '../../src/nn/bert.js';
import { manualSeed } from '../../src/tensor/random.js';
import { fromTypedArray, randn, tensor } from '../../src/tensor/creation.js';
import { noGrad } from '../../src/autograd/engine.js';
import type { Tensor } from '../../src/tensor/tensor.js';

const config = () => new BertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 12, numLabels: 3, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 });
// (at least 3 tokens, as any pipeline input: a product under 64 multiply-adds — here T·T·hs with
// hs = 8 — takes the CPU's float64 reference loop, so a 2-token sequence alone could round
// differently from the same sequence in a batch)
const SEQS = [[2, 5, 7, 9, 3], [2, 4, 3], [2, 11, 12, 13, 14, 15, 16, 17, 3], [2, 30, 3], [2, 8, 8, 8, 8, 8, 3]];
const cu = (seqs: number[][]) => seqs.reduce((a, s) => [...a, a[a.length - 1]! + s.length], [0]);
const packedIds = (seqs: number[][]) => fromTypedArray(Int32Array.from(seqs.flat()), [1, seqs.flat().length], { dtype: 'int32' }); // (1, N)
const alone = (s: number[]) => fromTypedArray(Int32Array.from(s), [1, s.length], { dtype: 'int32' }); // (1, T)
const rows = (t: Tensor) => Array.from(t.toTypedArray());
const sameBits = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('PackedBatch', () => {
  it('positions restart per sequence; pad/unpad round-trip; first tokens', () => {
    const p = new PackedBatch([0, 3, 5, 9]);
    expect(p.lengths).toEqual([3, 2, 4]);
    expect([p.numSequences, p.numTokens, p.maxLen]).toEqual([3, 9, 4]);
    expect(p.positionIds.toArray()).toEqual([[0, 1, 2, 0, 1, 0, 1, 2, 3]]);
    expect(p.attentionMask.toArray()).toEqual([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]);
    const x = tensor([[[0], [1], [2], [3], [4], [5], [6], [7], [8]]]); // (1, 9, 1): row r holds r
    const padded = p.pad(x); // (3, 4, 1)
    expect(padded.shape).toEqual([3, 4, 1]);
    // padded slots read the sequence's first row (a real, finite row: its key is masked)
    expect(padded.reshape([3, 4]).toArray()).toEqual([[0, 1, 2, 0], [3, 4, 3, 3], [5, 6, 7, 8]]);
    expect(p.unpad(padded).toArray()).toEqual(x.toArray());
    expect(p.firstTokens(x).reshape([3]).toArray()).toEqual([0, 3, 5]);
    const m = p.extendedMask.toArray() as number[][][][];
    expect(m[1]![0]![0]).toEqual([-0, -0, -3.4028234663852886e38, -3.4028234663852886e38]);
  });

  it('padHeads is pad + a split into heads, in one gather; unpadHeads undoes it', () => {
    const p = new PackedBatch([0, 3, 5, 9]);
    const x = randn([1, 9, 6]); // nh = 2 heads of hs = 3
    const viaPad = p.pad(x).reshape([3, 4, 2, 3]).permute(0, 2, 1, 3).contiguous(); // (B, nh, T_max, hs)
    expect(p.padHeads(x, 2).shape).toEqual([3, 2, 4, 3]);
    expect(p.padHeads(x, 2).toArray()).toEqual(viaPad.toArray());
    expect(p.unpadHeads(p.padHeads(x, 2)).toArray()).toEqual(x.toArray());
    expect(p.unpadHeads(p.padHeads(x, 3)).toArray()).toEqual(x.toArray()); // another head count: its own indices
    expect(() => p.padHeads(x, 4)).toThrow(/width 6 is not a multiple of nh = 4/);
    expect(() => p.unpadHeads(randn([3, 2, 5, 3]))).toThrow(/expected \(B=3, nh, T_max=4, hs\)/);
  });

  it('refuses malformed cuSeqlens, naming what is wrong', () => {
    expect(() => new PackedBatch([1, 3])).toThrow(/must start at 0, got 1/);
    expect(() => new PackedBatch([0, 3, 3])).toThrow(/strictly increasing.*got 3 after 3 at index 2/);
    expect(() => new PackedBatch([0, 2.5])).toThrow(/strictly increasing integers/);
    expect(() => new PackedBatch([0])).toThrow(/at least 2 integers/);
    expect(() => new PackedBatch([0, 20], { maxLen: 12 })).toThrow(/sequence 0 is 20 tokens long, more than the model's 12 positions/);
    const p = new PackedBatch([0, 2, 5]);
    expect(() => p.pad(randn([1, 4, 2]))).toThrow(/expected a packed \(1, N=5, D\) tensor, got \[1,4,2\]/);
    expect(() => p.unpad(randn([2, 2, 2]))).toThrow(/expected a padded \(B=2, T_max=3, D\) tensor/);
  });

  it('BertModel refuses cuSeqlens with an attention mask, a (B > 1, N) row or a wrong total', () => {
    manualSeed(0);
    const m = new BertModel(config());
    const ids = packedIds(SEQS);
    expect(() => m.forward({ inputIds: ids, cuSeqlens: cu(SEQS), attentionMask: tensor([SEQS.flat().map(() => 1)], { dtype: 'int32' }) })).toThrow(/attentionMask and cuSeqlens exclude each other/);
    expect(() => m.forward({ inputIds: tensor([[2, 3], [2, 3]], { dtype: 'int32' }), cuSeqlens: [0, 2] })).toThrow(/one packed row \(1, N\), got \[2,2\]/);
    expect(() => m.forward({ inputIds: ids, cuSeqlens: [0, 5, 7] })).toThrow(/must end at the packed length N = 27/);
    // each sequence must fit the positions, though the packed row is longer than the table
    expect(ids.shape[1]).toBeGreaterThan(12);
    expect(() => m.forward({ inputIds: packedIds([[...Array(13).keys()].map((i) => i + 2)]), cuSeqlens: [0, 13] })).toThrow(/13 tokens long, more than the model's 12 positions/);
  });
});

describe('BertModel on a packed batch', () => {
  it('each sequence gets the same bits as alone: hidden states and pooler (float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      manualSeed(1);
      const m = new BertModel(config(), { dtype });
      m.eval();
      noGrad(() => {
        const out = m.forward({ inputIds: packedIds(SEQS), cuSeqlens: cu(SEQS) });
        expect(out.lastHiddenState.shape).toEqual([1, 27, 16]);
        expect(out.poolerOutput!.shape).toEqual([5, 16]);
        const h = rows(out.lastHiddenState), pooled = rows(out.poolerOutput!);
        const c = cu(SEQS);
        SEQS.forEach((s, b) => {
          const one = m.forward({ inputIds: alone(s) });
          expect(sameBits(h.slice(c[b]! * 16, c[b + 1]! * 16), rows(one.lastHiddenState))).toBe(true);
          expect(sameBits(pooled.slice(b * 16, (b + 1) * 16), rows(one.poolerOutput!))).toBe(true);
        });
      });
    }
  });

  it('never takes the fused attention kernel (chosen by the whole batch\'s size): the same bits as alone even where it would be forced', () => {
    manualSeed(5);
    const m = new BertModel(config());
    m.eval();
    const prev = process.env.TENSORGRAD_FUSED_ATTENTION;
    process.env.TENSORGRAD_FUSED_ATTENTION = '1'; // the padded path would take the fused kernel for any size
    try {
      noGrad(() => {
        const h = rows(m.forward({ inputIds: packedIds(SEQS), cuSeqlens: cu(SEQS) }).lastHiddenState);
        const c = cu(SEQS);
        SEQS.forEach((s, b) => {
          const one = rows(m.forward({ inputIds: alone(s), cuSeqlens: [0, s.length] }).lastHiddenState); // a packed batch of one
          expect(sameBits(h.slice(c[b]! * 16, c[b + 1]! * 16), one)).toBe(true);
        });
      });
    } finally {
      if (prev === undefined) delete process.env.TENSORGRAD_FUSED_ATTENTION;
      else process.env.TENSORGRAD_FUSED_ATTENTION = prev;
    }
  });

  it('the heads: token logits (1, N, C), sequence logits (B, C), MLM (1, N, V), each as alone', () => {
    manualSeed(2);
    const tok = new BertForTokenClassification(config()), seq = new BertForSequenceClassification(config()), mlm = new BertForMaskedLM(config());
    const c = cu(SEQS);
    noGrad(() => {
      for (const [model, perToken, C] of [[tok, true, 3], [seq, false, 3], [mlm, true, 40]] as const) {
        model.eval();
        const logits = rows(model.forward({ inputIds: packedIds(SEQS), cuSeqlens: c }).logits);
        expect(logits.length).toBe(perToken ? 27 * C : 5 * C);
        SEQS.forEach((s, b) => {
          const one = rows(model.forward({ inputIds: alone(s) }).logits);
          const mine = perToken ? logits.slice(c[b]! * C, c[b + 1]! * C) : logits.slice(b * C, (b + 1) * C);
          // (a head's product may take another kernel at another size: equal to float32 rounding)
          mine.forEach((v, i) => expect(Math.abs(v - one[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(one[i]!))));
        });
      }
    });
  });

  it('training on a packed batch: the loss and every gradient match the padded batch', () => {
    manualSeed(3);
    const a = new BertForTokenClassification(config());
    const b = new BertForTokenClassification(config());
    b.loadStateDict(a.stateDict());
    const labels = SEQS.map((s) => s.map((_, t) => (t * 7 + s.length) % 3));
    // padded: (B, T_max) with −100 on the padding
    const T = Math.max(...SEQS.map((s) => s.length));
    const pad = (v: number[][], fill: number) => tensor(v.map((s) => [...s, ...Array(T - s.length).fill(fill)]), { dtype: 'int32' });
    const lp = a.forward({ inputIds: pad(SEQS, 0), attentionMask: pad(SEQS.map((s) => s.map(() => 1)), 0), labels: pad(labels, -100) }).loss!;
    const lk = b.forward({ inputIds: packedIds(SEQS), cuSeqlens: cu(SEQS), labels: packedIds(labels) }).loss!;
    expect(Math.abs(lk.item() - lp.item())).toBeLessThan(1e-6);
    lp.backward();
    lk.backward();
    const gb = new Map(b.namedParameters());
    let compared = 0;
    for (const [name, p] of a.namedParameters()) {
      const ga = rows(p.grad!), gk = rows(gb.get(name)!.grad!);
      const scale = Math.max(1e-3, ...ga.map(Math.abs));
      ga.forEach((v, i) => expect(Math.abs(v - gk[i]!) / scale, name).toBeLessThan(1e-4));
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('outputAttentions on a packed batch: (B, nh, T_max, T_max), padded keys get 0', () => {
    manualSeed(4);
    const m = new BertModel(config());
    m.eval();
    const out = noGrad(() => m.forward({ inputIds: packedIds(SEQS), cuSeqlens: cu(SEQS), outputAttentions: true }));
    expect(out.attentions!.length).toBe(2);
    expect(out.attentions![0]!.shape).toEqual([5, 2, 9, 9]);
    const p = out.attentions![0]!.toArray() as number[][][][];
    expect(p[1]![0]![0]!.slice(3)).toEqual(Array(6).fill(0)); // sequence 1 has 3 tokens
  });
});
