/**
 * Buffer reuse for the CPU backend: a pool of typed arrays, keyed by dtype and length.
 *
 * A fresh typed array of a few hundred KiB is not free in V8: it is calloc'ed outside the JS
 * heap (fresh pages fault in on first touch), and the growing "external memory" makes V8 run
 * extra mark-compact collections — ~25 ms of a 250 ms BERT-tiny training step before this pool.
 * A training step allocates the same sizes every time, so arrays whose storage is disposed
 * (by `tidy`, by `Tensor.dispose`, and by `backward()` for the temporaries it created) come
 * back here and serve the next allocation of the same dtype and length.
 *
 * Safety: only arrays this pool allocated are taken back (a WeakSet remembers them), so a
 * caller's array wrapped without a copy is never recycled; a disposed storage drops its array
 * reference first (cpu/index.ts), so nothing can read the recycled memory through it.
 * The pool holds at most `limitBytes` (default 512 MiB, `setCpuPoolLimit`, 0 turns it off);
 * when an array would exceed it the pool is emptied first, so varying sizes cannot pin memory.
 *
 * The CPU backend's pool (`cpuPool`) serves float32 arrays from the wasm arena (arena.ts) where
 * there is one: they are views of the float32 kernel's WebAssembly memory, which the wasm
 * kernels read and write in place; the arena reuses blocks by size class, has its own cap and
 * falls back to a plain array when full. `TENSORGRAD_ARENA=0` turns it off.
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { checkAllocation } from '../../core/limits.js';
import type { ArenaStats, WasmArena } from './arena.js';
import { float32Arena } from './matmul.js';

/** Arrays smaller than this (bytes) are not pooled: V8 allocates small ones cheaply. */
export const POOL_MIN_BYTES = 16 * 1024;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** What the CPU backend's array pool holds and how often it served an allocation (`cpuPool().stats()`). */
export interface PoolStats {
  /** bytes held by free arrays */
  bytes: number;
  /** free arrays held */
  arrays: number;
  /** allocations served from the pool / freshly allocated (of poolable size) since the last reset */
  hits: number;
  /** Allocations of a poolable size that found no free array and allocated fresh memory since the last reset. */
  misses: number;
}

export class ArrayPool {
  private readonly free = new Map<string, TypedArray[]>();
  private readonly owned = new WeakSet<TypedArray>();
  private bytes = 0;
  private arrays = 0;
  private hits = 0;
  private misses = 0;

  private arenaOf: WasmArena | null | undefined;

  /**
   * @param limitBytes the cap on free arrays held
   * @param arena where float32 arrays come from: a function returning the wasm arena (or null
   *   for none), called on first use; none by default
   */
  constructor(public limitBytes = 512 * 1024 * 1024, private readonly arena?: () => WasmArena | null) {}

  /** The arena float32 arrays come from, or null. */
  wasmArena(): WasmArena | null {
    if (this.arenaOf === undefined) this.arenaOf = this.arena?.() ?? null;
    return this.arenaOf;
  }

  /** An array of `n` elements of `dtype`; zero-filled only when `zero` (kernels that overwrite every element pass false). */
  alloc(dtype: DType, n: number, zero: boolean): TypedArray {
    // the safety net of the size limit (core/limits.ts): ops check their outputs by name first
    checkAllocation('cpu backend', n, dtype, 'a buffer');
    const nbytes = n * BYTES[dtype];
    if (nbytes < POOL_MIN_BYTES || this.limitBytes === 0) return allocArray(dtype, n);
    if (dtype === 'float32' && this.arena !== undefined) {
      const v = this.wasmArena()?.alloc(n, zero);
      if (v != null) return v;
    }
    const list = this.free.get(key(dtype, n));
    const a = list?.pop();
    if (a !== undefined) {
      this.hits++;
      this.bytes -= nbytes;
      this.arrays--;
      if (zero) a.fill(0);
      return a;
    }
    this.misses++;
    const fresh = allocArray(dtype, n);
    this.owned.add(fresh);
    return fresh;
  }

  /** Takes back an array this pool allocated (others are ignored: the garbage collector frees them). */
  release(a: TypedArray, dtype: DType): void {
    if (dtype === 'float32' && this.arenaOf != null && this.arenaOf.release(a)) return;
    if (!this.owned.has(a)) return;
    const nbytes = a.length * BYTES[dtype];
    if (nbytes > this.limitBytes) return;
    if (this.bytes + nbytes > this.limitBytes) this.clear();
    const k = key(dtype, a.length);
    let list = this.free.get(k);
    if (list === undefined) this.free.set(k, (list = []));
    list.push(a);
    this.bytes += nbytes;
    this.arrays++;
  }

  /** Drops every free array (the garbage collector then returns the memory). */
  clear(): void {
    this.free.clear();
    this.bytes = 0;
    this.arrays = 0;
  }

  /** Free arrays held and hits/misses, the arena's blocks included. */
  stats(reset = false): PoolStats {
    const s = { bytes: this.bytes, arrays: this.arrays, hits: this.hits, misses: this.misses };
    const ar = this.arenaOf?.stats(reset);
    if (ar) {
      s.bytes += ar.freeBytes;
      s.arrays += ar.freeBlocks;
      s.hits += ar.hits;
      s.misses += ar.misses + ar.refused;
    }
    if (reset) this.hits = this.misses = 0;
    return s;
  }
}

const key = (dtype: DType, n: number): string => `${dtype}:${n}`;

/** The pool of the CPU backend (float32 arrays from the wasm arena unless TENSORGRAD_ARENA=0). */
export const cpuPool = new ArrayPool(512 * 1024 * 1024, float32Arena);

/**
 * The state of the float32 wasm arena, where the CPU backend keeps float32 storages of 16 KiB
 * and more (inside the WebAssembly memory of its kernels, which then work on them in place):
 * memory size, high-water mark, live and free blocks, hits/misses, refusals past the cap
 * (`TENSORGRAD_ARENA_MB`), blocks returned by the garbage collector. Null where there is no
 * arena (no wasm SIMD, or `TENSORGRAD_ARENA=0`). `reset` zeroes the hit/miss counters.
 *
 * @example
 * const s = cpuArenaStats();
 * if (s) console.log(`${(s.topBytes / 2 ** 20).toFixed(1)} MiB used, ${s.liveBlocks} live blocks`);
 */
export function cpuArenaStats(reset = false): ArenaStats | null {
  return cpuPool.wasmArena()?.stats(reset) ?? null;
}

/** Caps the bytes of free arrays the CPU backend keeps for reuse (0: no reuse). Like torch's caching allocator limit. */
export function setCpuPoolLimit(bytes: number): void {
  if (!(Number.isFinite(bytes) && bytes >= 0)) throw new RangeError(`setCpuPoolLimit: expected a byte count ≥ 0, got ${bytes}`);
  cpuPool.limitBytes = bytes;
  if (cpuPool.stats().bytes > bytes) cpuPool.clear();
}

/** Frees the arrays the CPU backend keeps for reuse (like torch.cuda.empty_cache()). */
export function emptyCpuCache(): void {
  cpuPool.clear();
}
