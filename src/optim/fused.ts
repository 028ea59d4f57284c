/**
 * The fused Adam/AdamW step through the backend contract: a backend with the optional kernel
 * `adamStep` (the CPU's, backends/cpu/adam.ts) updates θ, m and v in one pass, bit-identical to
 * the composite of tensor ops in adam.ts; elsewhere (the GPU, mixed devices, strided views) the
 * composite runs. `setFusedOptimizers(false)` forces the composite (tests compare both paths).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { AdamScalars } from '../backends/index.js';
import { bumpVersion } from '../autograd/version.js';

let enabled = true;

/** Turns the fused path on or off (tests compare both paths). */
export function setFusedOptimizers(on: boolean): void {
  enabled = on;
}

/**
 * Runs the backend's fused update when all four tensors live on one backend that has one and it
 * accepts them; returns false (doing nothing) otherwise, so the caller takes the composite path.
 */
export function fusedAdamStep(param: Tensor, g: Tensor, expAvg: Tensor, expAvgSq: Tensor, s: AdamScalars): boolean {
  if (!enabled) return false;
  const backend = param.storage.backend;
  if (!backend.adamStep || [g, expAvg, expAvgSq].some((t) => t.storage.backend !== backend)) return false;
  if (!backend.adamStep(param, g, expAvg, expAvgSq, s)) return false;
  for (const t of [param, expAvg, expAvgSq]) bumpVersion(t.storage); // written in place (autograd/version.ts)
  return true;
}
