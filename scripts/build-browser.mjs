/**
 * `npm run build:browser`: the browser entry (src/browser.ts) as one ESM file,
 * dist/browser/tensorgrad.js (minified, with a source map), built with esbuild for
 * `platform: 'browser'` — which fails on any `node:` import, so a successful build is itself the
 * check that the core needs nothing from Node. gpu.js is not bundled: hand it over with
 * `registerGpuBackend({ gpujs })` (the playground imports its browser build) or load
 * gpu-browser.min.js with a <script> tag (globalThis.GPU). Prints the size, raw and gzipped.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'browser', 'tensorgrad.js');
mkdirSync(dirname(outfile), { recursive: true });
const result = await build({
  entryPoints: [join(root, 'src', 'browser.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const bytes = statSync(outfile).size;
const gz = gzipSync(readFileSync(outfile), { level: 9 }).length;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`dist/browser/tensorgrad.js: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped (${inputs} source files, no node: imports)`);
