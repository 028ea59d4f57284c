/**
 * tensorgrad — a pure-TypeScript tensor and Transformer framework: the Node entry.
 *
 *   import { tensor, randn, manualSeed, noGrad, gradcheck, nn, optim } from 'tensorgrad';
 *
 * Everything of the browser entry (src/browser.ts: tensors, autograd, the op table, backends, nn,
 * optim, tokenizer, safetensors from bytes, metrics) plus what needs Node: files and folders
 * (`data` with its readers of paths), checkpoints on disk, the training loop, tasks, PEFT,
 * pipelines, serving and compression. One export list: the core's lives in browser.ts only.
 */
export * from './browser.js';
// hands node:fs to the browser-safe core, so its path-taking functions work under Node
import './node-platform.js';
// the Node `data` namespace (readers of files and folders) replaces the browser entry's
export * as data from './data/index.js';
export {
  saveCheckpoint, loadCheckpoint, trainLoop, OutputFolder, OutputFolderError, checkOutputFolder, verifyOutputFolder, adamWWithWarmup, decayGroups,
} from './train/index.js';
export type { TrainLoopOptions, TrainLoopResult, StepRecord, EvalRecord, RunOptions, Manifest } from './train/index.js';
export * from './tasks/index.js';

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
