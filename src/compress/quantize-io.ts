/**
 * Saving and loading int8-quantized models as safetensors (the format: a little-endian u64 header
 * length, a JSON header, the raw bytes; https://github.com/huggingface/safetensors).
 *
 * Layout (also written into the file's `__metadata__` under "quantization"):
 *   <layer>.weight        I8  (out, in)  the codes W_q of each QuantizedLinear
 *   <layer>.weight_scale  F32 (out)      per-output-channel scales: W ≈ weight_scale[o]·weight[o, i]
 *   <layer>.bias          F32 (out)      unquantized
 *   every other tensor of the state dict as F32 (I32 for int32 buffers), under its usual name
 * metadata: format = "pt", quantization = JSON {scheme, layers: [names of the quantized Linears]}.
 *
 * Loading needs the float model's structure (e.g. a freshly built BertForTokenClassification of the
 * same config): `loadQuantized` quantizes the listed layers of it, then overwrites every tensor
 * with the file's.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { parseSafetensors } from '../data/safetensors-format.js';
import { Module } from '../nn/module.js';
import { fromTypedArray } from '../tensor/creation.js';
import { quantize, quantizedLayers } from './quantize.js';

/** The scheme recorded in a quantized checkpoint's metadata, checked when it is loaded. */
export const QUANTIZATION_SCHEME = 'int8 dynamic: weights symmetric per output channel (I8 codes in [-127, 127], F32 weight_scale), activations 7-bit asymmetric per row at run time ([0, 127] with a zero point), int32 accumulation, float32 rescale + bias';

type Entry = { dtype: 'I8' | 'F32' | 'I32'; shape: number[]; bytes: Uint8Array };

/**
 * The bytes of a safetensors file holding the model, quantized layers as I8 + F32 scales.
 * @example
 * ```ts
 * compress.quantize(model);                         // Linear → QuantizedLinear
 * writeFileSync('out/model-int8.safetensors', compress.quantizedSafetensorsBytes(model)); // I8 codes + F32 scales
 * ```
 */
export function quantizedSafetensorsBytes(model: Module): Uint8Array {
  const q = quantizedLayers(model);
  if (q.length === 0) throw new Error(`saveQuantized: ${model.constructor.name} has no QuantizedLinear layer; call quantize(model) first`);
  const entries = new Map<string, Entry>();
  for (const [name, t] of Object.entries(model.stateDict())) {
    const c = t.contiguous();
    if (c.dtype === 'float32' || c.dtype === 'float64') {
      const f = c.dtype === 'float32' ? (c.toTypedArray() as Float32Array) : Float32Array.from(c.toTypedArray());
      entries.set(name, { dtype: 'F32', shape: [...c.shape], bytes: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) });
    } else if (c.dtype === 'int32') {
      const a = c.toTypedArray() as Int32Array;
      entries.set(name, { dtype: 'I32', shape: [...c.shape], bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) });
    } else throw new Error(`saveQuantized: cannot store ${name} of dtype ${c.dtype}`);
  }
  for (const [name, l] of q) entries.set(`${name}.weight`, { dtype: 'I8', shape: [l.outFeatures, l.inFeatures], bytes: new Uint8Array(l.qweight.buffer, l.qweight.byteOffset, l.qweight.byteLength) });
  const metadata = { format: 'pt', quantization: JSON.stringify({ scheme: QUANTIZATION_SCHEME, layers: q.map(([n]) => n) }) };
  // header: names sorted, data laid out in that order (offsets relative to the data start)
  const names = [...entries.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const n of names) {
    const e = entries.get(n)!;
    header[n] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // the data starts 8-aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const n of names) {
    const b = entries.get(n)!.bytes;
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * Writes a quantized model (see the file header for the layout).
 * @example
 * saveQuantized(quantize(model), 'out/ner-int8/model.safetensors');
 */
export function saveQuantized(model: Module, path: string): void {
  writeFileSync(path, quantizedSafetensorsBytes(model));
}

/**
 * Loads a file written by saveQuantized into `model` (the float model's structure, e.g. freshly
 * built from the same config): quantizes the layers the file lists, then sets every tensor from the
 * file (strict: a missing or unexpected tensor is an error). Returns the model.
 * @example
 * const model = loadQuantized(new BertForTokenClassification(config), 'out/ner-int8/model.safetensors');
 */
export function loadQuantized<M extends Module>(model: M, source: string | Uint8Array): M {
  const bytes = typeof source === 'string' ? new Uint8Array(readFileSync(source)) : source;
  const { tensors, metadata } = parseSafetensors(bytes);
  const where = typeof source === 'string' ? source : 'the bytes';
  let layers: string[];
  try {
    layers = (JSON.parse(metadata['quantization'] ?? 'null') as { layers: string[] }).layers;
    if (!Array.isArray(layers)) throw new Error('no layers');
  } catch {
    throw new Error(`loadQuantized: ${where} has no "quantization" metadata listing its quantized layers; was it written by saveQuantized?`);
  }
  const have = new Set(quantizedLayers(model).map(([n]) => n));
  const todo = layers.filter((n) => !have.has(n));
  if (todo.length > 0) quantize(model, { modules: `(?:${todo.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})` });
  const rest: Record<string, ReturnType<typeof fromTypedArray>> = {};
  const byName = new Map(quantizedLayers(model));
  for (const name of layers) {
    const l = byName.get(name)!;
    const w = tensors[`${name}.weight`];
    if (!w || w.shape.join() !== [l.outFeatures, l.inFeatures].join()) {
      throw new Error(`loadQuantized: ${where} lacks ${name}.weight of shape [${l.outFeatures}, ${l.inFeatures}] (I8), got ${w ? `[${w.shape.join(', ')}]` : 'none'}`);
    }
    const src = w.data as Int32Array; // the parser widens I8 to int32
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v < -127 || v > 127) throw new Error(`loadQuantized: ${name}.weight holds ${v} at ${i}; codes must lie in [-127, 127]`);
      l.qweight[i] = v;
    }
    l.repack();
    delete tensors[`${name}.weight`];
    const s = tensors[`${name}.weight_scale`];
    if (!s || s.dtype !== 'float32' || s.data.length !== l.outFeatures) throw new Error(`loadQuantized: ${where} lacks ${name}.weight_scale (F32, [${l.outFeatures}])`);
  }
  for (const [k, t] of Object.entries(tensors)) rest[k] = fromTypedArray(t.data, t.shape, { dtype: t.dtype });
  // the file is the quantized model's own state dict: the plain Module loader, not a model's
  // override that completes tied keys (BertForMaskedLM would add the decoder weight, tied to the
  // embeddings in the float model, which a QuantizedLinear decoder no longer has)
  Module.prototype.loadStateDict.call(model, rest, { strict: true });
  return model;
}
