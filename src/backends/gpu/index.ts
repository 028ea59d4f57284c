/**
 * The 'gpu' backend, on gpu.js (WebGL in browsers, headless-gl in Node).
 *
 * Storage lives on the device as a gpu.js pipeline texture (float32, four values per texel)
 * and stays there until it is read; kernels pass textures to kernels. A storage may also be
 * held on the host (an array uploaded lazily on first use, or data the CPU produced) or be a
 * lazy constant (`full()`, never uploaded: a kernel reads it as a uniform).
 *
 * What runs where:
 *   - float32 on the device. int32 and bool are kept in float textures too: exact while every
 *     value is below 2²⁴ in magnitude (int32 arrays with larger values stay on the host).
 *   - float64 has no GL type: float64 storages stay on the host and their kernels run on the
 *     CPU backend (one warning per process).
 *   - Any kernel the device cannot do — a storage above `maxElements`, a loop longer than GLSL
 *     allows, a destination view whose positions cannot be inverted, a kernel that fails to
 *     compile — runs on the CPU backend with a one-time `console.warn`, never silently wrong.
 *
 * Honest detection: gpu.js silently falls back to WebAssembly or plain JS when WebGL is missing
 * (no `gl` build, no display, a worker thread) while still calling its mode 'gpu'. At start-up
 * we build a kernel, read its class (HeadlessGLKernel / WebGLKernel / WebGL2Kernel are GL) and
 * run a known-answer self-test through this backend's own kernels. `backendInfo('gpu')` reports
 * the result; without a working GL kernel the backend keeps every storage on the host (strict
 * mode — `TENSORGRAD_BACKEND=gpu-strict` or `{ strict: true }` — throws instead).
 *
 * Compiled kernels are cached by the signature of their generated code (op, dtype, shapes,
 * strides, operand kinds) in an LRU; an evicted kernel is destroyed once no texture it produced
 * is alive (gpu.js frees a texture through the kernel that made it). Textures are freed by
 * `dispose()` and, as a safety net, by a FinalizationRegistry.
 */
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { isContiguous, numel, type Shape } from '../../core/shape.js';
import type { Backend, Storage, View } from '../contract.js';
import { cpuBackend, CpuStorage } from '../cpu/index.js';
import { mapOpExpr, type ArgReduceOp, type MapOp, type ReduceOp } from '../opcodes.js';
import { loadGpuJs, type GpuJsInstance, type GpuJsKernel, type GpuJsKernelObject, type GpuJsModule, type GpuJsTexture } from './gpujs.js';
import type { StoreConversion } from './glsl.js';
import {
  MAX_LOOP, REDUCE_CHUNK, argReduceSpec, copySpec, gatherSpec, greedyOrder, mapSpec, matmulSpec, reduceSpec, scatterAddSpec, uploadSpec,
  type KernelSpec,
} from './kernels.js';

export { preloadGpuJs } from './gpujs.js';
export type { GpuJsModule } from './gpujs.js';

/** The gpu.js kernel classes that run on WebGL. */
export const GL_KERNEL_CLASSES: readonly string[] = ['HeadlessGLKernel', 'WebGLKernel', 'WebGL2Kernel'];

/** int32 values are exact in a float32 texture below 2²⁴. */
const FLOAT_EXACT_INT = 2 ** 24;

/** Options of `registerGpuBackend`: strict start-up, the gpu.js module to use, its mode and the kernel cache size. */
export interface GpuBackendOptions {
  /** Throw at start-up when gpu.js gives no GL kernel or the self-test fails (default: env TENSORGRAD_BACKEND === 'gpu-strict'). */
  strict?: boolean;
  /** The gpu.js module (or its GPU constructor), for bundles where it cannot be required. */
  gpujs?: GpuJsModule;
  /** gpu.js mode: 'gpu' (default: headlessgl → webgl2 → webgl), or 'headlessgl', 'webgl2', 'webgl'. */
  mode?: string;
  /** Compiled kernels kept (LRU), default 256. */
  maxKernels?: number;
  /** Bytes of output textures the cached kernels may hold (each keeps its last output), default 256 MiB. */
  maxCachedBytes?: number;
  /** Largest storage (elements) kept on the device, default 2²⁶ (a texture of 4096² texels). */
  maxElements?: number;
}

export interface GpuBackendInfo {
  /** True when kernels run on WebGL and the self-test passed. */
  available: boolean;
  /** The gpu.js kernel class: 'HeadlessGLKernel' | 'WebGLKernel' | 'WebGL2Kernel' are GL; 'WebAssemblyKernel', 'CPUKernel' are not; 'none' without gpu.js. */
  kernelClass: string;
  /** The WebGL RENDERER and VERSION strings ('' without GL). */
  renderer: string;
  /** MAX_TEXTURE_SIZE (0 without GL). */
  maxTextureSize: number;
  /** Why the backend is not available. */
  reason?: string;
  /** Milliseconds spent loading gpu.js, probing and self-testing. */
  initMs: number;
}

// ---- warnings -------------------------------------------------------------------------------------

const warned = new Set<string>();
/** console.warn once per process and key. */
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`tensorgrad gpu: ${message}`);
}

// ---- storage ---------------------------------------------------------------------------------------

interface KernelEntry {
  readonly key: string;
  readonly kernel: GpuJsKernel;
  /** Output textures of this kernel still held by storages. */
  live: number;
  evicted: boolean;
  bytes: number;
}

