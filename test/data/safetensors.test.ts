import { closeSync, mkdtempSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, tensor } from '../../src/index.js';
import { loadSafetensors, loadSafetensorsWithMetadata, saveSafetensors, safetensorsBytes, SafetensorsError } from '../../src/data/safetensors.js';
import { openSafetensorsFile } from '../../src/data/safetensors-format.js';

const tiny = () => new nn.BertConfig({ vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 12, numLabels: 3 });

describe('safetensors ⇄ tensors', () => {
  it('round-trips every dtype through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-'));
    const t = {
      a: tensor([[1.5, -2], [3, 4]]),
      b: tensor([1, 2, 3], { dtype: 'int32' }),
      c: tensor([true, false]),
      d: tensor([0.1], { dtype: 'float64' }),
      e: tensor(7), // scalar
    };
    saveSafetensors(t, join(dir, 'x.safetensors'));
    const back = loadSafetensors(join(dir, 'x.safetensors'));
    for (const [k, v] of Object.entries(t)) {
      expect(back[k]!.dtype).toBe(v.dtype);
      expect(back[k]!.shape).toEqual(v.shape);
      expect(back[k]!.toArray()).toEqual(v.toArray());
    }
  });

  it('a non-contiguous view is written in logical order', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1);
    const back = loadSafetensors(safetensorsBytes({ x }));
    expect(back.x!.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('a BERT checkpoint saved and loaded reproduces the model exactly', () => {
    manualSeed(3);
    const a = new nn.BertForTokenClassification(tiny());
    const bytes = safetensorsBytes(a.stateDict());
    manualSeed(4);
    const b = new nn.BertForTokenClassification(tiny());
    b.loadPretrained(loadSafetensors(bytes));
    const ids = tensor([[2, 5, 7, 9, 3]], { dtype: 'int32' });
    a.eval(); b.eval();
    expect(b.forward({ inputIds: ids }).logits.toArray()).toEqual(a.forward({ inputIds: ids }).logits.toArray());
  });

  it('maps legacy LayerNorm gamma/beta names and tolerates position_ids', () => {
    manualSeed(5);
    const a = new nn.BertModel(tiny());
    const sd = Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), v]));
    sd['embeddings.position_ids'] = tensor([[0, 1, 2]], { dtype: 'int32' });
    const b = new nn.BertModel(tiny());
    b.loadPretrained(loadSafetensors(safetensorsBytes(sd)));
    for (const [k, p] of b.namedParameters()) expect(p.toArray(), k).toEqual(a.stateDict()[k]!.toArray());
  });

  it('reports a corrupt file with SafetensorsError', () => {
    expect(() => loadSafetensors(new Uint8Array([1, 2, 3]))).toThrow(SafetensorsError);
  });
});

