import { describe, expect, it } from 'vitest';
import { Generator, manualSeed } from '../../src/index.js';
import { ArrayDataset, DataLoader, padCollate } from '../../src/data/dataloader.js';

describe('DataLoader', () => {
  const items = Array.from({ length: 10 }, (_, i) => i);

  it('batches in order, with and without dropLast', () => {
    expect([...new DataLoader(items, { batchSize: 4 })]).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect([...new DataLoader(items, { batchSize: 4, dropLast: true })]).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(items, { batchSize: 4 }).length).toBe(3);
    expect(new DataLoader(items, { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('shuffles reproducibly under manualSeed and differently each epoch', () => {
    manualSeed(1);
    const l = new DataLoader(items, { batchSize: 10, shuffle: true });
    const e1 = [...l][0]!;
    const e2 = [...l][0]!;
    manualSeed(1);
    const l2 = new DataLoader(items, { batchSize: 10, shuffle: true });
    expect([...l2][0]).toEqual(e1);
    expect(e2).not.toEqual(e1);
    expect([...e1].sort((a, b) => a - b)).toEqual(items);
  });

  it('uses an explicit generator', () => {
    const a = [...new DataLoader(items, { batchSize: 10, shuffle: true, generator: new Generator(7) })][0];
    const b = [...new DataLoader(items, { batchSize: 10, shuffle: true, generator: new Generator(7) })][0];
    expect(a).toEqual(b);
  });

  it('padCollate pads sequences to the longest in the batch', () => {
    const c = padCollate({ padTokenId: 0 });
    const b = c([
      { inputIds: [101, 7, 102], labels: [-100, 3, -100], attentionMask: [1, 1, 1], label: 1 },
      { inputIds: [101, 102], labels: [-100, -100], attentionMask: [1, 1], label: 0 },
    ]);
    expect(b.inputIds!.toArray()).toEqual([[101, 7, 102], [101, 102, 0]]);
    expect(b.labels!.toArray()).toEqual([[-100, 3, -100], [-100, -100, -100]]);
    expect(b.attentionMask!.toArray()).toEqual([[1, 1, 1], [1, 1, 0]]);
    expect(b.label!.toArray()).toEqual([1, 0]);
    expect(b.inputIds!.dtype).toBe('int32');
  });

  it('validates its arguments', () => {
    expect(() => new DataLoader(items, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new ArrayDataset(items).get(10)).toThrow(/out of range/);
    expect(() => padCollate()([])).toThrow(/empty batch/);
    expect(() => padCollate()([{ inputIds: [1] }, { labels: [1] }])).toThrow(/example 1 has no field 'inputIds'/);
  });
});
