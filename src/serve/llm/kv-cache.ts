/**
 * The paged key/value cache of PagedAttention (Kwon et al. 2023, "Efficient Memory Management
 * for Large Language Model Serving with PagedAttention", SOSP — the vLLM paper, §4.1–4.4).
 *
 * The K/V of every sequence live in fixed-size blocks of `blockSize` token slots (16, as vLLM)
 * taken from ONE pool allocated up front. A sequence owns a block table: logical block i (its
 * positions i·blockSize … (i+1)·blockSize − 1) → a physical block id. Memory waste is at most
 * blockSize − 1 slots per sequence (the last block's tail) instead of the (maxLen − len) of a
 * contiguous cache pre-allocated to the maximum length.
 *
 * Sharing (§4.4, parallel sampling): `fork` gives a new table the same physical blocks and bumps
 * their reference counts; the first write into a shared block copies it first (copy-on-write),
 * so the n samples of one request store their common prompt once.
 *
 * Layout of the pool, per layer: K and V are each Float32Array[numBlocks · blockSize · C],
 * C = nHead·headDim, slot s of block b at ((b·blockSize + s)·C); head h at + h·headDim.
 *
 * Attention reads K/V through the table with `pagedAttention`, which builds the per-position
 * offsets and calls the very kernel GPT's contiguous cached attention calls (nn/row-attention.ts):
 * the same reduction order, so the paged and contiguous paths agree bit for bit.
 */
import { attendRow } from '../../nn/row-attention.js';

/** Thrown by `allocate` when every block of the pool is in use (the engine then preempts). */
export class PoolExhaustedError extends Error {
  constructor(numBlocks: number) {
    super(`PagedKVCache: all ${numBlocks} blocks are in use`);
    this.name = 'PoolExhaustedError';
  }
}

/**
 * One sequence's block table: physical block ids in logical order, and the positions stored.
 * @example
 * ```ts
 * const cache = new serve.llm.PagedKVCache({ numBlocks: 4, blockSize: 16, nLayer: 1, nHead: 2, headDim: 4 });
 * const table = new serve.llm.BlockTable();
 * cache.reserve(table, 20);               // positions 0…19 need 2 blocks
 * table.blocks.length;                    // 2
 * ```
 */
export class BlockTable {
  /** blocks[i] holds positions i·blockSize … (i+1)·blockSize − 1. */
  blocks: number[] = [];
  /** Positions whose keys/values are written (0 … length − 1). */
  length = 0;
}

/** Options of {@link PagedKVCache}: the number of blocks in the pool, positions per block, and the model's layers, heads and head size. */
export interface PagedKVCacheOptions {
  /** Blocks in the pool (the whole K/V memory is allocated once: 2·nLayer·numBlocks·blockSize·C floats). */
  numBlocks: number;
  /** Token slots per block (default 16, as vLLM). */
  blockSize?: number;
  /** Number of model layers; each gets its own K and V arrays. */
  nLayer: number;
  /** Attention heads per layer. */
  nHead: number;
  /** Size of one head; a token's K (or V) row is nHead·headDim floats. */
  headDim: number;
}

/**
 * A pre-sized pool of K/V blocks with reference counts, and the block-table operations of
 * PagedAttention: append a slot (allocating or copy-on-writing a block), fork a table (sharing),
 * free a table.
 * @example
 * const cache = new PagedKVCache({ numBlocks: 8, blockSize: 16, nLayer: 2, nHead: 2, headDim: 8 });
 * const t = new BlockTable();
 * cache.reserve(t, 20);           // 2 blocks for positions 0…19
 * const s = cache.slot(t, 17);    // physical slot of position 17
 * cache.free(t);                  // both blocks back in the pool
 */
export class PagedKVCache {
  /** Blocks in the pool. */
  readonly numBlocks: number;
  /** Token slots per block (default 16). */
  readonly blockSize: number;
  /** Number of model layers. */
  readonly nLayer: number;
  /** Attention heads per layer. */
  readonly nHead: number;
  /** Size of one head. */
  readonly headDim: number;
  /** Width of one token's K (or V) across heads: nHead·headDim. */
  readonly width: number;
  /** Per layer: keys and values, (numBlocks·blockSize, width) row-major. */
  readonly k: Float32Array[];
  /** Per layer: values, (numBlocks·blockSize, width) row-major, slot for slot beside `k`. */
  readonly v: Float32Array[];
  private readonly refCount: Int32Array;
  /** Free block ids; popped from the end, so the lowest ids go first (deterministic). */
  private readonly freeList: number[];