/** What the FinalizationRegistry holds for a storage: its texture, never the storage itself. */
interface TextureHolder {
  tex: GpuJsTexture | null;
  entry: KernelEntry | null;
}

export class GpuStorage implements Storage {
  disposed = false;
  /** The device copy (authoritative when set, with `host` a cached read-back). */
  readonly holder: TextureHolder = { tex: null, entry: null };
  /** A host copy: authoritative when there is no texture and no fill. */
  host: TypedArray | null = null;
  /** Every element equals this value (a lazy `full()`). */
  fill: number | null = null;
  constructor(
    readonly backend: GpuBackend,
    readonly dtype: DType,
    readonly size: number,
  ) {}
  /** Where the data is: 'device' (texture), 'host' or 'fill'. */
  get location(): 'device' | 'host' | 'fill' {
    return this.holder.tex ? 'device' : this.fill !== null ? 'fill' : 'host';
  }
}

/** A value as the dtype's typed array would store it. */
function storeScalar(v: number, dtype: DType): number {
  const a = allocArray(dtype, 1);
  a[0] = v;
  return a[0]!;
}

function storeOf(dtype: DType): StoreConversion {
  return dtype === 'int32' ? 'int32' : dtype === 'bool' ? 'bool' : 'float32';
}

/** Every element of the view reads the same storage element. */
function isUniformView(v: View): boolean {
  return v.shape.every((d, k) => d <= 1 || v.strides[k] === 0);
}

/** A kernel argument: a texture at an offset, or one value for every element. */
type Operand = { kind: 'tex'; tex: GpuJsTexture; offset: number } | { kind: 'scalar'; value: number };

/** Thrown inside a device path to send one call to the CPU (the message is the warning). */
class Fallback extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

// ---- the backend ------------------------------------------------------------------------------------

export class GpuBackend implements Backend {
  readonly name = 'gpu';
  readonly info: GpuBackendInfo;
  private readonly gpu: GpuJsInstance | null;
  private maxKernels: number;
  private maxCachedBytes: number;
  private readonly maxElements: number;
  private readonly cache = new Map<string, KernelEntry>();
  private cachedBytes = 0;
  private selfTesting = false;
  private readonly registry = new FinalizationRegistry<TextureHolder>((h) => this.releaseTexture(h));
  /** Counts for tests and benchmarks: kernels compiled, device runs, CPU fallbacks, uploads, read-backs. */
  readonly stats = { compiled: 0, deviceRuns: 0, cpuRuns: 0, uploads: 0, readbacks: 0 };

  constructor(opts: GpuBackendOptions = {}) {
    const t0 = Date.now();
    this.maxKernels = opts.maxKernels ?? 256;
    this.maxCachedBytes = opts.maxCachedBytes ?? 256 * 2 ** 20;
    const strict = opts.strict ?? envBackend() === 'gpu-strict';
    const probe = probeGpuJs(opts);
    this.gpu = probe.gpu;
    this.maxElements = Math.min(opts.maxElements ?? 2 ** 26, 4 * probe.info.maxTextureSize ** 2);
    this.info = probe.info;
    if (this.gpu && this.info.available) {
      const failure = this.runSelfTest();
      if (failure) {
        this.info.available = false;
        this.info.reason = `the GL self-test failed: ${failure}`;
      }
    }
    this.info.initMs = Date.now() - t0;
    if (!this.info.available) {
      if (strict) throw new Error(`tensorgrad: the 'gpu' backend is not available (${this.info.kernelClass}): ${this.info.reason}`);
      warnOnce('unavailable', `no WebGL kernels (${this.info.kernelClass}): ${this.info.reason}. Tensors on 'gpu' are kept and computed on the CPU.`);
    }
  }

  /** True when kernels run on the device. */
  get available(): boolean {
    return this.info.available;
  }

  // ---- memory -----------------------------------------------------------------------------------

  fromArray(data: TypedArray, dtype: DType): Storage {
    const s = new GpuStorage(this, dtype, data.length);
    const a = allocArray(dtype, data.length);
    a.set(data);
    s.host = a; // uploaded on first use by a kernel
    this.noteDtype(dtype);
    return s;
  }

  full(size: number, dtype: DType, value: number): Storage {
    const s = new GpuStorage(this, dtype, size);
    s.fill = storeScalar(value, dtype);
    this.noteDtype(dtype);
    return s;
  }

  read(storage: Storage): TypedArray {
    const s = this.own(storage);
    if (s.host) return s.host;
    if (s.holder.tex) {
      const f = s.holder.tex.toArray();
      this.stats.readbacks++;
      const a = s.dtype === 'float32' ? (f.length === s.size ? f : f.slice(0, s.size)) : allocArray(s.dtype, s.size);
      if (s.dtype !== 'float32') a.set(f.subarray(0, s.size));
      s.host = a;
      return a;
    }
    const a = allocArray(s.dtype, s.size);
    if (s.fill !== 0) a.fill(s.fill!);
    s.host = a;
    return a;
  }

  async readAsync(storage: Storage): Promise<TypedArray> {
    return this.read(storage);
  }

  dispose(storage: Storage): void {
    if (!(storage instanceof GpuStorage) || storage.disposed) return;
    storage.disposed = true;
    this.registry.unregister(storage.holder);
    this.releaseTexture(storage.holder);
    storage.host = null;
    storage.fill = null;
  }

