/**
 * Loading gpu.js lazily, and the small part of its API this backend uses.
 *
 * gpu.js is an optional peer dependency: `npm install tensorgrad` does not install it (it would
 * bring `webgpu`, 84 MB, and build the native `gl` addon, 37 MB, for every consumer); a user opts
 * into the GPU with `npm install gpu.js@2.24.1`. The package must import, install and run where it
 * (or its native `gl` addon) is missing. So nothing here imports it statically; the types below declare
 * only what the backend calls, and `loadGpuJs` finds the library at run time:
 *
 *   1. a module or constructor handed in with `registerGpuBackend({ gpujs })` (browser bundles),
 *   2. `globalThis.GPU` (the `<script src="gpu-browser.min.js">` build),
 *   3. Node: `createRequire(import.meta.url)('gpu.js')` through `process.getBuiltinModule`
 *      (Node ≥ 20.16), or a module preloaded with `await preloadGpuJs()` (dynamic import).
 */

/** A gpu.js pipeline texture (GLTextureMemoryOptimized here): the backend's device storage. */
export interface GpuJsTexture {
  readonly type: string;
  readonly size: ArrayLike<number>;
  readonly output: readonly number[];
  toArray(): Float32Array;
  delete(): void;
}

/** The kernel object inside a run shortcut; its class name tells which backend really runs. */
export interface GpuJsKernelObject {
  readonly constructor: { readonly name: string };
  readonly context?: GlContextLike | null;
  readonly compiledFragmentShader?: string;
}

/** The subset of a WebGL context queried for `backendInfo`. */
export interface GlContextLike {
  readonly RENDERER: number;
  readonly VERSION: number;
  readonly MAX_TEXTURE_SIZE: number;
  getParameter(p: number): unknown;
}

/** What `gpu.createKernel` returns: a callable with the kernel object attached. */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  readonly kernel: GpuJsKernelObject;
  setOutput(output: number[]): unknown;
  destroy(removeCanvasReferences?: boolean): void;
}

export interface GpuJsNativeFunction {
  name: string;
  source: string;
}

export interface GpuJsKernelSettings {
  output: number[];
  argumentTypes?: Record<string, string>;
  precision?: 'single' | 'unsigned';
  pipeline?: boolean;
  immutable?: boolean;
  tactic?: 'speed' | 'balanced' | 'precision';
  dynamicArguments?: boolean;
  dynamicOutput?: boolean;
  optimizeFloatMemory?: boolean;
  loopMaxIterations?: number;
  nativeFunctions?: GpuJsNativeFunction[];
  injectedNative?: string;
}

export interface GpuJsInstance {
  readonly mode?: string;
  createKernel(source: string, settings: GpuJsKernelSettings): GpuJsKernel;
  destroy(): unknown;
}

export type GpuJsConstructor = new (settings?: { mode?: string }) => GpuJsInstance;

/** `require('gpu.js')`, or the browser global, which is the constructor itself. */
export type GpuJsModule = { GPU: GpuJsConstructor } | GpuJsConstructor;

let preloaded: GpuJsModule | null = null;

/**
 * Loads gpu.js with a dynamic `import()`, for runtimes where a synchronous `require` is not
 * available (Node < 20.16 in ESM, browser bundles with an import map). Resolves to false when
 * gpu.js is not installed.
  * @example
  * ```ts
  * if (await preloadGpuJs()) registerGpuBackend();   // then tensors can use device 'gpu'
  * ```
 */
export async function preloadGpuJs(): Promise<boolean> {
  if (preloaded) return true;
  try {
    const specifier = 'gpu.js'; // a variable, so that bundlers do not insist on resolving it
    const mod = (await import(specifier)) as { default?: GpuJsModule } & Partial<{ GPU: GpuJsConstructor }>;
    preloaded = mod.GPU ? { GPU: mod.GPU } : (mod.default ?? null);
    return preloaded !== null;
  } catch {
    return false;
  }
}

/** The GPU constructor of a module or global, or null. */
function constructorOf(m: unknown): GpuJsConstructor | null {
  if (typeof m === 'function') return m as GpuJsConstructor;
  if (m && typeof m === 'object' && typeof (m as { GPU?: unknown }).GPU === 'function') return (m as { GPU: GpuJsConstructor }).GPU;
  return null;
}

/** Finds gpu.js; returns its GPU constructor, or a sentence saying why it could not. */
export function loadGpuJs(injected?: GpuJsModule): GpuJsConstructor | string {
  const given = constructorOf(injected) ?? constructorOf(preloaded);
  if (given) return given;
  const g = globalThis as { GPU?: unknown; process?: { getBuiltinModule?: (id: string) => unknown } };
  const browserGlobal = constructorOf(g.GPU);
  if (browserGlobal) return browserGlobal;
  const moduleApi = g.process?.getBuiltinModule?.('node:module') as { createRequire?: (url: string) => (id: string) => unknown } | undefined;
  if (!moduleApi?.createRequire) {
    return 'gpu.js could not be loaded synchronously here: pass it with registerGpuBackend({ gpujs }) or call `await preloadGpuJs()` first';
  }
  try {
    const ctor = constructorOf(moduleApi.createRequire(import.meta.url)('gpu.js'));
    return ctor ?? 'the installed gpu.js exports no GPU constructor';
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return `gpu.js is not installed (it is an optional peer dependency of tensorgrad; to use the 'gpu' backend run: npm install gpu.js@2.24.1): ${msg}`;
  }
}
