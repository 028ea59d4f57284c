/**
 * Smoke test of the demo's code path through the real CLI entry point, in a tiny
 * configuration: it trains, the loss falls, and the outputs exist and parse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const ROOT = join(import.meta.dirname, '..', '..');

describe('tensorgrad train-ner (the demo), tiny', () => {
  it('trains, reports, and writes checkpoint + metrics + curves', () => {
    const out = mkdtempSync(join(tmpdir(), 'tg-ner-'));
    const stdout = execFileSync(process.execPath, [...CLI, 'train-ner', '--init', 'random', '--epochs', '3', '--hidden', '16', '--layers', '1', '--lr', '0.01', '--out', out], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(stdout).toMatch(/precision {4}recall {2}f1-score {3}support/);
    expect(stdout).toMatch(/micro avg/);
    expect(stdout).toMatch(/entity F1 \(micro\) = \d\.\d{4}/);
    for (const f of ['model.safetensors', 'config.json', 'metrics.json', 'curves.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.history.length).toBe(3);
    expect(metrics.history[2].trainLoss).toBeLessThan(metrics.history[0].trainLoss);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.id2label['0']).toBe('O');

    // the saved model evaluates through the CLI
    const ev = execFileSync(process.execPath, [...CLI, 'evaluate', '--model', out, '--split', 'dev'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ev).toMatch(/entity F1 \(micro\) = \d\.\d{4}/);
  }, 180_000);

  it('bad options and missing folders: a message and exit code 2, no stack trace', () => {
    for (const args of [['train-ner', '--epochs', 'x'], ['train-ner', '--data', '/no/such/dir'], ['train-ner', '--bogus'], ['nonsense']]) {
      const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.length).toBeGreaterThan(0);
    }
    const help = spawnSync(process.execPath, [...CLI, 'train-ner', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: tensorgrad train-ner/);
  });

  it('runs through a symlink, as npm installs the `tensorgrad` bin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-bin-'));
    const link = join(dir, 'tensorgrad.ts');
    symlinkSync(join(ROOT, 'src/cli/main.ts'), link);
    const r = spawnSync(process.execPath, ['--import', 'tsx', link, 'info'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^tensorgrad \d+\.\d+\.\d+ on Node/);
    expect(r.stdout).toMatch(/cpu: available/);
  });
});