  /**
   * Destroys every cached kernel (a kernel whose output textures are still held by storages is
   * destroyed when the last of them is released). Storages stay valid; the next kernel compiles anew.
   */
  destroy(): void {
    for (const e of [...this.cache.values()]) this.evict(e);
  }

  /** Changes the LRU budgets (evicting down to them now). */
  configureCache(limits: { maxKernels?: number; maxCachedBytes?: number }): void {
    if (limits.maxKernels !== undefined) this.maxKernels = Math.max(1, limits.maxKernels);
    if (limits.maxCachedBytes !== undefined) this.maxCachedBytes = limits.maxCachedBytes;
    this.trim();
  }

  /** Number of compiled kernels in the cache. */
  get cachedKernels(): number {
    return this.cache.size;
  }

  // ---- kernels ------------------------------------------------------------------------------------

  map(op: MapOp, inputs: readonly View[], outShape: Shape, outDtype: DType): Storage {
    const n = numel(outShape);
    return this.withFallback(`map ${op}`, () => {
      const ins = inputs.map((v) => this.operand(v));
      if (ins.every((o) => o.kind === 'scalar')) return this.constantMap(op, inputs, n, outDtype);
      this.checkDevice([...inputs.map((v) => v.storage.dtype), outDtype], n);
      const spec = mapSpec(op, mapOpExpr(op), ins.map((o) => o.kind), outShape, inputs.map((v) => v.strides), storeOf(outDtype));
      return this.runKernel(spec, n, outDtype, [...ins.flatMap(args), 0]);
    }, () => this.cpuMap(op, inputs, outShape, outDtype));
  }

  reduce(op: ReduceOp, x: View, dims: readonly number[], outDtype: DType): Storage {
    const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const outN = numel(outShape);
    return this.withFallback(`reduce ${op}`, () => {
      this.checkDevice([x.storage.dtype, outDtype], outN);
      const xo = this.operand(x);
      if (xo.kind !== 'tex') throw new Fallback('', ''); // a constant: the CPU does it without a transfer
      const keep = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
      const red = x.shape.map((_, i) => i).filter((i) => dims.includes(i));
      return this.reduceOn(op, xo, keep.map((i) => x.shape[i]!), keep.map((i) => x.strides[i]!), red.map((i) => x.shape[i]!), red.map((i) => x.strides[i]!), outDtype);
    }, () => this.cpuRun(() => cpuBackend.reduce(op, this.hostView(x), dims, outDtype), outDtype));
  }

  argReduce(op: ArgReduceOp, x: View, dim: number): Storage {
    const outN = numel(x.shape.map((d, i) => (i === dim ? 1 : d)));
    const n = x.shape[dim]!;
    return this.withFallback(`argReduce ${op}`, () => {
      this.checkDevice([x.storage.dtype], outN);
      if (n > MAX_LOOP) throw new Fallback(`loop:${op}`, `${op} over ${n} > ${MAX_LOOP} elements runs on the CPU (GLSL loop limit)`);
      const xo = this.operand(x);
      if (xo.kind !== 'tex' || n === 0) throw new Fallback('', '');
      const outer = x.shape.map((d, i) => (i === dim ? 1 : d));
      const spec = argReduceSpec(op, outer, x.strides, n, x.strides[dim]!);
      return this.runKernel(spec, outN, 'int32', [xo.tex, xo.offset]);
    }, () => this.cpuRun(() => cpuBackend.argReduce(op, this.hostView(x), dim), 'int32'));
  }

