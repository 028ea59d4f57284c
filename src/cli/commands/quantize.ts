/**
 * `tensorgrad quantize`: int8 dynamic quantization of a model folder (src/compress/quantize.ts):
 * every nn.Linear (or those named by --modules) becomes a QuantizedLinear; writes the output folder
 * with the input's config/tokenizer files and model-int8.safetensors (I8 weights + F32 scales, the
 * layout in its metadata; load with compress.loadQuantized). Prints the sizes.
 */
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type CommandSpec, type ParsedOptions } from '../args.js';
import { defineCommand } from '../util.js';
import { mb, modelFolderInOut } from '../options.js';
import { quantize, quantizedLayers } from '../../compress/quantize.js';
import { saveQuantized } from '../../compress/quantize-io.js';

export const quantizeSpec: CommandSpec = {
  name: 'quantize',
  summary: 'int8 dynamic quantization of a model folder (Linear weights → int8 + per-channel scales).',
  options: [
    { name: 'model', type: 'string', default: 'out/ner', help: 'model folder (config.json + model.safetensors) written by a train-* command' },
    { name: 'output', type: 'string', help: 'output folder (default: <model>-int8)' },
    { name: 'modules', type: 'string', help: 'comma-separated Linear names or name suffixes to quantize (default: every nn.Linear)' },
  ],
};

export async function runQuantize(o: ParsedOptions): Promise<number> {
  const { dir, loaded, out } = modelFolderInOut(o, 'int8');
  const modules = o.modules ? String(o.modules).split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  try {
    quantize(loaded.model, modules ? { modules } : {});
  } catch (e) {
    throw new UsageError(`--modules: ${(e as Error).message}`);
  }
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(dir)) {
    if (f === 'model.safetensors' || !statSync(join(dir, f)).isFile()) continue;
    copyFileSync(join(dir, f), join(out, f));
  }
  const file = join(out, 'model-int8.safetensors');
  saveQuantized(loaded.model, file);
  const before = statSync(join(dir, 'model.safetensors')).size;
  const after = statSync(file).size;
  console.log(`quantized ${quantizedLayers(loaded.model).length} Linear layers to int8 (per-channel weights, dynamic per-row activations)`);
  console.log(`checkpoint: ${mb(before)} float32 → ${mb(after)} int8 (${(before / after).toFixed(2)}× smaller)`);
  console.log(`wrote ${file}`);
  return 0;
}

export const quantizeCommand = defineCommand(quantizeSpec, runQuantize);
