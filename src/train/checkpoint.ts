/**
 * Training checkpoints: everything needed to resume a run exactly where it stopped.
 *
 *   dir/model.safetensors       the model's state dict (loads in PyTorch too)
 *   dir/optimizer.safetensors   every optimizer state tensor, named `state.{paramIndex}.{key}`
 *   dir/trainer_state.json      optimizer hyperparameters and scalar state, LR scheduler,
 *                               the global RNG state, and the caller's own fields (epoch, step…)
 *
 * A run resumed from a checkpoint produces exactly the losses of the uninterrupted run
 * (test/train/checkpoint.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { getRngState, setRngState, type RngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import { loadSafetensors, saveSafetensors } from '../data/safetensors.js';

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

/** Writes a checkpoint folder (created if needed). `extra` is saved as JSON (epoch, step, metrics…). */
export function saveCheckpoint(dir: string, parts: CheckpointParts, extra: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(parts.model.stateDict(), join(dir, 'model.safetensors'));
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
    saveSafetensors(tensors, join(dir, 'optimizer.safetensors'));
    state.optimizer = { paramGroups: sd.paramGroups, scalars };
  }
  if (parts.scheduler) state.scheduler = parts.scheduler.stateDict();
  writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify(state, null, 2));
}

/**
 * Restores a checkpoint written by saveCheckpoint into freshly built objects of the same
 * configuration (model, optimizer over `model.parameters()`, scheduler), and the global RNG.
 * Returns the `extra` fields.
 */
export function loadCheckpoint(dir: string, parts: CheckpointParts): Record<string, unknown> {
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
