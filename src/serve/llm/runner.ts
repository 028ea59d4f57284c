/**
 * The model runner of the serving engine: one forward pass of tensorgrad's GPT over a batch of
 * token chunks from different sequences — prefill chunks and single decode tokens together, as
 * Orca's selective batching (Yu et al. 2022, OSDI §4.2): the position-wise layers (embeddings,
 * LayerNorm, the Linear projections, the MLP) run once over all tokens of the step as one
 * (Ntok, C) matrix, attention runs per token over its own sequence's K/V through the block table
 * (PagedAttention, Kwon et al. 2023; kv-cache.ts).
 *
 * Exactness: the position-wise layers compute each row independently of the others (verified in
 * test/serve/llm/engine.test.ts) and attention is `attendRow`'s one reduction order, which
 * `GPT.generate`'s cached attention also uses; so a token's logits do not depend on the batch it
 * ran in, on prefill vs decode, or on chunking.
 */
import { noGrad } from '../../autograd/engine.js';
import type { GPT } from '../../nn/gpt.js';
import { fromTypedArray } from '../../tensor/creation.js';
import { tidy } from '../../tensor/scope.js';
import { pagedAttention, type BlockTable, type PagedKVCache } from './kv-cache.js';

/** A run of consecutive positions of one sequence. */
export interface RunChunk {
  /** The sequence's block table: where its positions' K/V live in the paged cache. */
  table: BlockTable;
  /** Token ids at positions start … start + tokens.length − 1. */
  tokens: readonly number[];
  /** Absolute position of the chunk's first token (the positions before it are already in the cache). */
  start: number;
  /** Return the logits of the chunk's last position. */
  wantLogits: boolean;
}

/**
 * Runs GPT forward over chunks whose block tables already have room (PagedKVCache.reserve),
 * writing their K/V into the pool.
 * @example
 * const runner = new GPTRunner(gpt, cache);
 * cache.reserve(table, 3);
 * const [logits] = runner.forward([{ table, tokens: [1, 2, 3], start: 0, wantLogits: true }]); // Float32Array(V)
 */
export class GPTRunner {
  constructor(readonly model: GPT, readonly cache: PagedKVCache) {
    const c = model.config;
    if (cache.nLayer !== c.nLayer || cache.nHead !== c.nHead || cache.headDim !== c.headDim) {
      throw new Error(`GPTRunner: the cache is (nLayer ${cache.nLayer}, nHead ${cache.nHead}, headDim ${cache.headDim}), the model (${c.nLayer}, ${c.nHead}, ${c.headDim})`);
    }
    if (model.training && c.dropout > 0) throw new Error('GPTRunner: the model is in training mode with dropout; call model.eval() first');
  }

  /** The logits (Float32Array of vocabSize) of each chunk with wantLogits, in chunk order. */
  forward(chunks: readonly RunChunk[]): Float32Array[] {
    const { nEmbd: C, blockSize, vocabSize: V } = this.model.config;
    let n = 0;
    for (const ch of chunks) {
      if (ch.tokens.length === 0) throw new Error('GPTRunner.forward: a chunk must hold at least one token');
      if (ch.start + ch.tokens.length > ch.table.length) {
        throw new Error(`GPTRunner.forward: positions up to ${ch.start + ch.tokens.length} are not reserved (the table holds ${ch.table.length})`);
      }
      if (ch.start + ch.tokens.length > blockSize) throw new Error(`GPTRunner.forward: position ${ch.start + ch.tokens.length - 1} is past the model's block size ${blockSize}`);
      n += ch.tokens.length;
    }
    if (n === 0) return [];
    const ids = new Int32Array(n);
    const pos = new Int32Array(n);
    const rowChunk = new Int32Array(n); // the chunk of each row
    let r = 0;
    chunks.forEach((ch, ci) => {
      ch.tokens.forEach((t, i) => {
        if (!Number.isInteger(t) || t < 0 || t >= V) throw new Error(`GPTRunner.forward: token ids must be integers in [0, ${V}), got ${t}`);
        ids[r] = t;
        pos[r] = ch.start + i;
        rowChunk[r++] = ci;
      });
    });
    const m = this.model;
    const cache = this.cache;
    const maxLen = Math.max(...chunks.map((ch) => ch.start + ch.tokens.length));
    const scratch = { offsets: new Int32Array(maxLen), scores: new Float64Array(maxLen) };
    return noGrad(() => tidy(() => {
      const tok = m.transformer.wte.forward(fromTypedArray(ids, [n], { dtype: 'int32' })); // (Ntok, C)
      const pe = m.transformer.wpe.forward(fromTypedArray(pos, [n], { dtype: 'int32' })); // (Ntok, C)
      let x = m.transformer.drop.forward(tok.add(pe));
      const y = new Float32Array(n * C);
      let layer = 0;
      for (const block of m.transformer.h) {
        const qkv = block.attn.c_attn.forward(block.ln_1.forward(x)).toTypedArray() as Float32Array; // (Ntok, 3C): q | k | v
        for (let i = 0; i < n; i++) cache.write(layer, chunks[rowChunk[i]!]!.table, pos[i]!, qkv, i * 3 * C + C, qkv, i * 3 * C + 2 * C);
        for (let i = 0; i < n; i++) pagedAttention(cache, layer, chunks[rowChunk[i]!]!.table, pos[i]! + 1, qkv, i * 3 * C, y, i * C, scratch);
        const attn = block.attn.resid_dropout.forward(block.attn.c_proj.forward(fromTypedArray(y, [n, C]))); // (Ntok, C)
        x = x.add(attn);
        x = x.add(block.mlp.forward(block.ln_2.forward(x)));
        layer++;
      }
      const h = m.transformer.ln_f.forward(x).toTypedArray() as Float32Array; // (Ntok, C)
      const want: number[] = [];
      let end = 0;
      for (const ch of chunks) {
        end += ch.tokens.length;
        if (ch.wantLogits) want.push(end - 1);
      }
      if (want.length === 0) return [];
      const sel = new Float32Array(want.length * C);
      want.forEach((row, i) => sel.set(h.subarray(row * C, row * C + C), i * C));
      const logits = m.lm_head.forward(fromTypedArray(sel, [want.length, C])).toTypedArray() as Float32Array; // (nWant, V)
      return want.map((_, i) => logits.slice(i * V, i * V + V));
    }));
  }
}