describe('model.loadStateDict(loadSafetensors(path)) with a HF-named checkpoint', () => {
  it('maps legacy gamma/beta, ignores position_ids, fills a tied decoder stored once', () => {
    manualSeed(6);
    const a = new nn.BertForMaskedLM(tiny());
    const sd: Record<string, ReturnType<typeof tensor>> = {};
    for (const [k, v] of Object.entries(a.stateDict())) {
      if (k === 'cls.predictions.decoder.weight' || k === 'cls.predictions.decoder.bias') continue; // safetensors keeps one copy
      sd[k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')] = v;
    }
    sd['bert.embeddings.position_ids'] = tensor([[0, 1, 2]], { dtype: 'int32' });
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-'));
    saveSafetensors(sd, join(dir, 'model.safetensors'));
    manualSeed(7);
    const b = new nn.BertForMaskedLM(tiny());
    b.loadStateDict(loadSafetensors(join(dir, 'model.safetensors')));
    for (const [k, v] of Object.entries(a.stateDict())) expect(b.stateDict()[k]!.toArray(), k).toEqual(v.toArray());
    // strictness is kept for real problems
    const bad = { ...sd, 'bert.encoder.layer.0.output.dense.weight': tensor([[1]]) };
    expect(() => new nn.BertForMaskedLM(tiny()).loadStateDict(bad)).toThrow(/Size mismatch: bert\.encoder\.layer\.0\.output\.dense\.weight/);
  });
});

/** A safetensors file's bytes from a header object and a data section (as the format says). */
function fileOf(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('loadSafetensors: error contract and big files (issue #11 item 19)', () => {
  it('a 5,000-deep JSON array in a tensor entry gives a SafetensorsError, not a RangeError', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    for (const [field, entry] of [
      ['shape', `{"dtype":"F32","shape":${deep},"data_offsets":[0,4]}`],
      ['data_offsets', `{"dtype":"F32","shape":[1],"data_offsets":${deep}}`],
      ['dtype', `{"dtype":${deep},"shape":[1],"data_offsets":[0,4]}`],
      ['entry', deep],
      ['metadata', `{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":${deep}}`],
    ] as const) {
      const header = field === 'metadata' ? `{"w":${entry}}` : `{"w":${entry}}`;
      const err = thrown(() => loadSafetensors(fileOf(header, new Uint8Array(4))));
      expect(err, field).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message.length, field).toBeLessThan(400);
    }
  });

  it('only SafetensorsError leaves loadSafetensors: an unknown device is one too', () => {
    const err = thrown(() => loadSafetensors(safetensorsBytes({ a: tensor([1]) }), { device: 'tpu' }));
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as Error).message).toMatch(/cannot make tensor "a": unknown device 'tpu'/);
  });

  it('a tensor named __proto__ is just a key: null-prototype results', () => {
    const bytes = fileOf('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"constructor":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(new Float32Array([7, 8]).buffer));
    const r = loadSafetensors(bytes);
    expect(Object.getPrototypeOf(r)).toBe(null);
    expect(Object.keys(r).sort()).toEqual(['__proto__', 'constructor']);
    expect(r['__proto__']!.toArray()).toEqual([7]);
    expect(r['constructor']!.toArray()).toEqual([8]);
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-proto-'));
    writeFileSync(join(dir, 'p.safetensors'), bytes);
    const fromFile = loadSafetensorsWithMetadata(join(dir, 'p.safetensors'));
    expect(Object.getPrototypeOf(fromFile.tensors)).toBe(null);
    expect(Object.getPrototypeOf(fromFile.metadata)).toBe(null);
    expect(fromFile.tensors['__proto__']!.toArray()).toEqual([7]);
  });

  it('reads the header first: a lying header in a 3 GiB (sparse) file is rejected after 8 + N bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-big-'));
    const path = join(dir, 'lying.safetensors');
    writeFileSync(path, fileOf('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'));
    truncateSync(path, 3 * 2 ** 30); // sparse: no disk, no memory
    const err = thrown(() => loadSafetensors(path));
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).code).toBe('INCOMPLETE_BUFFER');
    expect((err as Error).message).toMatch(/cover 16 bytes/);
    // a header length that runs past the end of the file
    const short = join(dir, 'short.safetensors');
    const bad = fileOf('{}');
    new DataView(bad.buffer).setUint32(0, 90_000_000, true);
    writeFileSync(short, bad);
    expect((thrown(() => loadSafetensors(short)) as SafetensorsError).code).toBe('INVALID_HEADER_LENGTH');
  });

  it('reads a valid file over 2 GiB tensor by tensor, at offsets past 2^31 (sparse file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-big-'));
    const path = join(dir, 'big.safetensors');
    const padBytes = 2 ** 31 + 8; // a U8 tensor of 2 GiB + 8 bytes, all zeros (a hole)
    const header = `{"pad":{"dtype":"U8","shape":[${padBytes}],"data_offsets":[0,${padBytes}]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[${padBytes},${padBytes + 16}]}}`;
    const head = fileOf(header);
    writeFileSync(path, head);
    const dataStart = head.length;
    truncateSync(path, dataStart + padBytes + 16);
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array(new Float32Array([1.5, -2, 3, 4]).buffer), 0, 16, dataStart + padBytes);
    closeSync(fd);
    const f = openSafetensorsFile(path);
    try {
      expect(f.fileSize).toBe(dataStart + padBytes + 16);
      expect(f.fileSize).toBeGreaterThan(2 ** 31);
      expect(f.names).toEqual(['pad', 'w']);
      expect(f.info('pad')).toEqual({ dtype: 'U8', shape: [padBytes], byteLength: padBytes });
      expect(f.bytesRead).toBe(dataStart); // the header only
      const w = f.read('w');
      expect(w.shape).toEqual([2, 2]);
      expect(Array.from(w.data)).toEqual([1.5, -2, 3, 4]);
      expect(f.bytesRead).toBe(dataStart + 16);
      expect((thrown(() => f.read('nope')) as SafetensorsError).code).toBe('INVALID_ARGUMENT');
    } finally {
      f.close();
    }
    expect((thrown(() => f.read('w')) as SafetensorsError).code).toBe('IO');
  });
});