  matmul(a: View, b: View, outDtype: DType): Storage {
    const r = a.shape.length;
    const M = a.shape[r - 2]!, K = a.shape[r - 1]!, N = b.shape[r - 1]!;
    const batchShape = a.shape.slice(0, r - 2);
    const outN = numel(batchShape) * M * N;
    return this.withFallback('matmul', () => {
      this.checkDevice([a.storage.dtype, b.storage.dtype, outDtype], outN);
      if (K > MAX_LOOP) throw new Fallback('loop:matmul', `matmul with K = ${K} > ${MAX_LOOP} runs on the CPU (GLSL loop limit)`);
      const ao = this.operand(a), bo = this.operand(b);
      if (ao.kind !== 'tex' || bo.kind !== 'tex') throw new Fallback('', '');
      const spec = matmulSpec(batchShape, a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), M, K, N, a.strides[r - 2]!, a.strides[r - 1]!, b.strides[r - 2]!, b.strides[r - 1]!, storeOf(outDtype));
      return this.runKernel(spec, outN, outDtype, [ao.tex, ao.offset, bo.tex, bo.offset, 0]);
    }, () => this.cpuRun(() => cpuBackend.matmul(this.hostView(a), this.hostView(b), outDtype), outDtype));
  }

  copy(dst: View, src: View): void {
    const d = this.own(dst.storage);
    if (d.disposed) throw new Error('gpu backend: use of a disposed tensor');
    const n = numel(dst.shape);
    if (n === 0) return;
    this.withFallback('copy', () => {
      this.checkDevice([d.dtype, src.storage.dtype], d.size);
      const so = this.operand(src);
      const whole = dst.offset === 0 && n === d.size && isContiguous(dst.shape, dst.strides);
      if (whole && so.kind === 'scalar') {
        // every element gets one value: the storage becomes a constant, no kernel
        this.replaceTexture(d, null, null);
        d.host = null;
        d.fill = storeScalar(so.value, d.dtype);
        return;
      }
      if (whole) {
        const spec = mapSpec('identity', mapOpExpr('identity'), ['tex'], dst.shape, [src.strides], storeOf(d.dtype));
        const out = this.runKernel(spec, n, d.dtype, [...args(so), 0]);
        this.adoptFrom(d, out);
        return;
      }
      const order = greedyOrder(dst.shape, dst.strides);
      if (!order) throw new Fallback('copy:view', 'copy into an overlapping (expanded) view runs on the CPU');
      const old = this.operand({ storage: d, shape: [d.size], strides: [1], offset: 0 });
      const spec = copySpec(dst.shape, dst.strides, order, src.strides, old.kind, so.kind, storeOf(d.dtype));
      const out = this.runKernel(spec, d.size, d.dtype, [scalarOrTex(old), scalarOrTex(so), dst.offset, so.kind === 'tex' ? so.offset : 0, 0]);
      this.adoptFrom(d, out);
    }, () => {
      const h = this.takeHost(d);
      const hs = this.hostView(src); // before wrapping dst: src may share its storage
      cpuBackend.copy({ storage: cpuBackend.wrap(h, d.dtype), shape: dst.shape, strides: dst.strides, offset: dst.offset }, hs);
    });
  }

  gather(x: View, dim: number, index: View): Storage {
    const outN = numel(index.shape);
    const dtype = x.storage.dtype;
    return this.withFallback('gather', () => {
      this.checkDevice([dtype], outN);
      this.checkIndices('gather', index, dim, x.shape[dim]!);
      const xo = this.operand(x), io = this.operand(index);
      if (xo.kind === 'scalar') return this.fullStorage(outN, dtype, xo.value);
      const spec = gatherSpec(index.shape, index.strides, x.strides, dim, io.kind);
      return this.runKernel(spec, outN, dtype, [xo.tex, xo.offset, ...args(io)]);
    }, () => this.cpuRun(() => cpuBackend.gather(this.hostView(x), dim, this.hostView(index)), dtype));
  }

  scatterAdd(dst: View, dim: number, index: View, src: View): void {
    const d = this.own(dst.storage);
    if (d.disposed) throw new Error('gpu backend: use of a disposed tensor');
    if (numel(index.shape) === 0) return;
    this.withFallback('scatterAdd', () => {
      this.checkDevice([d.dtype, src.storage.dtype], d.size);
      this.checkIndices('scatterAdd', index, dim, dst.shape[dim]!);
      const J = index.shape[dim]!;
      if (J > MAX_LOOP || d.size * J > 2 ** 28) {
        throw new Fallback('scatterAdd:size', `scatterAdd with ${J} entries along dim ${dim} into ${d.size} elements runs on the CPU (the device version loops over every entry for every element)`);
      }
      const order = greedyOrder(dst.shape, dst.strides);
      if (!order) throw new Fallback('scatterAdd:view', 'scatterAdd into an overlapping (expanded) view runs on the CPU');
      const old = this.operand({ storage: d, shape: [d.size], strides: [1], offset: 0 });
      const io = this.operand(index), so = this.operand(src);
      const spec = scatterAddSpec(dst.shape, dst.strides, order, dim, index.shape, index.strides, src.strides, { old: old.kind, index: io.kind, src: so.kind }, storeOf(d.dtype));
      const out = this.runKernel(spec, d.size, d.dtype, [
        scalarOrTex(old), scalarOrTex(io), scalarOrTex(so), dst.offset, io.kind === 'tex' ? io.offset : 0, so.kind === 'tex' ? so.offset : 0, 0,
      ]);
      this.adoptFrom(d, out);
    }, () => {
      const hi = this.hostView(index), hs = this.hostView(src);
      const h = this.takeHost(d);
      cpuBackend.scatterAdd({ storage: cpuBackend.wrap(h, d.dtype), shape: dst.shape, strides: dst.strides, offset: dst.offset }, dim, hi, hs);
    });
  }

  // ---- device plumbing --------------------------------------------------------------------------------

  private own(s: Storage): GpuStorage {
    if (!(s instanceof GpuStorage) || s.backend !== this) throw new Error(`gpu backend: got storage of backend '${s.backend.name}'`);
    if (s.disposed) throw new Error('gpu backend: use of a disposed tensor');
    return s;
  }

  private noteDtype(dtype: DType): void {
    if (dtype === 'float64' && this.available) {
      warnOnce('float64', "float64 tensors on 'gpu' stay on the host and compute on the CPU (WebGL has no float64); use float32 on the GPU");
    }
  }

  /** Throws a Fallback unless the device can hold these dtypes and this many elements. */
  private checkDevice(dtypes: readonly DType[], n: number): void {
    if (!this.available) throw new Fallback('', '');
    if (dtypes.includes('float64')) throw new Fallback('', '');
    if (n > this.maxElements) {
      throw new Fallback('size', `tensors above ${this.maxElements} elements (the texture limit) are kept and computed on the CPU`);
    }
  }

  /** Reads an index view on the host and checks its values (the device cannot throw). */
  private checkIndices(op: string, index: View, dim: number, size: number): void {
    const data = this.read(index.storage);
    const shape = index.shape;
    if (shape.some((d) => d === 0)) return;
    const pos = new Array<number>(shape.length).fill(0);
    let off = index.offset;
    for (;;) {
      const j = data[off]!;
      if (j < 0 || j >= size || !Number.isInteger(j)) throw new RangeError(`${op}: index ${j} is out of bounds for dim ${dim} with size ${size}`);
      let k = shape.length - 1;
      for (; k >= 0; k--) {
        pos[k]!++;
        off += index.strides[k]!;
        if (pos[k]! < shape[k]!) break;
        off -= index.strides[k]! * shape[k]!;
        pos[k] = 0;
      }
      if (k < 0) return;
    }
  }

  /** A view as a kernel operand: a known constant (uniform), or a texture (uploading host data). */
  private operand(v: View): Operand {
    const s = this.own(v.storage);
    if (isUniformView(v) && !s.holder.tex) {
      const value = s.fill !== null ? s.fill : s.host![v.offset]!;
      if (s.dtype !== 'int32' || Math.abs(value) < FLOAT_EXACT_INT) return { kind: 'scalar', value };
    }
    return { kind: 'tex', tex: this.ensureTexture(s), offset: v.offset };
  }

  /** The storage's texture, uploading host data (or a fill) when needed. */
  private ensureTexture(s: GpuStorage): GpuJsTexture {
    if (s.holder.tex) return s.holder.tex;
    if (s.dtype === 'float64') throw new Fallback('', '');
    if (s.size > this.maxElements) throw new Fallback('size', `tensors above ${this.maxElements} elements (the texture limit) are kept and computed on the CPU`);
    const host = s.host ?? this.read(s);
    if (s.dtype === 'int32') {
      for (let i = 0; i < host.length; i++) {
        if (Math.abs(host[i]!) >= FLOAT_EXACT_INT) {
          throw new Fallback('int32-range', 'int32 tensors with values of 2^24 or more are kept and computed on the CPU (float textures hold integers exactly below 2^24)');
        }
      }
    }
    const f = host instanceof Float32Array ? host : Float32Array.from(host);
    const n = Math.max(1, s.size);
    const entry = this.kernelFor(uploadSpec(), n);
    entry.kernel.setOutput([n]);
    if (!entry.evicted && 4 * n > entry.bytes) {
      this.cachedBytes += 4 * n - entry.bytes;
      entry.bytes = 4 * n;
    }
    const tex = this.exec(entry, [f.length ? f : new Float32Array(1)]);
    this.stats.uploads++;
    this.attach(s, tex, entry);
    return tex;
  }

  /** The cached kernel for a spec and output size (compiled on a miss). */
  private kernelFor(spec: KernelSpec, n: number): KernelEntry {
    const key = spec.dynamicOutput ? spec.key : `${spec.key}#${n}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, hit);
      return hit;
    }
    const kernel = this.gpu!.createKernel(spec.source, {
      output: [n],
      argumentTypes: spec.argTypes,
      precision: 'single',
      pipeline: true,
      immutable: true,
      tactic: 'precision',
      dynamicArguments: true,
      dynamicOutput: spec.dynamicOutput ?? false,
      optimizeFloatMemory: true,
      loopMaxIterations: spec.loopMax + 1,
      nativeFunctions: spec.natives,
      injectedNative: spec.injected,
    });
    this.stats.compiled++;
    const entry: KernelEntry = { key, kernel, live: 0, evicted: false, bytes: 4 * n };
    this.cachedBytes += entry.bytes;
    this.cache.set(key, entry);
    return entry;
  }

  /** Runs a cached kernel; checks that gpu.js really ran it on WebGL. */
  private exec(entry: KernelEntry, kargs: unknown[]): GpuJsTexture {
    let tex: unknown;
    try {
      tex = entry.kernel(...kargs);
    } catch (e) {
      this.evict(entry);
      throw e;
    }
    const cls = kernelClassOf(entry.kernel.kernel);
    if (!GL_KERNEL_CLASSES.includes(cls) || !tex || typeof (tex as GpuJsTexture).toArray !== 'function') {
      this.evict(entry);
      throw new Error(`gpu.js ran the kernel with ${cls} instead of WebGL`);
    }
    this.stats.deviceRuns++;
    this.trim();
    return tex as GpuJsTexture;
  }

  /** Compiles (or reuses) and runs a kernel with a 1-D output of n elements; a new storage holds it. */
  private runKernel(spec: KernelSpec, n: number, dtype: DType, kargs: unknown[]): GpuStorage {
    const out = new GpuStorage(this, dtype, n);
    if (n === 0) {
      out.host = allocArray(dtype, 0);
      return out;
    }
    const entry = this.kernelFor(spec, n);
    this.attach(out, this.exec(entry, kargs), entry);
    return out;
  }

  private attach(s: GpuStorage, tex: GpuJsTexture, entry: KernelEntry): void {
    const h = s.holder;
    if (h.tex) this.releaseTexture(h);
    else this.registry.register(s, h, h);
    h.tex = tex;
    h.entry = entry;
    entry.live++;
  }

  /** Moves the texture of a freshly computed storage into `d` (an in-place write). */
  private adoptFrom(d: GpuStorage, out: GpuStorage): void {
    const tex = out.holder.tex!, entry = out.holder.entry!;
    this.registry.unregister(out.holder);
    out.holder.tex = null;
    out.holder.entry = null;
    out.disposed = true;
    this.replaceTexture(d, tex, entry);
    d.host = null;
    d.fill = null;
  }

  private replaceTexture(d: GpuStorage, tex: GpuJsTexture | null, entry: KernelEntry | null): void {
    if (tex && entry) {
      this.attach(d, tex, entry);
    } else if (d.holder.tex) {
      this.registry.unregister(d.holder);
      this.releaseTexture(d.holder);
    }
  }

  private releaseTexture(h: TextureHolder): void {
    const tex = h.tex, entry = h.entry;
    h.tex = null;
    h.entry = null;
    if (!tex) return;
    tex.delete();
    if (entry) {
      entry.live--;
      if (entry.evicted && entry.live === 0) destroyKernel(entry.kernel);
    }
  }

  private evict(e: KernelEntry): void {
    if (e.evicted) return;
    e.evicted = true;
    if (this.cache.get(e.key) === e) {
      this.cache.delete(e.key);
      this.cachedBytes -= e.bytes;
    }
    if (e.live === 0) destroyKernel(e.kernel);
  }

  /** LRU eviction down to the kernel count and held-bytes budgets. */
  private trim(): void {
    while (this.cache.size > 1 && (this.cache.size > this.maxKernels || this.cachedBytes > this.maxCachedBytes)) {
      const oldest = this.cache.values().next().value as KernelEntry;
      this.evict(oldest);
    }
  }

  /** Runs `device`; on a Fallback or a device error, warns once and runs `cpu` instead. */
  private withFallback<T>(what: string, device: () => T, cpu: () => T): T {
    if (!this.available && !this.selfTesting) {
      this.stats.cpuRuns++;
      return cpu();
    }
    try {
      return device();
    } catch (e) {
      if (this.selfTesting) throw e;
      if (e instanceof Fallback) {
        if (e.key) warnOnce(e.key, e.message);
      } else if (e instanceof RangeError) {
        throw e;
      } else {
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        warnOnce(`error:${what}`, `${what} failed on the device and runs on the CPU: ${msg}`);
      }
      this.stats.cpuRuns++;
      return cpu();
    }
  }

  // ---- host paths -----------------------------------------------------------------------------------

  /** The view over a CPU storage sharing this storage's host data (reading back if needed). */
  private hostView(v: View): View {
    const s = this.own(v.storage);
    return { storage: cpuBackend.wrap(this.read(s), s.dtype), shape: v.shape, strides: v.strides, offset: v.offset };
  }

  /** Makes the host copy authoritative (for an in-place CPU write) and returns it. */
  private takeHost(d: GpuStorage): TypedArray {
    const h = this.read(d);
    this.replaceTexture(d, null, null);
    d.fill = null;
    d.host = h;
    return h;
  }

  private fromHost(data: TypedArray, dtype: DType): GpuStorage {
    const s = new GpuStorage(this, dtype, data.length);
    s.host = data;
    return s;
  }

  private fullStorage(n: number, dtype: DType, value: number): GpuStorage {
    const s = new GpuStorage(this, dtype, n);
    s.fill = storeScalar(value, dtype);
    return s;
  }

  private cpuRun(f: () => Storage, dtype: DType): GpuStorage {
    const r = f() as CpuStorage;
    return this.fromHost(r.data, dtype);
  }

  private cpuMap(op: MapOp, inputs: readonly View[], outShape: Shape, outDtype: DType): Storage {
    return this.cpuRun(() => cpuBackend.map(op, inputs.map((v) => this.hostView(v)), outShape, outDtype), outDtype);
  }

  /** Every input is one known value: compute it once on the host; the result is a constant. */
  private constantMap(op: MapOp, inputs: readonly View[], n: number, outDtype: DType): Storage {
    const vals = inputs.map((v) => {
      const s = this.own(v.storage);
      const a = allocArray(s.dtype, 1);
      a[0] = s.fill !== null ? s.fill : s.host![v.offset]!;
      return { storage: cpuBackend.wrap(a, s.dtype), shape: [], strides: [], offset: 0 };
    });
    const r = cpuBackend.read(cpuBackend.map(op, vals, [], outDtype));
    return this.fullStorage(n, outDtype, r[0]!);
  }

  // ---- reductions ------------------------------------------------------------------------------------

  private reduceOn(op: ReduceOp, xo: Operand & { kind: 'tex' }, keptShape: Shape, keptStrides: number[], redShape: Shape, redStrides: number[], outDtype: DType): GpuStorage {
    const outN = numel(keptShape);
    const R = numel(redShape);
    if (R <= REDUCE_CHUNK) {
      const spec = reduceSpec(op, keptShape, keptStrides, redShape, redStrides, 1, R, storeOf(outDtype));
      return this.runKernel(spec, outN, outDtype, [xo.tex, xo.offset, 0]);
    }
    // pass 1: `parts` partial results per output, each over REDUCE_CHUNK elements; then reduce those
    const parts = Math.ceil(R / REDUCE_CHUNK);
    const spec = reduceSpec(op, keptShape, keptStrides, redShape, redStrides, parts, REDUCE_CHUNK, 'float32');
    const partial = this.runKernel(spec, outN * parts, 'float32', [xo.tex, xo.offset, 0]);
    try {
      const po: Operand & { kind: 'tex' } = { kind: 'tex', tex: partial.holder.tex!, offset: 0 };
      return this.reduceOn(op, po, [outN], [parts], [parts], [1], outDtype);
    } finally {
      this.dispose(partial);
    }
  }

  // ---- self-test ---------------------------------------------------------------------------------------

  /** Known answers through this backend's own kernels; null when all pass, else what failed. */
  private runSelfTest(): string | null {
    this.selfTesting = true;
    const made: Storage[] = [];
    const mk = (data: number[], dtype: DType = 'float32'): Storage => {
      const s = this.fromArray(dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data), dtype);
      made.push(s);
      return s;
    };
    const onDevice = (s: Storage): TypedArray => {
      made.push(s);
      if (!(s as GpuStorage).holder.tex) throw new Error('a kernel result is not on the device');
      return this.read(s);
    };
    const expectEq = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 0): void => {
      for (let i = 0; i < want.length; i++) {
        const g = got[i]!, w = want[i]!;
        const ok = Number.isNaN(w) ? Number.isNaN(g) : Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
        if (!ok) throw new Error(`${what}: element ${i} is ${g}, expected ${w}`);
      }
    };
    try {
      // broadcast + transposed view: out[i][j] = a[j][i] + b[i]
      const a = mk([1, 2, 3, 4, 5, 6]);
      const b = mk([10, 20, 30]);
      const add = onDevice(this.map('add', [{ storage: a, shape: [3, 2], strides: [1, 3], offset: 0 }, { storage: b, shape: [3, 2], strides: [1, 0], offset: 0 }], [3, 2], 'float32'));
      expectEq('add', add, [11, 14, 22, 25, 33, 36]);
      // erf through GELU, NaN propagation, against the CPU formulas
      const xs = [-4, -1.5, -0.5, 0, 0.3, 1, 2.5, NaN];
      const x = mk(xs);
      const xv: View = { storage: x, shape: [8], strides: [1], offset: 0 };
      const cx: View = { storage: cpuBackend.fromArray(Float32Array.from(xs), 'float32'), shape: [8], strides: [1], offset: 0 };
      for (const op of ['gelu', 'tanh', 'exp'] as const) {
        expectEq(op, onDevice(this.map(op, [xv], [8], 'float32')), cpuBackend.read(cpuBackend.map(op, [cx], [8], 'float32')), 1e-5);
      }
      const wide = mk([1, 1, 1, 1, 1, 1, 1, 1]);
      expectEq('maximum', onDevice(this.map('maximum', [xv, { storage: wide, shape: [8], strides: [1], offset: 0 }], [8], 'float32')), [1, 1, 1, 1, 1, 1, 2.5, NaN]);
      expectEq('isnan', onDevice(this.map('isnan', [xv], [8], 'bool')), [0, 0, 0, 0, 0, 0, 0, 1]);
      expectEq('to int32', onDevice(this.map('identity', [xv], [8], 'int32')), [-4, -1, 0, 0, 0, 1, 2, 0]);
      // a chunked (two-pass) sum, exact in float32
      const big = mk(Array.from({ length: 3000 }, (_, i) => i + 1));
      expectEq('sum', onDevice(this.reduce('sum', { storage: big, shape: [3000], strides: [1], offset: 0 }, [0], 'float32')), [4501500]);
      // matmul of a transposed view
      const m = onDevice(this.matmul({ storage: a, shape: [3, 2], strides: [1, 3], offset: 0 }, { storage: a, shape: [2, 3], strides: [3, 1], offset: 0 }, 'float32'));
      expectEq('matmul', m, [17, 22, 27, 22, 29, 36, 27, 36, 45]);
      // argmax and gather
      expectEq('argmax', onDevice(this.argReduce('argmax', { storage: a, shape: [2, 3], strides: [3, 1], offset: 0 }, 1)), [2, 2]);
      const idx = mk([2, 0], 'int32');
      expectEq('gather', onDevice(this.gather({ storage: a, shape: [6], strides: [1], offset: 0 }, 0, { storage: idx, shape: [2], strides: [1], offset: 0 })), [3, 1]);
      return null;
    } catch (e) {
      return e instanceof Error ? e.message.split('\n')[0]! : String(e);
    } finally {
      this.selfTesting = false;
      for (const s of made) this.dispose(s);
    }
  }
}

function destroyKernel(k: GpuJsKernel): void {
  try {
    k.destroy();
  } catch {
    // a kernel that never compiled has nothing to free
  }
}

/** The arguments of an operand: texture and offset, or the value. */
function args(o: Operand): unknown[] {
  return o.kind === 'tex' ? [o.tex, o.offset] : [o.value];
}

function scalarOrTex(o: Operand): unknown {
  return o.kind === 'tex' ? o.tex : o.value;
}

function envBackend(): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.TENSORGRAD_BACKEND;
}

// ---- probing gpu.js ------------------------------------------------------------------------------------

/** Why gpu.js would not use WebGL here, as far as we can tell. */
function explainNoGl(): string {
  const hints: string[] = [];
  const p = (globalThis as { process?: { versions?: { node?: string }; env?: Record<string, string | undefined>; platform?: string; getBuiltinModule?: (id: string) => unknown } }).process;
  if (p?.versions?.node) {
    const wt = p.getBuiltinModule?.('node:worker_threads') as { isMainThread?: boolean } | undefined;
    if (wt && wt.isMainThread === false) hints.push('gpu.js uses headless-gl on the main thread only, not in a worker thread');
    const mod = p.getBuiltinModule?.('node:module') as { createRequire?: (url: string) => { (id: string): unknown; resolve(id: string): string } } | undefined;
    if (mod?.createRequire) {
      try {
        const req = mod.createRequire(import.meta.url);
        mod.createRequire(req.resolve('gpu.js'))('gl');
      } catch (e) {
        hints.push(`headless-gl ('gl') does not load (${(e instanceof Error ? e.message : String(e)).split('\n')[0]}): run scripts/gpu-setup.sh`);
      }
    }
    if (p.platform === 'linux' && !p.env?.DISPLAY) hints.push('no X display (DISPLAY is unset): run under `xvfb-run -a`');
  } else {
    hints.push('WebGL is not available in this browser');
  }
  return hints.length ? hints.join('; ') : 'gpu.js found no WebGL context';
}

/** One gpu.js GPU per constructor and mode for the whole process (a new GPU leaks ~3 MB even after destroy()). */
const gpuInstances = new Map<unknown, Map<string, { gpu: GpuJsInstance | null; info: GpuBackendInfo }>>();

function probeGpuJs(opts: GpuBackendOptions): { gpu: GpuJsInstance | null; info: GpuBackendInfo } {
  const ctor = loadGpuJs(opts.gpujs);
  if (typeof ctor === 'string') return { gpu: null, info: { available: false, kernelClass: 'none', renderer: '', maxTextureSize: 0, initMs: 0, reason: ctor } };
  const mode = opts.mode ?? 'gpu';
  let byMode = gpuInstances.get(ctor);
  if (!byMode) gpuInstances.set(ctor, (byMode = new Map()));
  let probe = byMode.get(mode);
  if (!probe) byMode.set(mode, (probe = probeInstance(ctor, mode)));
  return { gpu: probe.gpu, info: { ...probe.info } };
}

/**
 * The gpu.js kernel class in use. Its constructor name, unless a minifier renamed it (a bundled
 * page: gpu.js's classes come out as single letters); then the kind of its WebGL context tells
 * the GL classes apart, and a kernel without one is reported under its (renamed) name.
 */
function kernelClassOf(kernel: GpuJsKernelObject): string {
  const name = kernel.constructor.name;
  if (GL_KERNEL_CLASSES.includes(name) || name === 'CPUKernel' || name === 'WebAssemblyKernel') return name;
  const g = globalThis as { WebGL2RenderingContext?: new () => unknown; WebGLRenderingContext?: new () => unknown };
  const ctx = kernel.context;
  if (ctx && g.WebGL2RenderingContext && ctx instanceof g.WebGL2RenderingContext) return 'WebGL2Kernel';
  if (ctx && g.WebGLRenderingContext && ctx instanceof g.WebGLRenderingContext) return 'WebGLKernel';
  return name;
}

function probeInstance(ctor: new (settings?: { mode?: string }) => GpuJsInstance, mode: string): { gpu: GpuJsInstance | null; info: GpuBackendInfo } {
  const info: GpuBackendInfo = { available: false, kernelClass: 'none', renderer: '', maxTextureSize: 0, initMs: 0 };
  let gpu: GpuJsInstance;
  try {
    gpu = new ctor({ mode });
  } catch (e) {
    return { gpu: null, info: { ...info, reason: `new GPU() failed: ${e instanceof Error ? e.message : String(e)}` } };
  }
  let k: GpuJsKernel | null = null;
  try {
    k = gpu.createKernel('function (a) { return a[this.thread.x] * 2.0; }', { output: [4], precision: 'single', tactic: 'precision' });
    const out = k(new Float32Array([1, 2, 3, 4])) as ArrayLike<number>;
    info.kernelClass = kernelClassOf(k.kernel);
    if (!GL_KERNEL_CLASSES.includes(info.kernelClass)) return { gpu: null, info: { ...info, reason: explainNoGl() } };
    const ctx = k.kernel.context;
    if (ctx) {
      info.renderer = `${String(ctx.getParameter(ctx.RENDERER))} (${String(ctx.getParameter(ctx.VERSION))})`;
      info.maxTextureSize = Number(ctx.getParameter(ctx.MAX_TEXTURE_SIZE)) || 0;
    }
    if (![2, 4, 6, 8].every((v, i) => out[i] === v)) return { gpu: null, info: { ...info, reason: `the probe kernel returned [${Array.from(out).join(', ')}] for [2, 4, 6, 8]` } };
    info.available = true;
    return { gpu, info };
  } catch (e) {
    return { gpu: null, info: { ...info, reason: `the probe kernel failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` } };
  } finally {
    k?.destroy();
  }
}

// ---- registration -------------------------------------------------------------------------------------

let instance: GpuBackend | null = null;
let instanceOptions: GpuBackendOptions = {};

/** The process-wide GPU backend (one gpu.js instance per process), created on first use. */
export function getGpuBackend(): GpuBackend {
  if (!instance) instance = new GpuBackend(instanceOptions);
  return instance;
}

/**
 * The factory the registry calls lazily (registry.ts `registerGpuBackend`): it sets the options of
 * the process-wide backend, unless it already exists, and returns the function that creates it.
 */
export function gpuBackendFactory(options: GpuBackendOptions = {}): () => GpuBackend {
  if (!instance) instanceOptions = options;
  return getGpuBackend;
}

/**
 * What the 'gpu' backend found at start-up (initialising it if needed): whether kernels run on
 * WebGL, the gpu.js kernel class, the renderer and texture limit, and the reason when not.
 */
export function backendInfo(name: string = 'gpu'): GpuBackendInfo {
  if (name !== 'gpu') {
    if (name === 'cpu') return { available: true, kernelClass: 'CpuBackend', renderer: 'JavaScript typed arrays', maxTextureSize: 0, initMs: 0 };
    throw new Error(`backendInfo: unknown backend '${name}'`);
  }
  return { ...getGpuBackend().info };
}

