/**
 * `tensorgrad prune`: magnitude pruning of a model folder's Linear weights (src/compress/prune.ts,
 * Han et al. 2015) to a target sparsity, globally or per layer; writes the pruned float32 model to
 * the output folder and prints the per-layer sparsity report with the raw and gzip'd sizes (dense
 * float32 storage: unstructured zeros only shrink the compressed file).
 *
 * One shot by default; with --epochs it prunes gradually while fine-tuning on the folder's task
 * data (Zhu & Gupta 2017's cubic schedule over the first 75 % of the steps, masks fixed after every
 * step; src/tasks/distill.ts with a student of the model's own size; --alpha > 0 also distils from
 * the unpruned model).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { defineCommand, printOutputs, useBackend } from '../util.js';
import { backendOption, mb, modelFolderInOut } from '../options.js';
import { distillOrUsage, taskData, taskDataOptions } from './distill.js';
import { distill } from '../../tasks/distill.js';
import { loadModelFolder } from '../../pipelines/load.js';
import { magnitudePrune } from '../../compress/prune.js';
import { safetensorsBytes } from '../../data/safetensors.js';

export const pruneSpec: CommandSpec = {
  name: 'prune',
  summary: 'Magnitude-prune the Linear weights of a model folder to a target sparsity; prints the per-layer report.',
  options: [
    { name: 'model', type: 'string', default: 'out/ner', help: 'model folder (config.json + model.safetensors) written by a train-* command' },
    { name: 'output', type: 'string', help: 'output folder (default: <model>-pruned)' },
    { name: 'sparsity', type: 'string', default: '0.5', help: 'fraction of the Linear weights to zero, in [0, 1)' },
    { name: 'scope', type: 'string', default: 'global', choices: ['global', 'layer'], help: 'one threshold over all layers, or the same sparsity in each' },
    { name: 'epochs', type: 'int', min: 1, help: 'fine-tune for this many epochs while pruning gradually to --sparsity (default: one-shot, no fine-tuning)' },
    { name: 'prune-events', type: 'int', default: 10, min: 1, help: 'with --epochs: pruning steps of the cubic schedule, spread over the first 75 % of training' },
    ...taskDataOptions,
    { name: 'alpha', type: 'number', default: 0, min: 0, help: 'with --epochs: weight of distillation from the unpruned model (0: cross-entropy only)' },
    { name: 'temperature', type: 'number', default: 2, min: 0, help: 'with --epochs and --alpha > 0: softmax temperature' },
    { name: 'max-length', type: 'int', default: 64, min: 4, help: 'with --epochs: maximum sub-word tokens per sequence' },
    { name: 'lr', type: 'number', default: 1e-3, min: 0, help: 'with --epochs: peak learning rate of AdamW' },
    { name: 'batch-size', type: 'int', default: 16, min: 1, help: 'with --epochs: sequences per batch' },
    { name: 'seed', type: 'int', default: 42, help: 'with --epochs: random seed (the model\'s training seed, for the same data split)' },
    backendOption,
  ],
};

export async function runPrune(o: ParsedOptions): Promise<number> {
  const sparsity = Number(o.sparsity);
  if (!(sparsity >= 0 && sparsity < 1)) throw new UsageError(`--sparsity must be a number in [0, 1), got ${String(o.sparsity)}`);
  const { dir, loaded, out } = modelFolderInOut(o, 'pruned');
  if (o.epochs !== undefined) return pruneFineTune(o, dir, out, sparsity);
  const masks = magnitudePrune(loaded.model, { sparsity, scope: o.scope as 'global' | 'layer' });
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(dir)) {
    if (f === 'model.safetensors' || !statSync(join(dir, f)).isFile()) continue;
    copyFileSync(join(dir, f), join(out, f));
  }
  const before = safetensorsBytes(loadModelFolder(dir).model.stateDict());
  const bytes = safetensorsBytes(loaded.model.stateDict());
  writeFileSync(join(out, 'model.safetensors'), bytes);
  console.log(masks.formatReport());
  console.log(`checkpoint: ${mb(bytes.length)} (unchanged: dense float32); gzip'd ${mb(gzipSync(before).length)} dense → ${mb(gzipSync(bytes).length)} pruned`);
  console.log(`wrote ${join(out, 'model.safetensors')}`);
  return 0;
}

/** --epochs: gradual pruning while fine-tuning (tasks/distill.ts, the student being the model itself). */
async function pruneFineTune(o: ParsedOptions, dir: string, out: string, sparsity: number): Promise<number> {
  useBackend(o.backend);
  const alpha = o.alpha as number;
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`--alpha must be in [0, 1], got ${alpha}`);
  const { data, source } = taskData(o, dir, '--model');
  const layers = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { num_hidden_layers: number }).num_hidden_layers;
  const res = distillOrUsage(() => distill({
    teacher: dir, ...data, dataSource: source, numLayers: layers, studentInit: 'teacher', alpha, temperature: o.temperature as number,
    pruning: { finalSparsity: sparsity, scope: o.scope as 'global' | 'layer', events: o.pruneEvents as number },
    epochs: o.epochs as number, lr: o.lr as number, batchSize: o.batchSize as number, maxLength: o.maxLength as number,
    seed: o.seed as number, outDir: out, command: 'tensorgrad prune',
  }));
  console.log(res.sparsity!.report);
  const metric = res.task === 'token-classification' ? 'entity F1' : 'macro F1';
  console.log(`\ntest ${metric}: ${res.scores.teacher.f1.toFixed(4)} dense → ${res.scores.student.f1.toFixed(4)} at ${(100 * res.sparsity!.total).toFixed(1)} % sparsity (gradual pruning + fine-tuning, ${o.epochs} epochs)`);
  const bytes = readFileSync(join(out, 'model.safetensors'));
  console.log(`checkpoint: ${mb(bytes.length)} (dense float32); gzip'd ${mb(gzipSync(readFileSync(join(dir, 'model.safetensors'))).length)} before → ${mb(gzipSync(bytes).length)} pruned`);
  printOutputs(out, res.files);
  return 0;
}

export const pruneCommand = defineCommand(pruneSpec, runPrune);
