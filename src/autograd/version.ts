/**
 * Version counters for in-place modification (as PyTorch's `tensor._version`).
 *
 * Every storage has a counter, shared by all the views of it, that each in-place write
 * (`copy_`, `add_`, …, optimizer steps) increments. A graph node remembers the versions of its
 * inputs, its output and its saved tensors when it is recorded; when its backward reads one of
 * them and the version has moved on, backward throws instead of computing a gradient from the
 * modified values (`y = x.mul(w).sum(); x.add_(10); y.backward()` would otherwise give
 * ∂y/∂w = x + 10).
 */
import type { Storage } from '../backends/contract.js';

const versions = new WeakMap<Storage, number>();

/** How many in-place writes the storage has seen (0 for a fresh one). */
export function versionOf(s: Storage): number {
  return versions.get(s) ?? 0;
}

/** Records an in-place write into `s` (every view of it sees the new version). */
export function bumpVersion(s: Storage): void {
  versions.set(s, (versions.get(s) ?? 0) + 1);
}
