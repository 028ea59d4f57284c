/**
 * Training: the one loop every task uses, its run options and output folder (checked, locked,
 * written atomically with a manifest), checkpoints with exact resume, and AdamW with warmup.
 */
export { trainLoop, CHECKPOINT_DIR, TRAIN_LOG } from './loop.js';
export type { TrainLoopOptions, TrainLoopResult, StepRecord, EvalRecord, EarlyStoppingConfig, BatchStream } from './loop.js';
export { OutputFolder, OutputFolderError, checkOutputFolder, verifyOutputFolder, writeFilesAtomically } from './output.js';
export type { Manifest, ManifestEntry, LockInfo, OpenOutputOptions } from './output.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export type { CheckpointParts } from './checkpoint.js';
export { adamWWithWarmup, decayGroups } from './step.js';
export type { AdamWScheduleOptions, BertTrainOptions } from './step.js';
export type { RunOptions } from './run.js';
