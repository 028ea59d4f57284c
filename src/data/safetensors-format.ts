/**
 * Byte-level reader and writer for the safetensors format, with no dependency on the
 * Tensor class: tensors go in and come out as plain typed arrays ({@link RawTensor}).
 *
 * Format (https://github.com/huggingface/safetensors, README section "Format"):
 *
 *   - 8 bytes: `N`, an unsigned little-endian 64-bit integer, the size of the header;
 *   - N bytes: a UTF-8 JSON object, which must begin with `{` and may be padded at the end
 *     with spaces (0x20):
 *       `{"__metadata__": {"k": "v"}, "NAME": {"dtype": "F16", "shape": [1, 16, 256],
 *         "data_offsets": [BEGIN, END]}, ...}`
 *     `data_offsets` are relative to the start of the byte buffer, END is one past the
 *     last byte; `__metadata__` is an optional string → string map;
 *   - the rest of the file: the byte buffer. Tensors are little-endian, C (row-major)
 *     order, unstrided. The buffer must be covered entirely by the tensors, without
 *     holes or overlaps (this prevents polyglot files).
 *
 * Validation follows the reference Rust implementation (`safetensors/src/tensor.rs`,
 * `SafeTensors::read_metadata` and `Metadata::validate`): header ≤ 100 000 000 bytes,
 * offsets sorted then required to be contiguous from 0 to the end of the file, and
 * `END − BEGIN = product(shape) × itemsize`. This reader is stricter in four places,
 * each documented on {@link parseSafetensors}: duplicate JSON keys (the spec disallows
 * them; serde_json keeps the last), unknown fields in a tensor entry, BOOL bytes other
 * than 0/1, and integers that do not fit an int32.
 *
 * The writer reproduces the reference `serialize` byte for byte: tensors sorted by
 * descending `Dtype` (the Rust enum's declaration order, "increasing alignment":
 * BOOL < U8 < I8 < I16 < U16 < F16 < BF16 < I32 < U32 < F32 < F64 < I64 < U64) then by
 * name (byte-wise on UTF-8, as Rust's `String: Ord`), the header written as compact JSON
 * (`serde_json::to_string` of `{"__metadata__":{…},"name":{"dtype":…,"shape":[…],
 * "data_offsets":[b,e]},…}`), padded with spaces to a multiple of 8 bytes. The one place
 * the reference is not deterministic is the order of `__metadata__` keys (a Rust
 * `HashMap`); this writer sorts them by name.
 */

import { nodeFs, type NodeFsLike } from '../core/node-fs.js';
import { describeArg } from './describe.js';

/** An argument for an error message; arrays and objects (parsed header values) shown as short JSON. */
const describe = (x: unknown): string => describeArg(x, (v) => truncate(preview(v, 0)));

/** Element types of the safetensors format that this module reads. */
export type SafetensorsDType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** The element types a {@link RawTensor} can hold (the same four as the Tensor class). */
export type RawDType = 'float32' | 'float64' | 'int32' | 'bool';

/**
 * A tensor as plain data: a row-major typed array and its shape.
 * `data.length` must equal the product of `shape` (1 for a scalar, `shape = []`).
 * `bool` data holds 0 or 1 in a `Uint8Array`.
 */
export interface RawTensor {
  /** Element type: 'float32', 'float64', 'int32' or 'bool'. */
  dtype: RawDType;
  /** Size of each dimension; `[]` for a scalar. */
  shape: number[];
  /** The elements in row-major order; `data.length` equals the product of `shape` (bool as 0/1 in a Uint8Array). */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

/** What {@link parseSafetensors} returns. */
export interface ParsedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Machine-readable reason attached to every {@link SafetensorsError}. */
export type SafetensorsErrorCode =
  | 'HEADER_TOO_SMALL'
  | 'HEADER_TOO_LARGE'
  | 'INVALID_HEADER_LENGTH'
  | 'INVALID_HEADER_UTF8'
  | 'INVALID_HEADER_JSON'
  | 'INVALID_HEADER_STRUCTURE'
  | 'INVALID_METADATA'
  | 'UNSUPPORTED_DTYPE'
  | 'INVALID_SHAPE'
  | 'INVALID_OFFSETS'
  | 'SIZE_MISMATCH'
  | 'INCOMPLETE_BUFFER'
  | 'VALUE_OUT_OF_RANGE'
  | 'INVALID_ARGUMENT'
  | 'IO';

/** The only error this module throws. `code` says why; the message says where. */
export class SafetensorsError extends Error {
  /** Machine-readable reason (e.g. 'INVALID_HEADER_JSON', 'SIZE_MISMATCH'); the message names where. */
  readonly code: SafetensorsErrorCode;

