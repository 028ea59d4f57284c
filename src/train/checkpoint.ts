/**
 * Training checkpoints: everything needed to resume a run exactly where it stopped.
 *
 *   dir/model.safetensors       the model's state dict (loads in PyTorch too)
 *   dir/optimizer.safetensors   every optimizer state tensor, named `state.{paramIndex}.{key}`
 *   dir/trainer_state.json      optimizer hyperparameters and scalar state, LR scheduler,
 *                               the global RNG state, and the caller's own fields (epoch, step…)
 *
 *   dir/manifest.json           written last: each file's size and SHA-256 and the step
 *
 * The files are written atomically as one unit (output.ts: temporary names, fsync, rename, the
 * manifest last) and `loadCheckpoint` verifies the manifest first, so a checkpoint whose model
 * is from one step and optimizer from another — a run killed while saving — is refused.
 * A run resumed from a checkpoint produces exactly the losses of the uninterrupted run
 * (test/train/checkpoint.test.ts, test/train/loop.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { getRngState, setRngState, type RngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import { loadSafetensors, safetensorsBytes } from '../data/safetensors.js';
import { verifyOutputFolder, writeFilesAtomically } from './output.js';

export interface CheckpointParts {
  model: Module;
  optimizer?: Optimizer;
  scheduler?: LRScheduler;
}

interface TrainerStateFile {
  format: 'tensorgrad-checkpoint';
  version: 1;
  rng: RngState;
  optimizer?: { paramGroups: unknown[]; scalars: Record<string, Record<string, number>> };
  scheduler?: unknown;
  extra: Record<string, unknown>;
}

/**
 * Writes a checkpoint folder (created if needed), atomically. `extra` is saved as JSON (epoch,
 * step, metrics…); `extra.step` (a number) is recorded in the manifest. `files` adds more files
 * to the same atomic unit (e.g. the best weights so far).
  * @example
  * ```ts
  * saveCheckpoint('out/ckpt', { model, optimizer, scheduler }, { step: 1200, epoch: 3 });
  * // later, in a fresh process, with the same configuration:
  * const extra = loadCheckpoint('out/ckpt', { model, optimizer, scheduler }); // { step: 1200, epoch: 3 }
  * ```
 */
export function saveCheckpoint(
  dir: string, parts: CheckpointParts, extra: Record<string, unknown> = {}, opts: { runId?: string; files?: Record<string, Uint8Array | string> } = {},
): void {
  const files: Record<string, Uint8Array | string> = { 'model.safetensors': safetensorsBytes(parts.model.stateDict(), { format: 'pt' }), ...opts.files };
  const state: TrainerStateFile = { format: 'tensorgrad-checkpoint', version: 1, rng: getRngState(), extra };
  if (parts.optimizer) {
    const sd = parts.optimizer.stateDict();
    const tensors: Record<string, Tensor> = {};
    const scalars: Record<string, Record<string, number>> = {};
    for (const [id, s] of Object.entries(sd.state)) {
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Tensor) tensors[`state.${id}.${k}`] = v;
        else (scalars[id] ??= {})[k] = v;
      }
    }
    files['optimizer.safetensors'] = safetensorsBytes(tensors, { format: 'pt' });
    state.optimizer = { paramGroups: sd.paramGroups, scalars };
  }
  if (parts.scheduler) state.scheduler = parts.scheduler.stateDict();
  files['trainer_state.json'] = JSON.stringify(state, null, 2);
  writeFilesAtomically(dir, files, { step: typeof extra.step === 'number' ? extra.step : 0, runId: opts.runId ?? randomUUID() });
}

/**
 * Restores a checkpoint written by saveCheckpoint into freshly built objects of the same
 * configuration (model, optimizer over `model.parameters()`, scheduler), and the global RNG.
 * Returns the `extra` fields.
  * @example
  * ```ts
  * const model = new nn.BertForTokenClassification(config);                 // the same configuration as when saved
  * const { optimizer, scheduler } = adamWWithWarmup(model, hyperparameters);
  * const { step } = loadCheckpoint('out/ner/checkpoint', { model, optimizer, scheduler }); // weights, optimizer moments, lr schedule, RNG
  * ```
 */
export function loadCheckpoint(dir: string, parts: CheckpointParts): Record<string, unknown> {
  verifyOutputFolder(dir); // all parts from one save, or an OutputFolderError
  const statePath = join(dir, 'trainer_state.json');
  if (!existsSync(statePath)) throw new Error(`loadCheckpoint: ${statePath} does not exist (expected a folder written by saveCheckpoint)`);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerStateFile;
  if (state.format !== 'tensorgrad-checkpoint') throw new Error(`loadCheckpoint: ${statePath} is not a tensorgrad checkpoint`);
  parts.model.loadStateDict(loadSafetensors(join(dir, 'model.safetensors')));
  if (parts.optimizer) {
    if (!state.optimizer) throw new Error(`loadCheckpoint: ${dir} holds no optimizer state`);
    const tensors = loadSafetensors(join(dir, 'optimizer.safetensors'));
    const st: Record<number, Record<string, Tensor | number>> = {};
    for (const [name, t] of Object.entries(tensors)) {
      const m = /^state\.(\d+)\.(.+)$/.exec(name);
      if (!m) throw new Error(`loadCheckpoint: unexpected tensor '${name}' in optimizer.safetensors`);
      (st[Number(m[1])] ??= {})[m[2]!] = t;
    }
    for (const [id, s] of Object.entries(state.optimizer.scalars)) Object.assign((st[Number(id)] ??= {}), s);
    parts.optimizer.loadStateDict({ state: st, paramGroups: state.optimizer.paramGroups as never });
  }
  if (parts.scheduler) {
    if (!state.scheduler) throw new Error(`loadCheckpoint: ${dir} holds no LR scheduler state`);
    parts.scheduler.loadStateDict(state.scheduler as never);
  }
  setRngState(state.rng);
  return state.extra;
}
