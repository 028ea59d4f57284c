/**
 * `backendInfo(name)`: what a backend really runs on. For 'gpu' it reports the gpu.js kernel
 * class actually in use (HeadlessGLKernel, WebGLKernel, WebGL2Kernel — or WebAssemblyKernel /
 * CPUKernel when gpu.js fell back), the renderer string and the max texture size, found by a
 * known-answer self-test at initialisation — never just the mode gpu.js claims (docs/GPU.md).
 */
import { listBackends } from './registry.js';
import { getGpuBackend } from './gpu/index.js';
import { availableCores } from './cpu/threads.js';

/** What a backend reports about itself (`backendInfo(name)`): availability, a description, and for the GPU its kernel class, renderer and texture limit. */
export interface BackendInfo {
  /** The backend name asked about. */
  name: string;
  /** Whether tensors on this backend run there ('gpu' is false when gpu.js found no working WebGL; its tensors then run on the CPU). */
  available: boolean;
  /** One line for people: what it runs on, or why it is not available. */
  description: string;
  /** GPU only: the gpu.js kernel class in use. */
  kernelClass?: string;
  /** GPU only: the WebGL RENDERER / VERSION strings. */
  renderer?: string;
  /** GPU only: MAX_TEXTURE_SIZE. */
  maxTextureSize?: number;
  /** Why the backend is not available. */
  reason?: string;
}

/**
 * What the named backend runs on ('cpu': typed arrays on n cores; 'gpu': WebGL through gpu.js, or why it is unavailable).
 * @example
 * backendInfo('cpu').description; // 'typed arrays on 2 core(s)'
 */
export function backendInfo(name: string): BackendInfo {
  if (name === 'cpu') {
    const cores = availableCores();
    return { name, available: true, description: `typed arrays on ${cores} core(s)` };
  }
  if (name === 'gpu') {
    if (!listBackends().includes('gpu')) return { name, available: false, description: "not registered", reason: "the 'gpu' backend is not registered" };
    const i = getGpuBackend().info;
    return {
      name, available: i.available, kernelClass: i.kernelClass, renderer: i.renderer, maxTextureSize: i.maxTextureSize, reason: i.reason,
      description: i.available
        ? `gpu.js ${i.kernelClass} on ${i.renderer}, max texture ${i.maxTextureSize}`
        : `${i.reason ?? 'unknown reason'}; 'gpu' tensors run on the CPU`,
    };
  }
  if (!listBackends().includes(name)) return { name, available: false, description: `no backend named '${name}'`, reason: `no backend named '${name}' is registered` };
  return { name, available: true, description: 'registered' };
}