  constructor(code: SafetensorsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SafetensorsError';
    this.code = code;
  }
}

/** Largest header the reference accepts (`MAX_HEADER_SIZE` in safetensors/src/tensor.rs). */
export const MAX_HEADER_SIZE = 100_000_000;

/** Bytes per element of each dtype. */
const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/**
 * Position in the reference's `enum Dtype` (declared "in increasing alignment order") as of
 * safetensors 0.3. Later versions insert F4, F6_*, F8_E8M0, F8_*FNUZ and C64, which does
 * not change the relative order of the dtypes below, the only thing the writer uses.
 */
const DTYPE_RANK: Record<SafetensorsDType, number> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  // F8_E5M2 = 3, F8_E4M3 = 4 (not read by this module)
  I16: 5,
  U16: 6,
  F16: 7,
  BF16: 8,
  I32: 9,
  U32: 10,
  F32: 11,
  F64: 12,
  I64: 13,
  U64: 14,
};

/** Dtypes the reference knows that this module does not convert (named in errors). */
const KNOWN_UNSUPPORTED = [
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'F8_E4M3FNUZ',
  'F8_E5M2FNUZ',
  'C64',
];

const RAW_TO_SAFETENSORS: Record<RawDType, SafetensorsDType> = {
  float32: 'F32',
  float64: 'F64',
  int32: 'I32',
  bool: 'BOOL',
};

const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'];
const METADATA_KEY = '__metadata__';
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isSafetensorsDType(x: string): x is SafetensorsDType {
  return Object.prototype.hasOwnProperty.call(ITEM_SIZE, x);
}

/** Adds an own enumerable property (safe for names like `__proto__`). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A short JSON-like rendering of a parsed header value for error messages: at most 3
 * levels and 8 items per level, so a 5,000-deep array cannot exhaust the stack (as
 * `JSON.stringify` would, with a `RangeError`).
 */
function preview(x: unknown, depth: number): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (x === null || typeof x !== 'object') return String(x);
  if (depth >= 3) return Array.isArray(x) ? '[…]' : '{…}';
  if (Array.isArray(x)) {
    const items = x.slice(0, 8).map((v) => preview(v, depth + 1));
    return `[${items.join(',')}${x.length > 8 ? ',…' : ''}]`;
  }
  const keys = Object.keys(x);
  const items = keys.slice(0, 8).map((k) => `${JSON.stringify(k)}:${preview((x as Record<string, unknown>)[k], depth + 1)}`);
  return `{${items.join(',')}${keys.length > 8 ? ',…' : ''}}`;
}

function truncate(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// ───────────────────────────── reading ─────────────────────────────

/**
 * Parses a safetensors file held in memory.
 *
 * Conversions: F32 → float32; F64 → float64; F16 and BF16 → float32 (exact, including
 * subnormals, ±0, ±inf and NaN payloads); I32 → int32; I16, I8, U16, U8 → int32;
 * I64, U64, U32 → int32 when every value fits exactly (else a `VALUE_OUT_OF_RANGE`
 * error naming the tensor and the element); BOOL → bool (bytes must be 0 or 1).
 * Every tensor's data is copied into a fresh, aligned typed array (so unaligned
 * offsets are fine and the result never aliases `bytes`).
 *
 * Stricter than the reference: duplicate keys (disallowed by the spec), fields other
 * than `dtype`, `shape`, `data_offsets` in a tensor entry, and non-0/1 BOOL bytes are
 * rejected. F8/F4/F6/C64 dtypes are rejected as unsupported.
 *
 * @param bytes - the whole file.
 * @returns the tensors by name and the `__metadata__` map (`{}` when absent).
 * @throws {SafetensorsError} for every malformed input, never another error.
 *
 * @example
 * ```ts
 * const bytes = serializeSafetensors({
 *   w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) },
 * });
 * const { tensors } = parseSafetensors(bytes);
 * tensors.w.shape; // [2]
 * tensors.w.data;  // Float32Array [1, 2]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `parseSafetensors: bytes must be a Uint8Array, got ${describe(bytes)}`,
    );
  }
  return guarded(() => {
    const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length);
    const header = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.length);
    const tensors: Record<string, RawTensor> = Object.create(null) as Record<string, RawTensor>;
    for (const e of header.entries) {
      const src = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
      setOwn(tensors, e.name, decodeTensor(e.name, e.dtype, e.shape, src, false));
    }
    return { tensors, metadata: header.metadata };
  });
}

/** One tensor entry of a validated header; `begin`/`end` are relative to the data section. */
interface HeaderEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/** A validated header: entries sorted by offset, covering the data section exactly. */
interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** File offset of the data section (8 + header length). */
  dataStart: number;
}

/**
 * Runs a reader step so that only a {@link SafetensorsError} escapes: anything else (a
 * `RangeError` from an engine limit, a failed allocation) is wrapped, with its cause.
 */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SafetensorsError) throw err;
    const e = err as Error;
    const code: SafetensorsErrorCode = e instanceof RangeError && /alloc/i.test(e.message) ? 'IO' : 'INVALID_HEADER_STRUCTURE';
    throw new SafetensorsError(code, `safetensors: cannot read the file (${e?.name ?? 'Error'}: ${e?.message ?? String(err)})`, { cause: err });
  }
}

