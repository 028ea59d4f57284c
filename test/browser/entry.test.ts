/**
 * The browser entry (issue #20 item 1): src/browser.ts bundles for `platform: 'browser'` (esbuild
 * refuses any Node builtin there), exports the core under the same names as the Node entry, and
 * the core's path-taking functions fail with a message naming the bytes/text alternative where
 * there is no Node fs. The page-level checks (training, golden ops in Chromium) are
 * `npm run test:browser` (test/browser/run.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../../src/browser.js';
import * as nodeEntry from '../../src/index.js';
import { BertTokenizer } from '../../src/data/tokenizer/bert.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('browser entry', () => {
  it('bundles for the browser platform with no Node builtin', async () => {
    const r = await build({
      entryPoints: [join(ROOT, 'src', 'browser.ts')], bundle: true, format: 'esm', platform: 'browser', write: false,
      metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((f) => f.endsWith('src/nn/gpt.ts'))).toBe(true);
    expect(inputs.some((f) => f.endsWith('src/data/tokenizer/bert.ts'))).toBe(true);
    expect(inputs.filter((f) => /^(node:|src\/(train|tasks|cli|serve|pipelines)\/)/.test(f))).toEqual([]);
    expect(r.outputFiles[0]!.text).not.toMatch(/from\s*["']node:/);
  }, 60_000);

  it('exports the core under the Node entry\'s names', () => {
    for (const name of ['tensor', 'Tensor', 'randn', 'manualSeed', 'noGrad', 'matmul', 'softmax', 'setDefaultDevice', 'registerGpuBackend', 'setGemmThreads']) {
      expect(typeof (browserEntry as Record<string, unknown>)[name], name).not.toBe('undefined');
      expect((browserEntry as Record<string, unknown>)[name], name).toBe((nodeEntry as Record<string, unknown>)[name]);
    }
    expect(browserEntry.nn.GPT).toBe(nodeEntry.nn.GPT);
    expect(browserEntry.optim.AdamW).toBe(nodeEntry.optim.AdamW);
    expect(browserEntry.data.BertTokenizer).toBe(nodeEntry.data.BertTokenizer);
    expect(browserEntry.data.parseSafetensors).toBe(nodeEntry.data.parseSafetensors);
    // Node-only readers stay out of the browser namespace
    expect('readConll' in browserEntry.data).toBe(false);
    expect('saveCheckpoint' in browserEntry).toBe(false);
  });

  it('BertTokenizer.fromVocabText is fromVocabFile without the file', () => {
    const text = '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n##s\r\n';
    const tok = BertTokenizer.fromVocabText(text);
    expect(tok.vocabSize).toBe(7);
    expect(tok.tokenize('hellos')).toEqual(['hello', '##s']);
    expect(() => BertTokenizer.fromVocabText(42 as unknown as string)).toThrow(/fromVocabText.*text/);
  });

  it('without Node fs, path-taking core functions name the alternative', async () => {
    // a fresh process that hides process.getBuiltinModule and imports the core modules directly
    // (not through src/index.ts, which would register node:fs)
    const tok = pathToFileURL(join(ROOT, 'src', 'data', 'tokenizer', 'bert.ts')).href;
    const st = pathToFileURL(join(ROOT, 'src', 'data', 'safetensors-format.ts')).href;
    const script = `
      delete process.getBuiltinModule;
      const { BertTokenizer } = await import(${JSON.stringify(tok)});
      const { readSafetensorsFile } = await import(${JSON.stringify(st)});
      for (const f of [() => BertTokenizer.fromVocabFile('vocab.txt'), () => readSafetensorsFile('m.safetensors')]) {
        try { f(); console.log('no error'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }
      }
    `;
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TokenizerError: .*fromVocabFile.*needs Node\.js.*fromVocabText/);
    expect(lines[1]).toMatch(/^SafetensorsError: .*readSafetensorsFile.*needs Node\.js.*parseSafetensors/);
  }, 60_000);
});
