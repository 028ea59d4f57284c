/**
 * `npm run pretrain:release` — makes the checkpoint shipped in `assets/` (issue #14) with the project's
 * own command, from the corpus of scripts/build-corpus.ts:
 *
 *   1. builds out/corpus/corpus.txt if missing (Debian r-cran-janeaustenr, bible-kjv, fortunes + npm datasets);
 *   2. runs `tensorgrad pretrain-mlm` with the release hyper-parameters below into out/pretrain-release,
 *      checkpointing every SAVE_EVERY steps; run it again after an interruption and it resumes
 *      (`--resume`: the same trajectory, bit for bit, as an uninterrupted run);
 *   3. exports the final model to assets/<NAME>/ as float16 safetensors in HF layout, with config.json,
 *      vocab.txt, tokenizer_config.json, vocab_map.json, eval.svg and a model card README.md (corpus,
 *      steps, hyper-parameters, held-out masked-token accuracy and perplexity, the cloze test of
 *      data/cloze/cloze.json, the command that reproduces it, licence).
 *
 * Usage: npm run pretrain:release [-- --export-only] [-- --steps N]   (TENSORGRAD_NUM_THREADS as usual)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportRelease, releaseArgs, RELEASE, sittingsPath } from './release-export.js';

const argv = process.argv.slice(2);
const stepsArg = argv.indexOf('--steps');
const cfg = { ...RELEASE, ...(stepsArg >= 0 ? { maxSteps: Number(argv[stepsArg + 1]) } : {}) };

if (!argv.includes('--export-only')) {
  if (!existsSync(cfg.corpus)) {
    const r = spawnSync('npx', ['tsx', 'scripts/build-corpus.ts', '--out', 'out/corpus'], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const finished = existsSync(join(cfg.runDir, 'metrics.json')) &&
    (JSON.parse(readFileSync(join(cfg.runDir, 'metrics.json'), 'utf8')) as { steps?: number; history?: unknown[] }).history?.length === cfg.maxSteps;
  if (!finished) {
    const resume = existsSync(join(cfg.runDir, 'checkpoint', 'trainer_state.json'));
    const args = resume ? ['--resume', cfg.runDir] : releaseArgs(cfg);
    console.log(`${resume ? 'resuming' : 'starting'}: tensorgrad pretrain-mlm ${args.join(' ')}`);
    const t0 = performance.now();
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'pretrain-mlm', ...args, '--save-every', String(cfg.saveEvery)], { stdio: 'inherit' });
    const sittings = existsSync(sittingsPath(cfg)) ? JSON.parse(readFileSync(sittingsPath(cfg), 'utf8')) as unknown[] : [];
    sittings.push({ seconds: (performance.now() - t0) / 1000, exit: r.status, threads: process.env.TENSORGRAD_NUM_THREADS ?? 'default', at: new Date().toISOString() });
    writeFileSync(sittingsPath(cfg), JSON.stringify(sittings, null, 2) + '\n');
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
exportRelease(cfg);
