/**
 * tensorgrad — a pure-TypeScript tensor and Transformer framework.
 *
 *   import { tensor, randn, manualSeed, noGrad, gradcheck, nn, optim } from 'tensorgrad';
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
// the op table (src/autograd/ops/index.ts): every declared op is exported from here, a new one included
export * from './autograd/ops/index.js';
export { defineOp, defineComposite } from './autograd/define.js';
export type { OpSpec, CompositeSpec, OpInfo, Op, Composite, ForwardContext, BackwardContext, BackwardFn } from './autograd/define.js';
import './tensor/methods.js';
import './node-platform.js';
export {
  registerBackend, getBackend, listBackends, getDefaultDevice, setDefaultDevice, backendInfo, registerGpuBackend, preloadGpuJs,
  setGemmThreads, getGemmThreads, setCpuPoolLimit, emptyCpuCache, cpuPool, cpuArenaStats,
} from './backends/index.js';
export type { Backend, Storage, View, BackendInfo, GpuBackendOptions, PoolStats, ArenaStats } from './backends/index.js';
export { setMaxAllocationBytes, getMaxAllocationBytes } from './core/limits.js';
export * as nn from './nn/index.js';
export * as F from './nn/functional.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export {
  saveCheckpoint, loadCheckpoint, trainLoop, OutputFolder, OutputFolderError, checkOutputFolder, verifyOutputFolder, adamWWithWarmup, decayGroups,
} from './train/index.js';
export type { TrainLoopOptions, TrainLoopResult, StepRecord, EvalRecord, RunOptions, Manifest } from './train/index.js';
export * from './tasks/index.js';

export { startProfile, stopProfile, formatProfile } from './core/profile.js';
export * as peft from './peft/index.js';
export {
  pipeline, pipelineFor, loadModelFolder, PipelineError, InputError, InputTooLongError,
  TokenClassificationPipeline, TextClassificationPipeline, FillMaskPipeline, TextGenerationPipeline,
} from './pipelines/index.js';
export type {
  PipelineTask, PipelineOptions, LoadedModel, AggregationStrategy, TokenEntity, GroupedEntity, LabelScore, FillMaskCandidate,
  GeneratedText, TextGenerationParams,
} from './pipelines/index.js';
export * as serve from './serve/index.js';
export * as compress from './compress/index.js';
