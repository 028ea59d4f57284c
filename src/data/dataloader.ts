/**
 * Datasets and batching, as torch.utils.data: a `Dataset` is anything with a length and an
 * indexer; a `DataLoader` cuts it into batches (seeded shuffling, `dropLast`) and collates each
 * batch — by default into tensors, or padding token sequences to the longest in the batch.
 */
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** Indexable data for a {@link DataLoader} (torch.utils.data.Dataset): `length` and `get(i)`. */
export interface Dataset<T> {
  /** Number of examples; valid indices are 0 … length − 1. */
  readonly length: number;
  /** The example at `index` (0 ≤ index < length). */
  get(index: number): T;
}

/**
 * A dataset over an array (`new ArrayDataset(items)`).
 * @example
 * ```ts
 * const ds = new data.ArrayDataset(['a', 'b', 'c']);
 * ds.length;                              // 3
 * ds.get(1);                              // 'b'
 * [...new data.DataLoader(ds, { batchSize: 2 })]; // [['a', 'b'], ['c']]
 * ```
 */
export class ArrayDataset<T> implements Dataset<T> {
  constructor(readonly items: readonly T[]) {}
  /** Number of items. */
  get length(): number {
    return this.items.length;
  }
  /**
   * The item at index `i`.
   * @throws RangeError when `i` is not an integer in [0, length).
   */
  get(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this.items.length) throw new RangeError(`ArrayDataset: index ${i} is out of range [0, ${this.items.length})`);
    return this.items[i]!;
  }
}

export type Collate<T, B> = (items: T[]) => B;

/** Options of {@link DataLoader}: batch size, shuffling with a seeded generator, dropLast and the collate function. */
export interface DataLoaderOptions<T, B> {
  /** Examples per batch (the last batch may be smaller unless `dropLast`). Default 1. */
  batchSize?: number;
  /** Reshuffle every epoch (each iteration) with `generator` (default: the global seeded one). */
  shuffle?: boolean;
  /** Drop the last incomplete batch. */
  dropLast?: boolean;
  /** Turns a batch's examples into what the loader yields (e.g. padCollate → int32 tensors). Default: the array of examples as is. */
  collate?: Collate<T, B>;
  /** Generator of the shuffling permutations. Default: the global seeded one (`manualSeed`). */
  generator?: Generator;
}

/**
 * Iterates a dataset in batches.
 * @example
 * const loader = new DataLoader(examples, { batchSize: 16, shuffle: true, collate: padCollate({ padTokenId: 0 }) });
 * for (const batch of loader) model.forward(batch);
 */
export class DataLoader<T, B = T[]> implements Iterable<B> {
  /** The examples (an array given to the constructor is wrapped in an ArrayDataset). */
  readonly dataset: Dataset<T>;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Whether each epoch (each iteration) draws a fresh permutation of the examples. */
  readonly shuffle: boolean;
  /** Whether the last incomplete batch is left out. */
  readonly dropLast: boolean;
  private readonly collate: Collate<T, B>;
  private readonly generator: Generator;

  constructor(dataset: Dataset<T> | readonly T[], opts: DataLoaderOptions<T, B> = {}) {
    this.dataset = Array.isArray(dataset) ? new ArrayDataset(dataset as readonly T[]) : (dataset as Dataset<T>);
    if (typeof this.dataset.length !== 'number' || typeof this.dataset.get !== 'function') {
      throw new Error('DataLoader: dataset must be an array or have `length` and `get(i)`');
    }
    this.batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0) throw new Error(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.collate = opts.collate ?? ((items: T[]) => items as unknown as B);
    this.generator = opts.generator ?? defaultGenerator;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.epochOrder();
    for (let i = 0; i < this.length; i++) yield this.batchAt(order, i);
  }

  /**
   * The example order of one epoch: a fresh permutation from the generator when shuffling (one
   * draw per epoch), else 0…n−1. With `batchAt`, what iterating does, in pieces that a training
   * loop can checkpoint and resume mid-epoch (src/train/loop.ts).
   */
  epochOrder(): number[] {
    const n = this.dataset.length;
    return this.shuffle ? this.generator.permutation(n) : Array.from({ length: n }, (_, i) => i);
  }

  /** Batch `i` (0 ≤ i < length) of an epoch whose example order is `order`, collated. */
  batchAt(order: readonly number[], i: number): B {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`DataLoader.batchAt: batch ${i} is out of range [0, ${this.length})`);
    const idx = order.slice(i * this.batchSize, (i + 1) * this.batchSize);
    return this.collate(idx.map((j) => this.dataset.get(j)));
  }
}

/** A tokenized example: integer sequences of equal length per example (inputIds, labels, …). */
export type SequenceExample = Record<string, number[] | number>;

/**
 * Collates tokenized examples into int32 tensors, padding every sequence field to the longest
 * in the batch: `labels` with `labelPadId` (−100, ignored by crossEntropy), `inputIds` with
 * `padTokenId`, everything else (attentionMask, tokenTypeIds) with 0. Scalar fields become (B).
 *
 * Shape: sequence fields → (B, Tmax); scalar fields → (B).
  * @example
  * ```ts
  * const collate = data.padCollate({ padTokenId: 0 });
  * const batch = collate([
  *   { inputIds: [2, 7, 3], attentionMask: [1, 1, 1], labels: [-100, 4, -100] },
  *   { inputIds: [2, 3], attentionMask: [1, 1], labels: [-100, -100] },
  * ]);
  * batch.inputIds.toArray();               // [[2, 7, 3], [2, 3, 0]]
  * batch.labels.toArray();                 // [[-100, 4, -100], [-100, -100, -100]]
  * ```
 */
export function padCollate(opts: { padTokenId?: number; labelPadId?: number; maxLength?: number } = {}) {
  const padTokenId = opts.padTokenId ?? 0;
  const labelPadId = opts.labelPadId ?? -100;
  return (items: SequenceExample[]): Record<string, Tensor> => {
    if (items.length === 0) throw new Error('padCollate: empty batch');
    const keys = Object.keys(items[0]!);
    const out: Record<string, Tensor> = {};
    for (const k of keys) {
      const vals = items.map((it, i) => {
        if (!(k in it)) throw new Error(`padCollate: example ${i} has no field '${k}' (example 0 has ${keys.join(', ')})`);
        return it[k]!;
      });
      if (typeof vals[0] === 'number') {
        out[k] = tensor(vals as number[], { dtype: 'int32' });
        continue;
      }
      const seqs = vals as number[][];
      let T = Math.max(...seqs.map((s) => s.length));
      if (opts.maxLength !== undefined) T = Math.min(T, opts.maxLength);
      const pad = k === 'labels' ? labelPadId : k === 'inputIds' ? padTokenId : 0;
      out[k] = tensor(seqs.map((s) => Array.from({ length: T }, (_, t) => (t < s.length ? s[t]! : pad))), { dtype: 'int32' });
    }
    return out;
  };
}
