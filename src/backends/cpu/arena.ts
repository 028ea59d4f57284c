/**
 * The float32 arena: storages of float32 CPU tensors allocated inside the WebAssembly memory
 * of the float32 GEMM kernel (wasm-gemm.ts), so that the wasm kernels read and write tensors
 * in place instead of copying them into and out of a scratch region (issue #19 item 1).
 *
 * An arena block is an ordinary `Float32Array` — a view of the memory's buffer — so every JS
 * kernel keeps working on it unchanged; a wasm kernel recognises one by its buffer (`address`)
 * and passes its byte address to the module. The allocator has the pool's semantics (pool.ts):
 *
 *   - size classes: a request of b bytes (≥ POOL_MIN_BYTES) takes a block of the class
 *     ⌈b / s⌉·s with s = 2^⌊log₂(b − 1)⌋ / 4 (four classes per power of two: ≤ 25 % slack);
 *     a freed block goes on its class's free list and serves the next request of that class;
 *   - blocks come back through `release` (tidy, Tensor.dispose, backward's temporaries) and,
 *     for tensors nobody disposed, through a FinalizationRegistry when their view is collected;
 *   - a cap (`limitBytes`, `TENSORGRAD_ARENA_MB`, default 1 GiB): past it `alloc` returns null
 *     and the caller allocates a plain array (kernels then copy it as before);
 *   - new blocks are cut from the top of the memory, which grows in steps of ≥ 1/4 of its size.
 *
 * Growing a WebAssembly memory and live views: on a *shared* memory (SharedArrayBuffer, the
 * Node default, where helper threads exist) `memory.grow` never detaches anything — the old
 * SharedArrayBuffer keeps its length and every view of it stays valid, so blocks handed out
 * before a grow remain usable for ever. On a *non-shared* memory (one thread; a browser without
 * cross-origin isolation) `memory.grow` detaches the old ArrayBuffer and every view of it,
 * including typed arrays that kernels and host code hold in the middle of an op, not only those
 * stored in tensors. The arena therefore never grows a non-shared memory: it reserves its
 * capacity when the memory is created (`initial` pages: address space, committed by the OS on
 * first touch, so resident memory grows only with use) and past it hands out plain arrays;
 * the kernels' scratch region is an arena block too, so no kernel grows the memory behind the
 * arena's back.
 */
import type { WasmMemory } from './wasm-asm.js';
import { PAGE } from './wasm-asm.js';

/** Blocks start at this byte address (0 stays unused) and stay this far below the memory's end: the SIMD kernels may read up to 3 elements past an operand. */
const GUARD = 64;
/** wasm32's 4 GiB. */
const MAX_BYTES = 65536 * PAGE;

/** The block size for a request of `bytes` (see the file header): four classes per power of two, multiples of 64 bytes. */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const step = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  return Math.ceil(bytes / step) * step;
}

/** What the arena holds (`cpuArenaStats()`). */
export interface ArenaStats {
  /** Bytes of the wasm memory. */
  memoryBytes: number;
  /** End of the highest block handed out so far (bytes): the arena's high-water mark. */
  topBytes: number;
  /** The cap on topBytes (`TENSORGRAD_ARENA_MB`). */
  limitBytes: number;
  /** Blocks in use (tensors' storages, the kernels' scratch). */
  liveBlocks: number;
  /** Bytes of the blocks in use. */
  liveBytes: number;
  /** Blocks on the free lists. */
  freeBlocks: number;
  /** Bytes of the blocks on the free lists. */
  freeBytes: number;
  /** Allocations served from a free list. */
  hits: number;
  /** Allocations cut from the top of the memory. */
  misses: number;
  /** Allocations refused past the cap (a plain array was handed out instead). */
  refused: number;
  /** Blocks returned by the garbage collector (storages nobody disposed). */
  finalized: number;
  /** True when the memory is a SharedArrayBuffer (it then grows in place). */
  shared: boolean;
}

export class WasmArena {
  /** the memory's buffers seen so far (a shared memory gets a new SharedArrayBuffer object per grow) */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** block size (bytes) of every view handed out, by view */
  private readonly blockBytes = new WeakMap<Float32Array, number>();
  private readonly live = new WeakSet<Float32Array>();
  private readonly free = new Map<number, Float32Array[]>();
  /** free extents (byte offset, size) made by `coalesce`, served first fit */
  private loose: { off: number; bytes: number }[] = [];
  private readonly registry: FinalizationRegistry<{ off: number; cls: number }> | null;
  private top = GUARD;
  private liveBlocks = 0;
  private liveBytes = 0;
  private freeBlocks = 0;
  private freeBytes = 0;
  private hits = 0;
  private misses = 0;
  private refused = 0;
  private finalized = 0;
  private scratchView: Float32Array | null = null;

