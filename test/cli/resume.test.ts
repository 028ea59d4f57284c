/**
 * `--resume DIR` through the CLI: the run continues from DIR's last checkpoint with the options it
 * recorded (none need repeating), gives the uninterrupted run's losses, and refuses an option that
 * would change the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const cli = (...args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });
const stepLosses = (dir: string) =>
  readFileSync(join(dir, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.loss);

describe('tensorgrad train-gpt --resume', () => {
  it('continues from the checkpoint with the recorded options and reproduces the losses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-resume-'));
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'the quick brown fox jumps over the lazy dog. '.repeat(20));
    const opts = ['--text', text, '--block-size', '8', '--layers', '1', '--heads', '2', '--embd', '8', '--dropout', '0.1', '--steps', '6', '--batch-size', '2', '--sample', '0', '--save-every', '4'];
    const a = cli('train-gpt', ...opts, '--out', join(dir, 'a'));
    expect(a.status, a.stderr).toBe(0);
    const b = cli('train-gpt', ...opts, '--out', join(dir, 'b'));
    expect(b.status, b.stderr).toBe(0);
    const r = cli('train-gpt', '--resume', join(dir, 'b'), '--sample', '0');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming from .*checkpoint: step 4 of 6/);
    expect(stepLosses(join(dir, 'b'))).toEqual(stepLosses(join(dir, 'a')));
    expect(readFileSync(join(dir, 'b', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'a', 'model.safetensors')));

    const bad = cli('train-gpt', '--resume', join(dir, 'b'), '--lr', '0.1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--resume: --lr 0.1 differs from the run's 0.006/);
    const none = cli('train-gpt', '--resume', join(dir, 'nothing'));
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--resume: .*trainer_state\.json does not exist/);
  }, 120_000);
});