/** Checks the 8-byte little-endian header length against the file size; returns it. */
function readHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.length < 8) {
    throw new SafetensorsError(
      'HEADER_TOO_SMALL',
      `safetensors: file is ${fileSize} bytes, shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lenLo = view.getUint32(0, true);
  const lenHi = view.getUint32(4, true);
  if (lenHi !== 0 || lenLo > MAX_HEADER_SIZE) {
    const n = (BigInt(lenHi) << 32n) | BigInt(lenLo);
    throw new SafetensorsError(
      'HEADER_TOO_LARGE',
      `safetensors: header length ${n} exceeds the limit of ${MAX_HEADER_SIZE} bytes`,
    );
  }
  if (8 + lenLo > fileSize) {
    throw new SafetensorsError(
      'INVALID_HEADER_LENGTH',
      `safetensors: header length ${lenLo} runs past the end of the file ` +
        `(${fileSize} bytes, so at most ${fileSize - 8})`,
    );
  }
  return lenLo;
}

/**
 * Parses and validates the header (its bytes, without the length prefix) of a file of
 * `fileSize` bytes: metadata, every tensor entry, and the reference's coverage rule.
 */
function parseHeader(headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  const header = parseHeaderJson(headerBytes);
  const dataStart = 8 + headerBytes.length;
  const dataLength = fileSize - dataStart;

  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === METADATA_KEY) {
      readMetadata(value, metadata);
      continue;
    }
    entries.push({ name, ...readTensorInfo(name, value) });
  }

  // The reference sorts by (begin, end), then requires contiguous coverage from 0.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const e of entries) {
    if (e.begin !== expectedBegin) {
      const what =
        e.begin < expectedBegin
          ? `overlaps the previous tensor, which ends at ${expectedBegin}`
          : `leaves a hole: the previous tensor ends at ${expectedBegin}`;
      throw new SafetensorsError(
        'INVALID_OFFSETS',
        `safetensors: tensor ${JSON.stringify(e.name)} has data_offsets [${e.begin}, ${e.end}], which ${what}`,
      );
    }
    const numel = product(e.shape, e.name);
    const nbytes = numel * ITEM_SIZE[e.dtype];
    if (!Number.isSafeInteger(nbytes) || e.end - e.begin !== nbytes) {
      throw new SafetensorsError(
        'SIZE_MISMATCH',
        `safetensors: tensor ${JSON.stringify(e.name)} (${e.dtype}, shape [${e.shape.join(', ')}]) ` +
          `needs ${nbytes} bytes, but data_offsets [${e.begin}, ${e.end}] span ${e.end - e.begin}`,
      );
    }
    expectedBegin = e.end;
  }
  if (expectedBegin !== dataLength) {
    throw new SafetensorsError(
      'INCOMPLETE_BUFFER',
      expectedBegin < dataLength
        ? `safetensors: the tensors cover ${expectedBegin} bytes of the ${dataLength}-byte data ` +
            `section; the trailing ${dataLength - expectedBegin} bytes belong to no tensor`
        : `safetensors: the tensors need ${expectedBegin} bytes of data, but the file has only ` +
            `${dataLength} after the header (truncated?)`,
    );
  }
  return { entries, metadata, dataStart };
}

/** Decodes, parses and checks the JSON header; returns the top-level object. */
function parseHeaderJson(headerBytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a leading BOM in the text, so that JSON.parse rejects it as serde_json does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch (cause) {
    throw new SafetensorsError('INVALID_HEADER_UTF8', 'safetensors: header is not valid UTF-8', {
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(
      'INVALID_HEADER_JSON',
      `safetensors: header is not valid JSON (${(cause as Error).message})`,
      { cause },
    );
  }
  if (!isPlainObject(parsed)) {
    throw new SafetensorsError(
      'INVALID_HEADER_STRUCTURE',
      `safetensors: header must be a JSON object, got ${describe(parsed)}`,
    );
  }
  // The spec requires the very first byte to be `{` (no leading whitespace).
  if (!text.startsWith('{')) {
    throw new SafetensorsError(
      'INVALID_HEADER_JSON',
      `safetensors: header must begin with "{", got ${JSON.stringify(text.slice(0, 20))}`,
    );
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new SafetensorsError(
      'INVALID_HEADER_JSON',
      `safetensors: header has the key ${JSON.stringify(duplicate)} twice in one object ` +
        '(the format disallows duplicate keys)',
    );
  }
  return parsed;
}

/**
 * Scans JSON text that `JSON.parse` already accepted and returns the first key that
 * appears twice in the same object, or undefined. `JSON.parse` silently keeps the last.
 */
function findDuplicateKey(text: string): string | undefined {
  // One entry per open container: a Set of keys for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

function readMetadata(value: unknown, out: Record<string, string>): void {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      'INVALID_METADATA',
      `safetensors: __metadata__ must be an object of strings, got ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw new SafetensorsError(
        'INVALID_METADATA',
        `safetensors: __metadata__[${JSON.stringify(key)}] must be a string, got ${describe(v)}`,
      );
    }
    setOwn(out, key, v);
  }
}