  constructor(opts: PagedKVCacheOptions) {
    if (!opts || typeof opts !== 'object') throw new Error(`PagedKVCache: options { numBlocks, nLayer, nHead, headDim } are required, got ${String(opts)}`);
    const { numBlocks, blockSize = 16, nLayer, nHead, headDim } = opts;
    for (const [name, v] of [['numBlocks', numBlocks], ['blockSize', blockSize], ['nLayer', nLayer], ['nHead', nHead], ['headDim', headDim]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`PagedKVCache: ${name} must be a positive integer, got ${v}`);
    }
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.nLayer = nLayer;
    this.nHead = nHead;
    this.headDim = headDim;
    this.width = nHead * headDim;
    const n = numBlocks * blockSize * this.width;
    this.k = Array.from({ length: nLayer }, () => new Float32Array(n));
    this.v = Array.from({ length: nLayer }, () => new Float32Array(n));
    this.refCount = new Int32Array(numBlocks);
    this.freeList = Array.from({ length: numBlocks }, (_, i) => numBlocks - 1 - i);
  }

  /** Blocks currently free. */
  get numFree(): number {
    return this.freeList.length;
  }
  /** Blocks currently referenced by at least one table. */
  get numUsed(): number {
    return this.numBlocks - this.freeList.length;
  }
  /** Reference count of a physical block (0 = free). */
  refs(block: number): number {
    this.checkBlock(block);
    return this.refCount[block]!;
  }

  /** Takes one free block (reference count 1); throws PoolExhaustedError when none is left. */
  allocate(): number {
    const b = this.freeList.pop();
    if (b === undefined) throw new PoolExhaustedError(this.numBlocks);
    this.refCount[b] = 1;
    return b;
  }

  /** Drops one reference to `block`; at zero it returns to the pool. */
  release(block: number): void {
    this.checkBlock(block);
    if (this.refCount[block]! <= 0) throw new Error(`PagedKVCache.release: block ${block} is already free`);
    if (--this.refCount[block]! === 0) this.freeList.push(block);
  }

  /** Frees every block of a table (dropping its references) and empties it. */
  free(table: BlockTable): void {
    for (const b of table.blocks) this.release(b);
    table.blocks = [];
    table.length = 0;
  }

  /** A new table sharing all of `table`'s blocks (reference counts + 1): the n > 1 prompt prefix. */
  fork(table: BlockTable): BlockTable {
    const t = new BlockTable();
    for (const b of table.blocks) {
      this.refCount[b]!++;
      t.blocks.push(b);
    }
    t.length = table.length;
    return t;
  }

  /**
   * Free blocks that `reserve(table, newLength)` would take: new blocks past the table's end,
   * plus one copy-on-write copy when the write starts inside a shared block.
   */
  blocksNeeded(table: BlockTable, newLength: number): number {
    if (newLength <= table.length) return 0;
    const have = table.blocks.length;
    const need = Math.ceil(newLength / this.blockSize);
    const firstWriteBlock = Math.floor(table.length / this.blockSize);
    const cow = firstWriteBlock < have && this.refCount[table.blocks[firstWriteBlock]!]! > 1 ? 1 : 0;
    return Math.max(0, need - have) + cow;
  }