  /**
   * @param memory the kernel's memory (blocks are cut from it above address 0)
   * @param shared whether it is a shared memory (only then does the arena grow it)
   * @param limitBytes the cap on the arena's extent (non-shared: the reserved size)
   */
  constructor(readonly memory: WasmMemory, readonly shared: boolean, public limitBytes: number) {
    this.buffers.add(memory.buffer);
    const FR = (globalThis as { FinalizationRegistry?: typeof FinalizationRegistry }).FinalizationRegistry;
    this.registry = FR === undefined ? null : new FR<{ off: number; cls: number }>((b) => {
      this.finalized++;
      this.liveBlocks--;
      this.liveBytes -= b.cls;
      this.pushFree(new Float32Array(this.memory.buffer, b.off, b.cls / 4), b.cls);
    });
  }

  /** True when `a` is a view of this arena's memory (a wasm kernel can address it in place). */
  contains(a: ArrayBufferView): boolean {
    const buf = a.buffer;
    if (this.buffers.has(buf)) return true;
    if (buf === this.memory.buffer) {
      this.buffers.add(buf);
      return true;
    }
    return false;
  }

  /** The byte address of a[0] in the memory, or −1 when `a` is not a float32 view of it. */
  address(a: ArrayBufferView): number {
    return a instanceof Float32Array && this.contains(a) ? a.byteOffset : -1;
  }

  /** Elements available from a[0] to the end of its block (an arena block's own view), else a.length. */
  capacity(a: Float32Array): number {
    const b = this.blockBytes.get(a);
    return b === undefined ? a.length : b / 4;
  }

  /**
   * A float32 view of n elements in the arena, zero-filled when `zero` (fresh memory is zero),
   * or null when the cap (or, non-shared, the reservation) leaves no room.
   */
  alloc(n: number, zero: boolean): Float32Array | null {
    return this.allocBlock(n, zero, false);
  }

  private allocBlock(n: number, zero: boolean, overCap: boolean): Float32Array | null {
    const cls = sizeClass(4 * n);
    const list = this.free.get(cls);
    let v = list?.pop();
    if (v !== undefined) {
      this.hits++;
      this.freeBlocks--;
      this.freeBytes -= cls;
      if (v.length !== n) v = new Float32Array(v.buffer, v.byteOffset, n);
      if (zero) v.fill(0);
    } else {
      const got = this.take(cls, overCap);
      if (got === null) {
        this.refused++;
        return null;
      }
      this.misses++;
      v = new Float32Array(this.memory.buffer, got.off, n);
      if (zero && !got.fresh) v.fill(0); // fresh pages are zero
    }
    this.blockBytes.set(v, cls);
    this.live.add(v);
    this.liveBlocks++;
    this.liveBytes += cls;
    this.registry?.register(v, { off: v.byteOffset, cls }, v);
    return v;
  }

  /** Takes back a view that `alloc` handed out (false, doing nothing, for any other array). */
  release(v: ArrayBufferView): boolean {
    if (!(v instanceof Float32Array) || !this.live.has(v)) return false;
    const cls = this.blockBytes.get(v)!;
    this.live.delete(v);
    this.registry?.unregister(v);
    this.liveBlocks--;
    this.liveBytes -= cls;
    this.pushFree(v, cls);
    return true;
  }

  /**
   * The byte address of a scratch region of at least `bytes` for the kernels (16-aligned; its
   * contents are undefined). One region, replaced by a larger block when too small, so the
   * kernels never grow the memory themselves. Throws a RangeError when the arena has no room
   * (the callers then run their plain-JS kernels, as when a memory cannot grow).
   */
  scratch(bytes: number): number {
    const s = this.scratchView;
    if (s !== null && s.length * 4 >= bytes) return s.byteOffset;
    if (s !== null) {
      this.release(s);
      this.scratchView = null;
    }
    // some headroom, so that slowly growing requests do not replace the block every time
    const want = Math.max(bytes, s === null ? 0 : Math.min(2 * s.length * 4, bytes * 2));
    // the scratch may go past the cap (which bounds the storages): without it no kernel runs
    const v = this.allocBlock(Math.ceil(want / 4), false, true) ?? this.allocBlock(Math.ceil(bytes / 4), false, true);
    if (v === null) throw new RangeError(`wasm arena: no room for ${bytes} bytes of kernel scratch (limit ${this.limitBytes} bytes)`);
    this.scratchView = new Float32Array(v.buffer, v.byteOffset, this.capacity(v));
    // the scratch view replaces v as the block's owner (release(scratchView) must work)
    this.live.delete(v);
    this.registry?.unregister(v);
    this.blockBytes.set(this.scratchView, this.blockBytes.get(v)!);
    this.live.add(this.scratchView);
    return v.byteOffset;
  }

  stats(reset = false): ArenaStats {
    const s: ArenaStats = {
      memoryBytes: this.memory.buffer.byteLength, topBytes: this.top, limitBytes: this.limitBytes,
      liveBlocks: this.liveBlocks, liveBytes: this.liveBytes, freeBlocks: this.freeBlocks, freeBytes: this.freeBytes,
      hits: this.hits, misses: this.misses, refused: this.refused, finalized: this.finalized, shared: this.shared,
    };
    if (reset) this.hits = this.misses = this.refused = 0;
    return s;
  }

