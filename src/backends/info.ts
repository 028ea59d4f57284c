/**
 * `backendInfo(name)`: what a backend really runs on. For the GPU backend this reports the
 * gpu.js kernel class actually in use (never just the mode gpu.js claims), see docs/GPU.md.
 */
import os from 'node:os';
import { listBackends, getBackend } from './backend.js';

export interface BackendInfo {
  name: string;
  available: boolean;
  description: string;
  details?: Record<string, unknown>;
}

type InfoProvider = () => Promise<BackendInfo> | BackendInfo;
const providers = new Map<string, InfoProvider>();

/** Lets a backend module describe itself (the GPU backend registers its self-test here). */
export function registerBackendInfo(name: string, provider: InfoProvider): void {
  providers.set(name, provider);
}

export async function backendInfo(name: string): Promise<BackendInfo> {
  const p = providers.get(name);
  if (p) return p();
  if (name === 'cpu') {
    getBackend('cpu');
    return { name, available: true, description: `typed arrays on ${os.availableParallelism?.() ?? os.cpus().length} cores` };
  }
  if (!listBackends().includes(name)) {
    return { name, available: false, description: `no backend named '${name}' is registered` };
  }
  return { name, available: true, description: 'registered' };
}
