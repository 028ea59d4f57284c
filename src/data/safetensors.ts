/**
 * safetensors ⇄ tensors: `loadSafetensors(pathOrBytes)` gives `Record<string, Tensor>` ready
 * for `model.loadStateDict(…)` / `loadPretrained(…)`, and `saveSafetensors(tensors, path)`
 * writes a file PyTorch's `safetensors.torch.load_file` reads. The byte-level format lives in
 * safetensors-format.ts.
 */
import { fromTypedArray } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { type SerializeOptions,
  parseSafetensors, readSafetensorsFile, serializeSafetensors, writeSafetensorsFile, SafetensorsError,
  type ParsedSafetensors, type RawTensor,
} from './safetensors-format.js';

export { SafetensorsError };

/**
 * Tensors by name in a null-prototype object: a tensor named `__proto__` (or `constructor`,
 * `toString`, …) is just a key, never the object's prototype or an inherited method.
 */
function toTensors(parsed: ParsedSafetensors, device?: string): Record<string, Tensor> {
  const out = Object.create(null) as Record<string, Tensor>;
  for (const [name, raw] of Object.entries(parsed.tensors)) {
    let value: Tensor;
    try {
      value = fromTypedArray(raw.data, raw.shape, { dtype: raw.dtype, device });
    } catch (cause) {
      // e.g. an unknown device: still only a SafetensorsError leaves this module
      throw new SafetensorsError('INVALID_ARGUMENT', `loadSafetensors: cannot make tensor ${JSON.stringify(name)}: ${(cause as Error).message}`, { cause });
    }
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Reads a .safetensors file (or its bytes). F16/BF16 are up-cast to float32, F64 stays
 * float64, integer types become int32 (exactly, or a clear error). A path is read header
 * first (8-byte length, then the header, validated against the file size before any data
 * is read), then tensor by tensor, so files over 2 GiB work. The result has a null
 * prototype. Only {@link SafetensorsError} is thrown.
 * @example
 * const sd = loadSafetensors('model.safetensors');
 * model.loadPretrained(sd);
 */
export function loadSafetensors(source: string | Uint8Array, opts: { device?: string } = {}): Record<string, Tensor> {
  return toTensors(typeof source === 'string' ? readSafetensorsFile(source) : parseSafetensors(source), opts.device);
}

/**
 * Like loadSafetensors, also returning the `__metadata__` strings.
 * @example
 * ```ts
 * const bytes = data.safetensorsBytes({ w: ones([2]) }, { format: 'pt', step: '100' });
 * const { tensors, metadata } = data.loadSafetensorsWithMetadata(bytes); // or a file path
 * metadata.step;                          // '100'
 * ```
 */
export function loadSafetensorsWithMetadata(source: string | Uint8Array, opts: { device?: string } = {}): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const parsed = typeof source === 'string' ? readSafetensorsFile(source) : parseSafetensors(source);
  return { tensors: toTensors(parsed, opts.device), metadata: parsed.metadata };
}

function toRaw(tensors: Record<string, Tensor>): Record<string, RawTensor> {
  const raw: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!t || typeof t !== 'object' || !('shape' in t)) throw new SafetensorsError('INVALID_ARGUMENT', `saveSafetensors: value for "${name}" is not a Tensor`);
    raw[name] = { dtype: t.dtype, shape: [...t.shape], data: t.toTypedArray() };
  }
  return raw;
}

/**
 * The bytes of a .safetensors file holding these tensors (tied tensors are written once per name).
 * @example
 * ```ts
 * const model = new nn.Linear(4, 2);
 * const bytes = data.safetensorsBytes(model.stateDict(), { format: 'pt' }); // a .safetensors file in memory
 * Object.keys(data.loadSafetensors(bytes)); // ['weight', 'bias']
 * ```
 */
export function safetensorsBytes(tensors: Record<string, Tensor>, metadata?: Record<string, string>, opts: SerializeOptions = {}): Uint8Array {
  return serializeSafetensors(toRaw(tensors), metadata, opts);
}

/**
 * Writes tensors to a .safetensors file (PyTorch-compatible: `metadata` defaults to
 * `{ format: 'pt' }` as HF's save_file writes).
  * @example
  * ```ts
  * saveSafetensors(model.stateDict(), 'out/model.safetensors');   // loads with safetensors.torch.load_file
  * model.loadStateDict(loadSafetensors('out/model.safetensors'));
  * ```
 */
export function saveSafetensors(tensors: Record<string, Tensor>, path: string, metadata: Record<string, string> = { format: 'pt' }): void {
  writeSafetensorsFile(path, toRaw(tensors), metadata);
}