  /**
   * A block of `cls` bytes that is not on its class's free list: first fit from the coalesced
   * free extents, else cut from the top; when the top would have to grow the memory (or pass
   * the cap), the free blocks of every class are coalesced first (`coalesce`) and tried again —
   * so blocks freed in size classes that are no longer requested (batches whose length
   * changes) are reused instead of stranding memory. `fresh`: never used since the memory grew (zero).
   */
  private take(cls: number, overCap: boolean): { off: number; fresh: boolean } | null {
    let off = this.fromLoose(cls);
    if (off >= 0) return { off, fresh: false };
    const room = this.top + cls + GUARD <= Math.min(this.memory.buffer.byteLength, overCap ? Infinity : this.limitBytes);
    if (!room && (this.freeBlocks > 0 || this.loose.length > 0)) {
      this.coalesce();
      off = this.fromLoose(cls);
      if (off >= 0) return { off, fresh: false };
    }
    // below the highest end ever cut, memory may hold old data (the top was lowered by coalesce)
    const fresh = this.top >= this.highest;
    off = this.cut(cls, overCap);
    if (off < 0) return null;
    this.highest = Math.max(this.highest, this.top);
    return { off, fresh };
  }

  /** The highest end of any block ever cut: memory above it has never been written (zero). */
  private highest = GUARD;

  /** First fit in the coalesced extents (the block taken from the extent's start), or −1. */
  private fromLoose(cls: number): number {
    const L = this.loose;
    for (let i = 0; i < L.length; i++) {
      const e = L[i]!;
      if (e.bytes < cls) continue;
      const off = e.off;
      e.off += cls;
      e.bytes -= cls;
      this.freeBytes -= cls;
      if (e.bytes === 0) {
        L.splice(i, 1);
        this.freeBlocks--;
      }
      return off;
    }
    return -1;
  }

  /**
   * Moves every free block into the extent list, merging neighbours (blocks are adjacent when
   * one ends where the next starts), and lowers the top past a free extent that ends there.
   */
  private coalesce(): void {
    const ex: { off: number; bytes: number }[] = this.loose.slice();
    for (const [cls, list] of this.free) for (const v of list) ex.push({ off: v.byteOffset, bytes: cls });
    this.free.clear();
    ex.sort((a, b) => a.off - b.off);
    const merged: { off: number; bytes: number }[] = [];
    for (const e of ex) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.off + last.bytes === e.off) last.bytes += e.bytes;
      else merged.push({ ...e });
    }
    const last = merged[merged.length - 1];
    if (last !== undefined && last.off + last.bytes === this.top) {
      this.top = last.off;
      merged.pop();
    }
    this.loose = merged;
    this.freeBlocks = merged.length;
    this.freeBytes = merged.reduce((t, e) => t + e.bytes, 0);
  }

  private pushFree(v: Float32Array, cls: number): void {
    let list = this.free.get(cls);
    if (list === undefined) this.free.set(cls, (list = []));
    list.push(v);
    this.freeBlocks++;
    this.freeBytes += cls;
  }

  /** A new block of `cls` bytes from the top (growing a shared memory when needed), or −1. */
  private cut(cls: number, overCap: boolean): number {
    const off = this.top, end = off + cls;
    const limit = overCap ? MAX_BYTES : this.limitBytes;
    if (end + GUARD > limit) return -1;
    const have = this.memory.buffer.byteLength;
    if (end + GUARD > have) {
      if (!this.shared) return -1; // a grow would detach every live view (file header)
      const need = Math.ceil((end + GUARD - have) / PAGE);
      const step = Math.max(need, Math.ceil(have / 4 / PAGE));
      const cap = Math.floor((limit - have) / PAGE);
      try {
        this.memory.grow(Math.max(need, Math.min(step, cap)));
      } catch (e) {
        if (e instanceof RangeError) return -1;
        throw e;
      }
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return off;
  }
}

type ProcessLike = { env?: Record<string, string | undefined> };
const env = (globalThis as { process?: ProcessLike }).process?.env;

/**
 * Whether float32 storages live in the wasm arena: unless `TENSORGRAD_ARENA=0` (then kernels copy,
 * as before the arena). It was opt-in for a while (2026-12-02) until free blocks were coalesced.
 */
export function arenaEnabled(): boolean {
  return env?.['TENSORGRAD_ARENA'] !== '0';
}

/** The arena's cap in bytes: `TENSORGRAD_ARENA_MB` (MiB), else 1 GiB (non-shared memories: 256 MiB, reserved up front). */
export function arenaLimitBytes(shared: boolean): number {
  const mb = Number.parseInt(env?.['TENSORGRAD_ARENA_MB'] ?? '', 10);
  if (Number.isInteger(mb) && mb > 0) return Math.min(mb, 3072) * 2 ** 20;
  return (shared ? 1024 : 256) * 2 ** 20;
}