function readTensorInfo(
  name: string,
  value: unknown,
): { dtype: SafetensorsDType; shape: number[]; begin: number; end: number } {
  const where = `safetensors: tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      'INVALID_HEADER_STRUCTURE',
      `${where} must be an object {dtype, shape, data_offsets}, got ${describe(value)}`,
    );
  }
  for (const field of TENSOR_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(value, field)) {
      throw new SafetensorsError('INVALID_HEADER_STRUCTURE', `${where} has no "${field}" field`);
    }
  }
  for (const field of Object.keys(value)) {
    if (!TENSOR_FIELDS.includes(field)) {
      throw new SafetensorsError(
        'INVALID_HEADER_STRUCTURE',
        `${where} has an unknown field ${JSON.stringify(field)} (expected dtype, shape, data_offsets)`,
      );
    }
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !isSafetensorsDType(dtype)) {
    const known = typeof dtype === 'string' && KNOWN_UNSUPPORTED.includes(dtype);
    throw new SafetensorsError(
      'UNSUPPORTED_DTYPE',
      `${where} has ${known ? 'unsupported' : 'unknown'} dtype ${describe(dtype)}; ` +
        `expected one of ${Object.keys(ITEM_SIZE).join(', ')}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      'INVALID_SHAPE',
      `${where}: shape must be a list of non-negative integers, got ${describe(shape)}`,
    );
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[1] < offsets[0]
  ) {
    throw new SafetensorsError(
      'INVALID_OFFSETS',
      `${where}: data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got ${describe(offsets)}`,
    );
  }
  // `+ 0` turns a JSON `-0` into 0.
  return { dtype, shape: shape.map((d: number) => d + 0), begin: offsets[0] + 0, end: offsets[1] + 0 };
}

/** Product of a shape, with an overflow check (the reference's `ValidationOverflow`). */
function product(shape: number[], name: string): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    // Checked at every step, like the reference's `checked_mul` fold: [2^40, 2^40, 0] overflows.
    if (!Number.isSafeInteger(n)) {
      throw new SafetensorsError(
        'INVALID_SHAPE',
        `safetensors: tensor ${JSON.stringify(name)} has shape [${shape.join(', ')}], ` +
          'whose element count overflows',
      );
    }
  }
  return n;
}

/**
 * Copies `src` (little-endian elements of `itemSize` bytes) into a fresh buffer in the
 * host's byte order (or reorders it in place when `fresh`: a buffer this module owns).
 */
function copyToHostOrder(src: Uint8Array, itemSize: number, fresh: boolean): ArrayBuffer {
  // A `fresh` src (read from a file into its own ArrayBuffer, offset 0) is used in place.
  // Otherwise copy: `new Uint8Array(src)` always copies; `src.slice()` would not if `src`
  // is a Node Buffer.
  const inPlace = fresh && src.buffer instanceof ArrayBuffer && src.byteOffset === 0 && src.buffer.byteLength === src.length;
  const copy = inPlace ? src : new Uint8Array(src);
  if (!HOST_IS_LITTLE_ENDIAN) reverseBytesInGroups(copy, itemSize);
  return copy.buffer as ArrayBuffer;
}

/**
 * Reverses the byte order of every `groupSize`-byte element of `bytes`, in place
 * (little ↔ big endian). Exported for tests of the big-endian-host path.
 *
 * @internal
 * @example
 * ```ts
 * const b = new Uint8Array([1, 2, 3, 4]);
 * reverseBytesInGroups(b, 2); // b = [2, 1, 4, 3]
 * ```
 */
