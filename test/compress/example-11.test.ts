/** examples/11-compress.ts in its TINY configuration: it runs, and prints the five-row table. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('examples/11-compress.ts (TINY)', () => {
  it('distils, quantizes, prunes and prints size / F1 / speed of each', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/11-compress.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000, env: { ...process.env, TINY: '1', NO_COLOR: '1' } });
    if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    for (const name of ['teacher 4×64 float32', 'teacher int8', 'student 2×64 \\(distilled\\)', 'student int8', 'teacher pruned 50 % \\+ fine-tune']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d{3}\\s+\\d\\.\\d{4}\\s+\\d+\\.\\d$`, 'm'));
    }
    const mb = (name: string) => Number(new RegExp(`^${name}\\s+(\\d+\\.\\d{3})`, 'm').exec(r.stdout)![1]);
    expect(mb('teacher int8')).toBeLessThan(mb('teacher 4×64 float32'));
    expect(r.stdout).toMatch(/✓ compressed/);
  }, 180_000);
});