  /**
   * Makes room for positions table.length … newLength − 1: allocates the missing blocks and
   * copies a shared block that would be written (copy-on-write), then sets table.length =
   * newLength. All or nothing: throws PoolExhaustedError before changing anything when the pool
   * lacks `blocksNeeded` blocks.
   */
  reserve(table: BlockTable, newLength: number): void {
    if (!Number.isInteger(newLength) || newLength < 0) throw new Error(`PagedKVCache.reserve: newLength must be a non-negative integer, got ${newLength}`);
    if (newLength <= table.length) return;
    if (this.blocksNeeded(table, newLength) > this.numFree) throw new PoolExhaustedError(this.numBlocks);
    const firstWriteBlock = Math.floor(table.length / this.blockSize);
    if (firstWriteBlock < table.blocks.length) {
      const old = table.blocks[firstWriteBlock]!;
      if (this.refCount[old]! > 1) {
        // copy-on-write: this table gets a private copy of the shared block's filled slots
        const fresh = this.allocate();
        const n = this.blockSize * this.width;
        for (let l = 0; l < this.nLayer; l++) {
          this.k[l]!.copyWithin(fresh * n, old * n, old * n + n);
          this.v[l]!.copyWithin(fresh * n, old * n, old * n + n);
        }
        this.release(old);
        table.blocks[firstWriteBlock] = fresh;
      }
    }
    while (table.blocks.length * this.blockSize < newLength) table.blocks.push(this.allocate());
    table.length = newLength;
  }

  /** Physical slot index (row of k[l] / v[l]) of a position of the table. */
  slot(table: BlockTable, pos: number): number {
    if (!Number.isInteger(pos) || pos < 0 || pos >= table.length) throw new Error(`PagedKVCache.slot: pos must be an integer in [0, ${table.length}), got ${pos}`);
    return table.blocks[Math.floor(pos / this.blockSize)]! * this.blockSize + (pos % this.blockSize);
  }

  /** Writes one position's key and value rows (width floats each) for layer l. */
  write(layer: number, table: BlockTable, pos: number, kRow: Float32Array, kOff: number, vRow: Float32Array, vOff: number): void {
    const at = this.slot(table, pos) * this.width;
    const w = this.width;
    this.k[layer]!.set(kRow.subarray(kOff, kOff + w), at);
    this.v[layer]!.set(vRow.subarray(vOff, vOff + w), at);
  }

  /** Element offsets (into k[l] / v[l]) of positions 0 … n − 1 of a table, through its block table. */
  offsets(table: BlockTable, n: number, into?: Int32Array): Int32Array {
    if (n > table.length) throw new Error(`PagedKVCache.offsets: the table stores ${table.length} positions, asked for ${n}`);
    const out = into && into.length >= n ? into : new Int32Array(n);
    const bs = this.blockSize, w = this.width;
    for (let j = 0; j < n; j++) out[j] = (table.blocks[(j / bs) | 0]! * bs + (j % bs)) * w;
    return out;
  }

  private checkBlock(block: number): void {
    if (!Number.isInteger(block) || block < 0 || block >= this.numBlocks) throw new Error(`PagedKVCache: block must be an integer in [0, ${this.numBlocks}), got ${block}`);
  }
}

/**
 * PagedAttention (vLLM §4.1) for one query token of one sequence: every head of q attends to the
 * sequence's positions 0 … n − 1, whose K/V are read through the block table; the arithmetic is
 * `attendRow`'s, as GPT's contiguous cached attention.
 *
 * Shape: q[qOff … qOff+C) (C = nHead·headDim, heads side by side) → out[outOff … outOff+C).
 * @example
 * pagedAttention(cache, 0, table, 5, qRow, 0, outRow, 0); // the query at position 4
 */
export function pagedAttention(
  cache: PagedKVCache, layer: number, table: BlockTable, n: number,
  q: Float32Array, qOff: number, out: Float32Array, outOff: number,
  scratch: { offsets?: Int32Array; scores?: Float64Array } = {},
): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= cache.nLayer) throw new Error(`pagedAttention: layer must be in [0, ${cache.nLayer}), got ${layer}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`pagedAttention: n (positions attended) must be a positive integer, got ${n}`);
  const offsets = cache.offsets(table, n, scratch.offsets);
  const scores = scratch.scores && scratch.scores.length >= n ? scratch.scores : new Float64Array(n);
  const hs = cache.headDim;
  for (let h = 0; h < cache.nHead; h++) {
    attendRow(q, qOff + h * hs, hs, n, cache.k[layer]!, cache.v[layer]!, offsets, h * hs, out, outOff + h * hs, scores);
  }
}
