/**
 * What every task's run shares around the loop (loop.ts): the options that control the run
 * rather than the model, opening the output folder (checked and locked before training, see
 * output.ts), and the run's record in metrics.json (hyper-parameters, data, seed, package
 * version, timings).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Module } from '../nn/module.js';
import type { ProgressBar } from '../utils/progress.js';
import { peftRunFiles, type FileMap, type PeftOptions } from '../peft/setup.js';
import { OutputFolder } from './output.js';
import { TRAIN_LOG, type TrainLoopResult } from './loop.js';

/** Options of a training run (not of the model): where it writes, how it continues, what it prints. */
export interface RunOptions {
  /**
   * Seed of the global generator (`manualSeed`): the same options and seed give the same run. Default per task: 42 (BERT tasks), 1337 (char GPT).
   */
  seed?: number;
  /** Output folder (model, config, tokenizer files, metrics.json, curves, train_log.jsonl, checkpoint/); none when omitted. */
  outDir?: string;
  /** Continue the run in `outDir` from its last checkpoint (the other options must be the same). */
  resume?: boolean;
  /** Also checkpoint every n optimiser steps (runs over epochs checkpoint at each epoch's end anyway). */
  saveEvery?: number;
  /** Micro-batches per optimiser step (default 1). */
  gradientAccumulationSteps?: number;
  /** Progress output (default: a bar on stderr); pass null to silence. */
  progress?: ProgressBar | null;
  /** Receives the run's log lines (default: stderr). */
  log?: (msg: string) => void;
  /** Recorded in the output folder's lock (default: the process's command line). */
  command?: string;
  /** The command-line options of the run, recorded with the hyper-parameters (so `--resume` can reuse them). */
  cliOptions?: Record<string, unknown>;
}

/** The package's version (package.json two levels above this file, in src/train or dist/train). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Opens (checks and locks) the output folder before training, sized for the model: the final
 * weights, the checkpoint's weights, two Adam moments and the best weights, at 4 bytes a value,
 * plus 1 MB. Null without `outDir`.
 */
export function openOutput(o: RunOptions, model: Module): OutputFolder | null {
  if (o.outDir === undefined) {
    if (o.resume) throw new Error('resume needs outDir (the folder of the run to continue)');
    return null;
  }
  return OutputFolder.open(o.outDir, {
    bytesNeeded: 5 * 4 * model.numParameters() + 2 ** 20,
    ...(o.command !== undefined ? { command: o.command } : {}),
    ...(o.log ? { warn: o.log } : {}),
  });
}

/** The part of metrics.json every task writes. */
export function runRecord(task: string, o: { seed: number; hyperparameters: Record<string, unknown>; data: Record<string, unknown> }, loop: TrainLoopResult, seconds: number) {
  return {
    task,
    packageVersion: packageVersion(),
    node: process.version,
    seed: o.seed,
    hyperparameters: o.hyperparameters,
    data: o.data,
    resumedFrom: loop.resumedFrom,
    timings: { totalSeconds: seconds, ...loop.timings, steps: loop.steps.length },
    curves: {
      steps: loop.steps.map((s) => ({ step: s.step, epoch: s.epoch, loss: s.loss, lr: s.lr, gradNorm: s.gradNorm })),
      evals: loop.evals.map((e) => ({ step: e.step, epoch: e.epoch, ...e.metrics })),
    },
  };
}

/**
 * Writes a finished run into its output folder: the model's files — or, where a PEFT method was
 * applied, the adapter (with `base/` first when the run had no pretrained base, and `merged/`
 * after it with `peft.merge`; see peft/setup.ts `peftRunFiles`) — together with the run's own
 * files (metrics.json, curves.svg, …) in one atomic commit at `step`. Returns every path
 * written, the step log (train_log.jsonl) included.
 *
 * @example
 * const files = commitRun(output, {
 *   model, peft: opts.peft, baseDir: opts.init ?? null, baseFiles, modelFiles, step: loop.steps.length,
 *   files: { 'metrics.json': json(metrics), 'curves.svg': svg },
 * });
 */
export function commitRun(output: OutputFolder, o: {
  model: Module;
  /** The model's own files as they are now (weights, config.json, tokenizer files). */
  modelFiles: () => FileMap;
  /** The run's other files, committed with the model's. */
  files: FileMap;
  step: number;
  peft?: PeftOptions | null;
  /** The pretrained base the run started from (an adapter points at it), or null. */
  baseDir?: string | null;
  /** The model's files before the PEFT method was applied (needed without a baseDir). */
  baseFiles?: FileMap | null;
}): string[] {
  const pf = peftRunFiles(o.model, { peft: o.peft ?? null, baseDir: o.baseDir ?? null, baseFiles: o.baseFiles ?? null, modelFiles: o.modelFiles });
  const paths: string[] = [];
  if (pf?.base) paths.push(...output.commitPaths(pf.base, o.step, 'base'));
  paths.push(...output.commitPaths({ ...(pf ? pf.adapter : o.modelFiles()), ...o.files }, o.step), output.path(TRAIN_LOG));
  if (pf?.merged) paths.push(...output.commitPaths(pf.merged(), o.step, 'merged'));
  return paths;
}

export function json(x: unknown): string {
  return JSON.stringify(x, null, 2) + '\n';
}