export function reverseBytesInGroups(bytes: Uint8Array, groupSize: number): void {
  if (!Number.isInteger(groupSize) || groupSize < 1 || bytes.length % groupSize !== 0) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `reverseBytesInGroups: groupSize must be a positive integer dividing bytes.length ` +
        `(${bytes.length}), got ${groupSize}`,
    );
  }
  for (let i = 0; i < bytes.length; i += groupSize) {
    for (let a = i, b = i + groupSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

function decodeTensor(
  name: string,
  dtype: SafetensorsDType,
  shape: number[],
  src: Uint8Array,
  fresh: boolean,
): RawTensor {
  const n = src.length / ITEM_SIZE[dtype];
  switch (dtype) {
    case 'F32':
      return { dtype: 'float32', shape, data: new Float32Array(copyToHostOrder(src, 4, fresh)) };
    case 'F64':
      return { dtype: 'float64', shape, data: new Float64Array(copyToHostOrder(src, 8, fresh)) };
    case 'I32':
      return { dtype: 'int32', shape, data: new Int32Array(copyToHostOrder(src, 4, fresh)) };
    case 'F16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = f16BitsToF32Bits(src[2 * i] | (src[2 * i + 1] << 8));
      return { dtype: 'float32', shape, data: out };
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: the conversion is a shift.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >>> 0;
      return { dtype: 'float32', shape, data: out };
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >> 16;
      return { dtype: 'int32', shape, data: out };
    }
    case 'U16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[2 * i] | (src[2 * i + 1] << 8);
      return { dtype: 'int32', shape, data: out };
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = (src[i] << 24) >> 24;
      return { dtype: 'int32', shape, data: out };
    }
    case 'U8':
      return { dtype: 'int32', shape, data: Int32Array.from(src) };
    case 'U32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = readU32(src, 4 * i);
        if (v > 0x7fffffff) throw outOfRange(name, dtype, i, BigInt(v));
        out[i] = v;
      }
      return { dtype: 'int32', shape, data: out };
    }
    case 'I64':
    case 'U64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = readU32(src, 8 * i);
        const hi = readU32(src, 8 * i + 4);
        // Fits in int32 iff the high word is the sign extension of the low word's bit 31.
        const fits = dtype === 'I64' ? hi === (lo > 0x7fffffff ? 0xffffffff : 0) : hi === 0 && lo <= 0x7fffffff;
        if (!fits) {
          const u = (BigInt(hi) << 32n) | BigInt(lo);
          throw outOfRange(name, dtype, i, dtype === 'I64' ? BigInt.asIntN(64, u) : u);
        }
        out[i] = lo | 0;
      }
      return { dtype: 'int32', shape, data: out };
    }
    case 'BOOL': {
      for (let i = 0; i < n; i++) {
        if (src[i] > 1) {
          throw new SafetensorsError(
            'VALUE_OUT_OF_RANGE',
            `safetensors: tensor ${JSON.stringify(name)} (BOOL): element ${i} is the byte ${src[i]}, expected 0 or 1`,
          );
        }
      }
      return { dtype: 'bool', shape, data: fresh ? src : new Uint8Array(src) };
    }
  }
}

