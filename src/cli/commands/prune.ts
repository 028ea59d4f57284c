/**
 * `tensorgrad prune`: magnitude pruning of a model folder's Linear weights (src/compress/prune.ts,
 * Han et al. 2015) to a target sparsity, globally or per layer; writes the pruned float32 model to
 * the output folder and prints the per-layer sparsity report with the raw and gzip'd sizes (dense
 * float32 storage: unstructured zeros only shrink the compressed file). No fine-tuning here.
 */
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { defineCommand } from '../util.js';
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
  ],
};

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;

export async function runPrune(o: ParsedOptions): Promise<number> {
  const dir = resolve(String(o.model));
  const sparsity = Number(o.sparsity);
  if (!(sparsity >= 0 && sparsity < 1)) throw new UsageError(`--sparsity must be a number in [0, 1), got ${String(o.sparsity)}`);
  let loaded;
  try {
    loaded = loadModelFolder(dir);
  } catch (e) {
    throw new UsageError(`--model: ${(e as Error).message}`);
  }
  const out = resolve(o.output ? String(o.output) : `${dir}-pruned`);
  if (out === dir) throw new UsageError('--output must differ from --model');
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

export const pruneCommand = defineCommand(pruneSpec, runPrune);
