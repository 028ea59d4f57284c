/**
 * The backend layer's public face: the contract a backend implements (contract.ts), the registry
 * of backends by name and the default device (registry.ts), what a backend really runs on
 * (info.ts), and the CPU backend's tuning knobs. Every layer above imports backends through
 * this module; only this layer knows its implementations (enforced by `npm run lint:deps`).
 */
export type { Backend, Storage, View, AdamScalars, PackedInt8Weight } from './contract.js';
export { registerBackend, getBackend, listBackends, getDefaultDevice, setDefaultDevice, registerGpuBackend } from './registry.js';
export { backendInfo } from './info.js';
export type { BackendInfo } from './info.js';
export { preloadGpuJs } from './gpu/index.js';
export type { GpuBackendOptions, GpuJsModule } from './gpu/index.js';
export { setGemmThreads, getGemmThreads } from './cpu/matmul.js';
export { setCpuPoolLimit, emptyCpuCache, cpuPool, cpuArenaStats } from './cpu/pool.js';
export type { PoolStats } from './cpu/pool.js';
export type { ArenaStats } from './cpu/arena.js';
// int8 × int8 → int32 GEMM (compress/): the CPU's kernel, its plain-JS reference and the K limit
export { int8Gemm } from './cpu/int8-gemm.js';
export { int8GemmReference, INT8_GEMM_MAX_K } from './cpu/wasm-int8-gemm.js';
// the fused quantized Linear: weight packing (once per layer), the host kernel (wasm, else JS), its JS reference
export { int8Linear, int8LinearPath } from './cpu/int8-gemm.js';
export { packInt8Weight, quantizeActivations, int8LinearReference } from './cpu/wasm-int8-linear.js';
