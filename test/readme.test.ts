/**
 * The README's code blocks run as written (with 'tensorgrad' resolved to this checkout).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { manualSeed, nn } from '../src/index.js';
import { saveSafetensors } from '../src/data/index.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;
const blocks = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

function runBlock(code: string, cwd: string, epilogue: string): string {
  const src = code
    .replace(/from 'tensorgrad\/data'/g, `from '${join(ROOT, 'src/data/index.ts')}'`)
    .replace(/from 'tensorgrad'/g, `from '${join(ROOT, 'src/index.ts')}'`);
  const file = join(cwd, 'block.mts'); // ESM, as the README's users write it
  writeFileSync(file, src + '\n' + epilogue);
  return execFileSync(process.execPath, ['--import', TSX, file], { cwd, encoding: 'utf8' });
}

describe('README code blocks', () => {
  it('has the blocks this test knows', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  it('"Ten lines": the loss falls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-readme-'));
    const out = runBlock(blocks[0]!, dir, 'console.log(JSON.stringify({ final: F.crossEntropy(model.forward(x), y).item() }));');
    expect(JSON.parse(out.trim().split('\n').pop()!).final).toBeLessThan(0.5);
  }, 60_000);

  it('"Load a HuggingFace checkpoint": loads, tokenizes and predicts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-readme-'));
    mkdirSync(join(dir, 'bert'));
    manualSeed(0);
    const config = new nn.BertConfig({ vocabSize: 30522, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32 });
    const m = new nn.BertForMaskedLM(config);
    saveSafetensors(m.stateDict(), join(dir, 'bert/model.safetensors'));
    writeFileSync(join(dir, 'bert/config.json'), JSON.stringify(config.toJSON()));
    copyFileSync(join(ROOT, 'assets/vocab.txt'), join(dir, 'bert/vocab.txt'));
    const block = blocks.find((b) => b.includes('loadPretrained'))!;
    const out = runBlock(block, dir, 'console.log(JSON.stringify({ ids: enc.inputIds, shape: logits.shape }));');
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.ids).toEqual([101, 1045, 2066, 13137, 20968, 102]);
    expect(r.shape).toEqual([1, 6, 30522]);
  }, 60_000);

  it('"Inference": the pipeline block runs on a tensorgrad NER folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-readme-'));
    cpSync(join(ROOT, 'test/fixtures/pipelines/ner'), join(dir, 'out/ner'), { recursive: true });
    const block = blocks.find((b) => b.includes("pipeline('token-classification'"))!;
    const out = runBlock(block, dir, "console.log(JSON.stringify(ner('Captain Ahab sailed from Nantucket with Starbuck.')));");
    const ents = JSON.parse(out.trim().split('\n').pop()!) as { word: string; start: number; end: number }[];
    expect(ents.length).toBeGreaterThan(0);
    for (const e of ents) expect('Captain Ahab sailed from Nantucket with Starbuck.'.slice(e.start, e.end).toLowerCase()).toBe(e.word);
  }, 60_000);

  it('"A training step written for speed": the loss falls and the pool serves the steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-readme-'));
    const block = blocks.find((b) => b.includes('cpuPool.stats()'))!;
    const out = runBlock(block, dir, 'console.log(JSON.stringify({ first: losses[0], last: losses[19], stats: cpuPool.stats(), grad: model.parameters()[0]!.grad!.shape }));');
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.last).toBeLessThan(r.first);
    expect(r.stats.hits).toBeGreaterThan(r.stats.misses);
    expect(r.grad).toEqual([512, 256]);
  }, 60_000);
});
