/**
 * The per-allocation size limit (issue #11 item 18): every creation function, every op's output
 * and the layers' parameters check the bytes they are about to allocate against one documented,
 * settable cap, up front, so that `zeros([1e9, 1e9])` or `new nn.Linear(1e6, 1e6)` fail at once
 * with a message naming the op, the size and the limit — not with V8's "Invalid typed array
 * length", or by aborting the process when the heap runs out.
 *
 * Default: half the physical memory (`os.totalmem() / 2` in Node, through
 * `process.getBuiltinModule`, so that no `node:` import is needed where there is no Node);
 * elsewhere half of `navigator.deviceMemory`, else 2 GiB. `setMaxAllocationBytes(n)` changes it
 * (`null` restores the default).
 */
import type { DType } from './dtype.js';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const FALLBACK_BYTES = 2 ** 31;

/** The default cap: half the physical memory where it is known, else 2 GiB. */
export function defaultMaxAllocationBytes(): number {
  const g = globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
    navigator?: { deviceMemory?: number };
  };
  try {
    const os = g.process?.getBuiltinModule?.('os') as { totalmem?: () => number } | undefined;
    const total = os?.totalmem?.();
    if (typeof total === 'number' && total > 0) return Math.floor(total / 2);
  } catch {
    // not Node, or a sandbox without os: fall through
  }
  const gb = g.navigator?.deviceMemory;
  if (typeof gb === 'number' && gb > 0) return Math.floor((gb * 2 ** 30) / 2);
  return FALLBACK_BYTES;
}

let maxBytes = defaultMaxAllocationBytes();
let isDefault = true;

/**
 * Sets the largest single allocation (in bytes) that creation functions, ops and layers accept;
 * `null` restores the default (half the physical memory).
 * @example
 * setMaxAllocationBytes(2 ** 30); // refuse any tensor over 1 GiB
 */
export function setMaxAllocationBytes(bytes: number | null): void {
  if (bytes === null) {
    maxBytes = defaultMaxAllocationBytes();
    isDefault = true;
    return;
  }
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`setMaxAllocationBytes: expected a non-negative finite number of bytes or null, got ${String(bytes)}`);
  }
  maxBytes = bytes;
  isDefault = false;
}

/**
 * The current per-allocation limit in bytes.
 * @example
 * ```ts
 * getMaxAllocationBytes();                // e.g. 8589934592 on a machine with 16 GiB: half the physical memory
 * setMaxAllocationBytes(2 ** 30);         // refuse single tensors over 1 GiB
 * zeros([2 ** 29]);                       // 2 GiB of float32: throws, naming the op, the shape and the limit
 * ```
 */
export function getMaxAllocationBytes(): number {
  return maxBytes;
}

/** Bytes as a short human-readable string: 4.0e18 B (3.5 EiB). */
export function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = b, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${b} B` : `${b.toPrecision(3)} bytes (${v.toFixed(1)} ${units[u]})`;
}

/**
 * Throws a RangeError when an allocation of `shape` (or a number of elements) of `dtype` is over
 * the limit: "zeros: a tensor of shape [1e9,1e9] (float32) needs 4.00e+18 bytes (3.5 EiB), over
 * the allocation limit of …".
 */
export function checkAllocation(op: string, shape: readonly number[] | number, dtype: DType, what = 'a tensor'): void {
  const n = typeof shape === 'number' ? shape : shape.reduce((p, d) => p * d, 1);
  const bytes = n * BYTES[dtype];
  if (bytes <= maxBytes) return;
  const desc = typeof shape === 'number' ? `of ${n} elements` : `of shape [${shape.join(',')}]`;
  throw new RangeError(
    `${op}: ${what} ${desc} (${dtype}) needs ${fmtBytes(bytes)}, over the allocation limit of ${fmtBytes(maxBytes)}` +
      ` (${isDefault ? 'the default, half the physical memory; ' : ''}change it with setMaxAllocationBytes)`,
  );
}