function readU32(src: Uint8Array, at: number): number {
  return (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0;
}

function outOfRange(name: string, dtype: SafetensorsDType, index: number, value: bigint): SafetensorsError {
  return new SafetensorsError(
    'VALUE_OUT_OF_RANGE',
    `safetensors: tensor ${JSON.stringify(name)} (${dtype}): element ${index} = ${value} ` +
      'does not fit in int32 (range −2147483648 … 2147483647)',
  );
}

/**
 * IEEE 754 binary16 bits → binary32 bits, exactly (every half is a float32).
 * half: sign 1 | exponent 5 (bias 15) | mantissa 10; float: 1 | 8 (bias 127) | 23.
 */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0; // normal
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal half: mant · 2^−24. Shift until the implicit bit (0x400) is set.
  let e = -14;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

// ───────────────────────────── writing ─────────────────────────────

/** The typed array each dtype must be stored in, and a test for it. */
const ARRAY_FOR: Record<RawDType, { is: (x: unknown) => boolean; label: string }> = {
  float32: { is: (x) => x instanceof Float32Array, label: 'Float32Array' },
  float64: { is: (x) => x instanceof Float64Array, label: 'Float64Array' },
  int32: { is: (x) => x instanceof Int32Array, label: 'Int32Array' },
  // Uint8ClampedArray is not a Uint8Array subclass, and a Node Buffer is one (fine).
  bool: { is: (x) => x instanceof Uint8Array, label: 'Uint8Array' },
};

/** True when `s` has no unpaired UTF-16 surrogate (so it is encodable as UTF-8). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Compares strings byte-wise on their UTF-8 encodings, like Rust's `String: Ord`. */
function compareUtf8(a: string, b: string): number {
  // UTF-16 code-unit order equals UTF-8 byte order except that code points
  // U+E000–U+FFFF sort after the surrogate range (U+10000 and above) in UTF-8.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && Math.max(x, y) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function checkRawTensor(name: string, t: unknown): RawTensor {
  const where = `serializeSafetensors: tensors[${JSON.stringify(name)}]`;
  if (!isPlainObject(t)) {
    throw new SafetensorsError('INVALID_ARGUMENT', `${where} must be {dtype, shape, data}, got ${describe(t)}`);
  }
  const { dtype, shape, data } = t as Partial<RawTensor>;
  if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(RAW_TO_SAFETENSORS, dtype)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `${where}.dtype must be one of float32, float64, int32, bool, got ${describe(dtype)}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `${where}.shape must be an array of non-negative integers, got ${describe(shape)}`,
    );
  }
  const expected = ARRAY_FOR[dtype];
  if (!expected.is(data)) {
    const got = typeof data === 'object' && data !== null ? data.constructor.name : describe(data);
    throw new SafetensorsError('INVALID_ARGUMENT', `${where}.data must be a ${expected.label} for dtype ${dtype}, got ${got}`);
  }
  const arr = data as RawTensor['data'];
  let numel = 1;
  for (const d of shape) numel *= d;
  if (arr.length !== numel) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `${where}.data has ${arr.length} elements, expected ${numel} (product of shape [${shape.join(', ')}])`,
    );
  }
  if (dtype === 'bool') {
    const bad = arr.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) {
      throw new SafetensorsError(
        'INVALID_ARGUMENT',
        `${where}.data[${bad}] is ${arr[bad]}; bool data must hold 0 or 1`,
      );
    }
  }
  return { dtype, shape, data: arr };
}

/** Little-endian bytes of a typed array (a copy). */
function littleEndianBytes(data: RawTensor['data']): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!HOST_IS_LITTLE_ENDIAN) reverseBytesInGroups(bytes, data.BYTES_PER_ELEMENT);
  return bytes;
}

/**
 * Serializes tensors (and optional string metadata) to safetensors bytes, laid out
 * exactly as the reference `safetensors.serialize` lays them out (see the file header):
 * float32 → F32, float64 → F64, int32 → I32, bool → BOOL. Float bit patterns (NaN
 * payloads, −0) are written unchanged. An empty or absent `metadata` writes no
 * `__metadata__` entry (so a file without one round-trips byte for byte).
 *
 * @param tensors - name → tensor; a name must not be `__metadata__` nor contain an
 *   unpaired UTF-16 surrogate.
 * @param metadata - optional string → string map, stored under `__metadata__`.
 * @throws {SafetensorsError} (`INVALID_ARGUMENT`) naming the offending tensor or key.
 *
 * @example
 * ```ts
 * const bytes = serializeSafetensors(
 *   { bias: { dtype: 'float32', shape: [3], data: new Float32Array([0, 0.5, 1]) } },
 *   { format: 'pt' },
 * );
 * // bytes = u64 header length, '{"__metadata__":{"format":"pt"},"bias":{…}}  ', data
 * ```
 */
export function serializeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
  opts: SerializeOptions = {},
): Uint8Array {
  const float32As = opts.float32As ?? 'F32';
  if (float32As !== 'F32' && float32As !== 'F16') {
    throw new SafetensorsError('INVALID_ARGUMENT', `serializeSafetensors: opts.float32As must be 'F32' or 'F16', got ${describe(float32As)}`);
  }
  if (!isPlainObject(tensors)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `serializeSafetensors: tensors must be an object of name → RawTensor, got ${describe(tensors)}`,
    );
  }
  if (metadata !== undefined && !isPlainObject(metadata)) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `serializeSafetensors: metadata must be an object of strings, got ${describe(metadata)}`,
    );
  }
  const items: { name: string; tensor: RawTensor; st: SafetensorsDType; bytes: Uint8Array }[] = [];
  for (const name of Object.keys(tensors)) {
    if (name === METADATA_KEY) {
      throw new SafetensorsError(
        'INVALID_ARGUMENT',
        'serializeSafetensors: a tensor cannot be named "__metadata__" (reserved by the format)',
      );
    }
    if (!isWellFormed(name)) {
      throw new SafetensorsError(
        'INVALID_ARGUMENT',
        `serializeSafetensors: tensor name ${JSON.stringify(name)} has an unpaired surrogate (not encodable as UTF-8)`,
      );
    }
    const tensor = checkRawTensor(name, tensors[name]);
    if (float32As === 'F16' && tensor.dtype === 'float32') {
      items.push({ name, tensor, st: 'F16', bytes: f32ArrayToF16Bytes(tensor.data as Float32Array) });
    } else {
      items.push({ name, tensor, st: RAW_TO_SAFETENSORS[tensor.dtype], bytes: littleEndianBytes(tensor.data) });
    }
  }
  // Reference order: descending dtype rank, then name.
  items.sort((a, b) => DTYPE_RANK[b.st] - DTYPE_RANK[a.st] || compareUtf8(a.name, b.name));

  const parts: string[] = [];
  const metaKeys = metadata === undefined ? [] : Object.keys(metadata).sort(compareUtf8);
  if (metaKeys.length > 0) {
    const fields = metaKeys.map((k) => {
      const v = (metadata as Record<string, unknown>)[k];
      if (typeof v !== 'string') {
        throw new SafetensorsError(
          'INVALID_ARGUMENT',
          `serializeSafetensors: metadata[${JSON.stringify(k)}] must be a string, got ${describe(v)}`,
        );
      }
      if (!isWellFormed(k) || !isWellFormed(v)) {
        throw new SafetensorsError(
          'INVALID_ARGUMENT',
          `serializeSafetensors: metadata[${JSON.stringify(k)}] has an unpaired surrogate (not encodable as UTF-8)`,
        );
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor, st, bytes } of items) {
    const nbytes = bytes.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${st}","shape":[${tensor.shape.join(',')}],` +
        `"data_offsets":[${offset},${offset + nbytes}]}`,
    );
    offset += nbytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_SIZE) {
    throw new SafetensorsError(
      'INVALID_ARGUMENT',
      `serializeSafetensors: the header would be ${headerLength} bytes, over the ${MAX_HEADER_SIZE}-byte limit readers enforce`,
    );
  }
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // pad with spaces
  let at = 8 + headerLength;
  for (const { bytes } of items) {
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

/** Options of {@link serializeSafetensors}. */
export interface SerializeOptions {
  /**
   * How float32 tensors are stored: `'F32'` (default, exact) or `'F16'` (IEEE binary16,
   * rounded to nearest-even as PyTorch's `.half()` does; overflow → ±∞, NaN stays NaN) —
   * half the bytes, for shipping checkpoints. Readers up-cast F16 back to float32.
   */
  float32As?: 'F32' | 'F16';
}

/** float32 values → little-endian IEEE binary16 bytes, round-to-nearest-even (as `torch.Tensor.half()`). */
export function f32ArrayToF16Bytes(src: Float32Array): Uint8Array {
  const out = new Uint8Array(2 * src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const h = f32BitsToF16Bits(bits[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

/**
 * IEEE binary32 bits → binary16 bits, rounding to nearest, ties to even (the IEEE default and
 * what PyTorch / numpy do). Magnitudes ≥ 65520 become ±∞; below 2⁻²⁵ they become ±0; in between
 * the subnormal halves (multiples of 2⁻²⁴) are rounded to as well.
 */
export function f32BitsToF16Bits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // ±∞, NaN (quiet, payload top bits)
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow → ±∞ (rounding may still carry into ∞ below)
  if (e <= 0) {
    // subnormal half (or zero): value = m · 2^(e − 25) with the implicit bit; keep 10 + e − 1 bits
    if (e < -10) return sign; // < 2^−25: rounds to ±0
    const m = mant | 0x800000; // 24 significant bits
    const shift = 14 - e; // 24 − (10 + e)  bits dropped
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent (→ ∞ at the top): correct
  return sign | h;
}

// ───────────────────────────── files ─────────────────────────────

/** Largest single `readSync` (Node refuses reads of 2 GiB or more in one call). */
const READ_CHUNK = 1 << 30;

/** Information about one tensor of an open file, before its data is read. */
export interface SafetensorsTensorInfo {
  /** The tensor's dtype as stored in the file ('F32', 'F16', 'BF16', 'I64', …). */
  dtype: SafetensorsDType;
  /** Size of each dimension; `[]` for a scalar. */
  shape: number[];
  /** Size of its data in the file, in bytes. */
  byteLength: number;
}

/** A `.safetensors` file whose header has been read and validated; see {@link openSafetensorsFile}. */
export interface SafetensorsFile {
  /** Tensor names, in file order (by data offset). */
  readonly names: string[];
  /** The `__metadata__` map (null prototype; `{}` when absent). */
  readonly metadata: Record<string, string>;
  /** Size of the file in bytes. */
  readonly fileSize: number;
  /** Bytes read from the file so far (header included). */
  readonly bytesRead: number;
  /** dtype, shape and size of a tensor; throws `INVALID_ARGUMENT` for an unknown name. */
  info(name: string): SafetensorsTensorInfo;
  /** Reads and decodes one tensor (only its bytes are read). */
  read(name: string): RawTensor;
  /** Closes the file; later `read`s throw. Idempotent. */
  close(): void;
}

/**
 * Opens a `.safetensors` file and reads only its 8-byte header length and its header,
 * which are validated in full (as {@link parseSafetensors} does, against the file's size)
 * before any tensor data is read; tensors are then read one at a time, each with
 * positional reads of at most 1 GiB, so files (and offsets) over 2 GiB work and a lying
 * header is rejected after reading 8 + N bytes, not the whole file.
 *
 * @throws {SafetensorsError} `IO` when the file cannot be opened or read, else as
 *   {@link parseSafetensors}; never another error.
 *
 * @example
 * ```ts
 * const f = openSafetensorsFile('model.safetensors');
 * try {
 *   f.names;                      // ['bert.embeddings.word_embeddings.weight', …]
 *   const w = f.read(f.names[0]); // { dtype: 'float32', shape: [30522, 768], data: Float32Array }
 * } finally {
 *   f.close();
 * }
 * ```
 */
export function openSafetensorsFile(path: string): SafetensorsFile {
  return openAs(path, 'openSafetensorsFile');
}

function openAs(path: string, where: string): SafetensorsFile {
  if (typeof path !== 'string') {
    throw new SafetensorsError('INVALID_ARGUMENT', `${where}: path must be a string, got ${describe(path)}`);
  }
  let fd: number;
  let fileSize: number;
  let fs: NodeFsLike;
  try {
    fs = nodeFs(where, "pass the file's bytes (a Uint8Array, e.g. from fetch) to parseSafetensors / loadSafetensors instead");
    fd = fs.openSync(path, 'r');
  } catch (cause) {
    throw new SafetensorsError('IO', `${where}: cannot read ${JSON.stringify(path)}: ${(cause as Error).message}`, { cause });
  }
  let open = true;
  let bytesRead = 0;
  const readAt = (length: number, position: number, what: string): Uint8Array => {
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(length);
    } catch (cause) {
      throw new SafetensorsError('IO', `safetensors: cannot allocate ${length} bytes for ${what} of ${JSON.stringify(path)}`, { cause });
    }
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(fd, buf, done, Math.min(READ_CHUNK, length - done), position + done);
        if (n === 0) {
          throw new SafetensorsError(
            'INCOMPLETE_BUFFER',
            `safetensors: ${JSON.stringify(path)} ended at byte ${position + done} while reading ${what} (changed while open?)`,
          );
        }
        done += n;
        bytesRead += n;
      }
    } catch (cause) {
      if (cause instanceof SafetensorsError) throw cause;
      throw new SafetensorsError('IO', `safetensors: cannot read ${what} of ${JSON.stringify(path)}: ${(cause as Error).message}`, { cause });
    }
    return buf;
  };
  let header: ParsedHeader;
  try {
    try {
      fileSize = fs.fstatSync(fd).size;
    } catch (cause) {
      throw new SafetensorsError('IO', `safetensors: cannot stat ${JSON.stringify(path)}: ${(cause as Error).message}`, { cause });
    }
    header = guarded(() => {
      const headerLength = readHeaderLength(readAt(Math.min(8, fileSize), 0, 'the header length'), fileSize);
      return parseHeader(readAt(headerLength, 8, 'the header'), fileSize);
    });
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  const byName = new Map(header.entries.map((e) => [e.name, e]));
  const entry = (name: unknown, fn: string): HeaderEntry => {
    const e = typeof name === 'string' ? byName.get(name) : undefined;
    if (e === undefined) {
      throw new SafetensorsError('INVALID_ARGUMENT', `SafetensorsFile.${fn}: no tensor named ${describe(name)} in ${JSON.stringify(path)}`);
    }
    return e;
  };
  return {
    names: header.entries.map((e) => e.name),
    metadata: header.metadata,
    fileSize,
    get bytesRead() {
      return bytesRead;
    },
    info(name: string): SafetensorsTensorInfo {
      const e = entry(name, 'info');
      return { dtype: e.dtype, shape: [...e.shape], byteLength: e.end - e.begin };
    },
    read(name: string): RawTensor {
      const e = entry(name, 'read');
      if (!open) throw new SafetensorsError('IO', `SafetensorsFile.read: ${JSON.stringify(path)} is closed`);
      return guarded(() => {
        const src = readAt(e.end - e.begin, header.dataStart + e.begin, `tensor ${JSON.stringify(e.name)}`);
        return decodeTensor(e.name, e.dtype, [...e.shape], src, true);
      });
    },
    close(): void {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}

/**
 * Reads and parses a `.safetensors` file (synchronously): the header first (validated
 * before any data is read), then each tensor on its own — see {@link openSafetensorsFile}.
 *
 * @param path - file path.
 * @throws {SafetensorsError} `IO` when the file cannot be read, else as {@link parseSafetensors}.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensorsFile('model.safetensors');
 * ```
 */
export function readSafetensorsFile(path: string): ParsedSafetensors {
  const file = openAs(path, 'readSafetensorsFile');
  try {
    const tensors: Record<string, RawTensor> = Object.create(null) as Record<string, RawTensor>;
    for (const name of file.names) setOwn(tensors, name, file.read(name));
    return { tensors, metadata: file.metadata };
  } finally {
    file.close();
  }
}

/**
 * Serializes tensors with {@link serializeSafetensors} and writes them to `path` (synchronously).
 *
 * @throws {SafetensorsError} `IO` when the file cannot be written, else as {@link serializeSafetensors}.
 *
 * @example
 * ```ts
 * writeSafetensorsFile('out.safetensors', {
 *   w: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
 * });
 * ```
 */
export function writeSafetensorsFile(
  path: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  const bytes = serializeSafetensors(tensors, metadata);
  try {
    nodeFs('writeSafetensorsFile', 'use serializeSafetensors(tensors) for the bytes instead').writeFileSync(path, bytes);
  } catch (cause) {
    throw new SafetensorsError(
      'IO',
      `writeSafetensorsFile: cannot write ${JSON.stringify(path)}: ${(cause as Error).message}`,
      { cause },
    );
  }
}
