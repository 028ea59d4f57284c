/**
 * Messages between the playground page (main.ts) and the model's Web Worker (worker.ts).
 * The page never touches a tensor: everything that computes runs in the worker, because the
 * CPU backend's threaded kernels block on Atomics.wait, which a page's main thread may not.
 */

export type TaskName = 'gpt' | 'bert';
export type BackendName = 'cpu' | 'gpu';

export type ToWorker =
  | { type: 'setup'; task: TaskName; backend: BackendName; seed: number }
  | { type: 'train'; steps: number }
  | { type: 'pause' }
  | { type: 'predict'; text: string }
  | { type: 'graph' }
  | { type: 'golden'; cases: GoldenCase[] };

export interface AttentionMaps {
  /** The tokens along both axes. */
  tokens: string[];
  /** [layer][head] → row-major T×T probabilities. */
  maps: Float32Array[][];
}

export type FromWorker =
  | {
      type: 'ready'; task: TaskName; backend: BackendName; backendDescription: string; available: boolean; kernelClass: string | null;
      threads: number; crossOriginIsolated: boolean; parameters: number; description: string;
    }
  | { type: 'step'; step: number; loss: number; tokensPerSecond: number; ms: number }
  | { type: 'paused'; step: number }
  | { type: 'prediction'; text: string; html: string }
  | { type: 'attention'; attention: AttentionMaps }
  | { type: 'graph'; svg: string | null; steps: GraphStep[]; note: string }
  | { type: 'golden'; results: GoldenResult[] }
  | { type: 'error'; message: string };

/** One backward step of the graph view's stepper. */
export interface GraphStep {
  op: string;
  formula: string;
  /** SVG element ids (the op first, then its output and inputs) to highlight while this step is shown. */
  ids: string[];
  detail: string;
}

/** A tensor as the golden fixtures store it (NaN/±Infinity as strings). */
export interface FixtureTensor {
  shape: number[];
  dtype: string;
  data: (number | string)[];
}

/** An op-level golden case (test/fixtures/golden), run in the page and compared in Node. */
export interface GoldenCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  /** Upstream gradients by output name: the case backpropagates Σ_k sum(y_k ⊙ gy_k). */
  gy: Record<string, FixtureTensor>;
  /** Inputs whose gradient is checked (they are made with requiresGrad). */
  gradNames: string[];
}

export interface GoldenResult {
  name: string;
  outputs: Record<string, { shape: number[]; data: number[] }>;
  grads: Record<string, { shape: number[]; data: number[] }>;
  error?: string;
}
