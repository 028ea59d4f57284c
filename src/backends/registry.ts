/**
 * The backend registry: backends by name ('cpu' always, 'gpu' registered lazily), the default
 * device, and the profiler's instrumentation of kernel calls. The contract itself (what a
 * backend implements) is contract.ts; this module is the only one in backends/ that knows
 * every implementation, and it creates the GPU backend only through the factory its module
 * exports, on first use.
 */
import { isProfiling, timed } from '../core/profile.js';
import { KERNELS, OPTIONAL_KERNELS, type Backend } from './contract.js';
import { cpuBackend } from './cpu/index.js';
import { gpuBackendFactory, type GpuBackendOptions } from './gpu/index.js';

/** Backends by name; the CPU backend is always there. */
const registry = new Map<string, Backend | (() => Backend)>([['cpu', () => cpuBackend]]);

/**
 * Registers a backend (or a lazy factory) under its name, e.g. 'cpu', 'gpu'.
 * @example
 * ```ts
 * registerBackend('mydevice', () => new MyBackend()); // a lazy factory: built on first use
 * setDefaultDevice('mydevice');
 * zeros([2]).device;                    // 'mydevice'
 * ```
 */
export function registerBackend(name: string, backend: Backend | (() => Backend)): void {
  registry.set(name, typeof backend === 'function' ? backend : maybeProfiled(backend));
}

/**
 * The backend registered under `name`, initialising a lazy one on first use.
 * @example
 * ```ts
 * getBackend('cpu').name;                 // 'cpu'
 * ```
 */
export function getBackend(name: string): Backend {
  const entry = registry.get(name);
  if (entry === undefined) {
    throw new Error(`unknown device '${name}': registered backends are ${[...registry.keys()].map((k) => `'${k}'`).join(', ')}`);
  }
  if (typeof entry === 'function') {
    const b = maybeProfiled(entry());
    registry.set(name, b);
    return b;
  }
  return entry;
}

const instrumented = new WeakSet<Backend>();

/**
 * Lets the profiler (core/profile.ts) time every kernel call, named by entry point and opcode.
 * The methods are patched on the backend object itself, since storages hold the backend and
 * ops call `x.storage.backend.map(…)`; when profiling is off the wrapper costs one call.
 */
function maybeProfiled(b: Backend): Backend {
  if (instrumented.has(b)) return b;
  instrumented.add(b);
  const rec = b as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const k of [...KERNELS, ...OPTIONAL_KERNELS.filter((o) => typeof rec[o] === 'function')]) {
    const f = rec[k]!.bind(b);
    rec[k] = (...args: unknown[]) => (isProfiling() ? timed(typeof args[0] === 'string' ? `kernel:${k}:${args[0]}` : `kernel:${k}`, () => f(...args)) : f(...args));
  }
  return b;
}

/**
 * The names of the registered backends ('cpu', and 'gpu' once registered).
 * @example
 * ```ts
 * listBackends();                         // ['cpu', 'gpu'] (in Node; 'gpu' may be unavailable, see backendInfo)
 * ```
 */
export function listBackends(): string[] {
  return [...registry.keys()];
}

let defaultDevice = 'cpu';

/**
 * The device new tensors are created on when none is given ('cpu' unless changed).
 * @example
 * ```ts
 * getDefaultDevice();                     // 'cpu' unless changed with setDefaultDevice
 * zeros([2]).device === getDefaultDevice(); // true
 * ```
 */
export function getDefaultDevice(): string {
  return defaultDevice;
}

/**
 * Sets the device new tensors are created on, e.g. `setDefaultDevice('gpu')`.
 * @example
 * ```ts
 * setDefaultDevice('cpu');                // new tensors and parameters go to the CPU
 * zeros([2]).device;                      // 'cpu'
 * ```
 */
export function setDefaultDevice(name: string): void {
  getBackend(name); // validates, and initialises lazily registered backends
  defaultDevice = name;
}

/**
 * Registers the gpu.js backend under 'gpu', lazily: gpu.js is loaded, probed and self-tested on
 * the first `getBackend('gpu')` / `t.to('gpu')` / `backendInfo('gpu')`. Done once at start-up
 * with default options; call it again (before the first use) to pass options.
 *
 * @example
 *   registerGpuBackend();                       // Node: gpu.js + headless-gl under xvfb-run
 *   registerGpuBackend({ gpujs: window.GPU });  // browser: the gpu-browser.js global
 *   const y = x.to('gpu').matmul(w.to('gpu')).cpu();
 */
export function registerGpuBackend(options: GpuBackendOptions = {}): void {
  registerBackend('gpu', gpuBackendFactory(options));
}

// The gpu.js backend is registered lazily: nothing loads until a tensor goes to 'gpu'.
registerGpuBackend();
// TENSORGRAD_BACKEND=gpu (or gpu-strict: throw instead of falling back) makes it the default device.
if (typeof process !== 'undefined' && /^gpu(-strict)?$/.test(process.env?.TENSORGRAD_BACKEND ?? '')) defaultDevice = 'gpu';
