/**
 * tensorgrad's browser entry (issue #20 item 1): the core — tensors, autograd and the op table,
 * the backends (cpu, and gpu through gpu.js WebGL2), nn (BERT, GPT), optim, the WordPiece
 * tokenizer, safetensors from bytes, the DataLoader and metrics — and nothing that imports Node.
 * `npm run lint:deps` (rule `browser-core-imports-no-node`) and test/browser/entry.test.ts (an
 * esbuild bundle for `platform: 'browser'`) keep it that way.
 *
 * The Node entry (src/index.ts) exports all of this plus files, checkpoints on disk, the
 * training loop, tasks, pipelines, serving and the CLI. package.json maps the `browser`
 * export condition of `tensorgrad` to this file, and `tensorgrad/browser` names it anywhere:
 *
 *   import { tensor, nn, optim } from 'tensorgrad/browser';
 *
 * Path-taking functions that remain on shared classes (`BertTokenizer.fromVocabFile`,
 * `loadSafetensors(path)`) throw here, naming the bytes/text variant to use instead.
 * Threads: in a Web Worker of a cross-origin-isolated page the CPU backend's wasm kernels start
 * helper workers on a shared memory (src/backends/cpu/threads.ts); elsewhere they run on one thread.
 */
export { Tensor } from './tensor/tensor.js';
export type { TensorLike, NestedArray, Scalar } from './tensor/tensor.js';
export type { DType, TypedArray } from './core/dtype.js';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, randint, randLike, randnLike,
  fromTypedArray,
} from './tensor/creation.js';
export type { TensorOptions } from './tensor/creation.js';
export { manualSeed, Generator, defaultGenerator, getRngState, setRngState } from './tensor/random.js';
export type { RngState } from './tensor/random.js';
export { tidy, keep } from './tensor/scope.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/engine.js';
export { gradcheck, GradcheckError } from './autograd/gradcheck.js';
export type { GradcheckOptions } from './autograd/gradcheck.js';
export { graph, objectId, gradientFormula } from './autograd/graph.js';
export type { AutogradGraph, GraphTensor, GraphOp, GraphEdge, GraphOptions, TensorNames } from './autograd/graph.js';
export { layoutGraph, renderGraphSvg, renderGraphHtml, GRAPH_CSS } from './autograd/graph-svg.js';
export type { SvgOptions, GraphLayout } from './autograd/graph-svg.js';
export { traceBackward, setBackwardTracePrinting } from './autograd/trace.js';
export type { BackwardTrace, BackwardStep, StepInput, GradSummary, TraceOptions } from './autograd/trace.js';
export {
  add, sub, mul, div, pow, gelu, clamp, maximum, minimum, where, maskedFill, eq, ne, lt, le, gt, ge, logicalAnd,
  logicalOr, logicalXor, logicalNot, isnan, sum, mean, max, min, variance as var, std, logsumexp, softmax,
  logSoftmax, matmul, addmm, reshape, view, flatten, permute, transpose, expand, squeeze, unsqueeze, slice, narrow,
  select, split, chunk, contiguous, cat, stack, gather, indexSelect, embedding, dropout, OPS, COMPOSITES,
} from './autograd/ops.js';
export * from './autograd/ops/index.js';
export { defineOp, defineComposite } from './autograd/define.js';
export type { OpSpec, CompositeSpec, OpInfo, Op, Composite, ForwardContext, BackwardContext, BackwardFn } from './autograd/define.js';
import './tensor/methods.js';
export {
  registerBackend, getBackend, listBackends, getDefaultDevice, setDefaultDevice, backendInfo, registerGpuBackend, preloadGpuJs,
  setGemmThreads, getGemmThreads, setCpuPoolLimit, emptyCpuCache, cpuPool, cpuArenaStats,
} from './backends/index.js';
export type { Backend, Storage, View, BackendInfo, GpuBackendOptions, GpuJsModule, PoolStats, ArenaStats } from './backends/index.js';
export { setMaxAllocationBytes, getMaxAllocationBytes } from './core/limits.js';
export { startProfile, stopProfile, formatProfile } from './core/profile.js';
export * as nn from './nn/index.js';
export * as F from './nn/functional.js';
export * as optim from './optim/index.js';
export * as data from './data/browser.js';
