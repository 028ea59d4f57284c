/**
 * The output folder writer (src/train/output.ts; issue #11 items 14 and 15): a process killed at
 * any file-system operation of a save — simulated by a fault injected before each one — never
 * leaves a folder or checkpoint that a reader accepts with parts from two writes; a second run on
 * a folder is refused naming the holder; a stale lock is broken with a warning; an unusable folder
 * is reported before training, naming the folder and the reason.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, tensor } from '../../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import {
  checkOutputFolder, LOCK, OutputFolder, OutputFolderError, setWriteFaultHook, SimulatedCrash, verifyOutputFolder, writeFilesAtomically,
} from '../../src/train/output.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `tg-out-${p}-`));
afterEach(() => setWriteFaultHook(null));

/** Number of fault points of one call of `fn` (every write, fsync and rename). */
function countOps(fn: () => void): number {
  let n = 0;
  setWriteFaultHook(() => void n++);
  fn();
  setWriteFaultHook(null);
  return n;
}

/** Runs `fn` with a simulated kill before the k-th fault point. */
function killAt(k: number, fn: () => void): void {
  let n = 0;
  setWriteFaultHook((op, path) => {
    if (n++ === k) throw new SimulatedCrash(`killed before ${op} ${path}`);
  });
  try {
    expect(fn).toThrow(SimulatedCrash);
  } finally {
    setWriteFaultHook(null);
  }
}

const filesOf = (step: number) => ({
  'model.safetensors': `weights of step ${step} `.repeat(50 + step),
  'config.json': `{"step": ${step}}`,
  'metrics.json': `{"loss": ${1 / step}}`,
});

describe('writeFilesAtomically: a kill at any point leaves the old write or the new one, never a mix', () => {
  it('over a previous write: every fault point', () => {
    const base = tmp('base');
    writeFilesAtomically(base, filesOf(1), { step: 1, runId: 'r1' });
    const n = countOps(() => writeFilesAtomically(tmp('count'), filesOf(2), { step: 2, runId: 'r2' }));
    expect(n).toBe(3 * 2 + 2 + 3 + 1); // (write + fsync) per file, the manifest's, 3 renames, the manifest's rename
    let accepted = 0, refused = 0;
    for (let k = 0; k < n; k++) {
      const dir = tmp(`k${k}`);
      cpSync(base, dir, { recursive: true });
      killAt(k, () => writeFilesAtomically(dir, filesOf(2), { step: 2, runId: 'r2' }));
      let m;
      try {
        m = verifyOutputFolder(dir);
      } catch (e) {
        expect(e).toBeInstanceOf(OutputFolderError);
        expect((e as Error).message).toContain(dir);
        refused++;
        continue;
      }
      accepted++;
      expect(m).not.toBeNull();
      const want = filesOf(m!.step);
      for (const [name, content] of Object.entries(want)) expect(readFileSync(join(dir, name), 'utf8'), `${name} at fault ${k}`).toBe(content);
    }
    expect(accepted).toBeGreaterThan(0); // a kill before any rename keeps the old write readable
    expect(refused).toBeGreaterThan(0); // a kill between renames is refused, not half-loaded
  });

  it('into an empty folder: every fault point leaves nothing readable or the complete write', () => {
    const n = countOps(() => writeFilesAtomically(tmp('count'), filesOf(1), { step: 1, runId: 'r1' }));
    for (let k = 0; k < n; k++) {
      const dir = tmp(`e${k}`);
      killAt(k, () => writeFilesAtomically(dir, filesOf(1), { step: 1, runId: 'r1' }));
      let m;
      try {
        m = verifyOutputFolder(dir);
      } catch (e) {
        expect(e).toBeInstanceOf(OutputFolderError);
        continue;
      }
      if (m === null) {
        for (const name of Object.keys(filesOf(1))) expect(existsSync(join(dir, name)), `${name} at fault ${k}`).toBe(false);
      } else {
        expect(m.step).toBe(1);
      }
    }
  });

  it('a completed write removes what the previous manifest listed and this one does not', () => {
    const dir = tmp('stale');
    writeFilesAtomically(dir, { ...filesOf(1), 'curves.svg': '<svg/>' }, { step: 1, runId: 'a' });
    writeFilesAtomically(dir, filesOf(2), { step: 2, runId: 'b' });
    expect(existsSync(join(dir, 'curves.svg'))).toBe(false);
    expect(verifyOutputFolder(dir)!.runId).toBe('b');
  });

  it('a file changed after the write (e.g. by another run) is refused, naming it', () => {
    const dir = tmp('mixed');
    writeFilesAtomically(dir, filesOf(1), { step: 1, runId: 'a' });
    writeFileSync(join(dir, 'config.json'), '{"step": 99}');
    expect(() => verifyOutputFolder(dir)).toThrow(/config\.json does not belong to the write recorded in manifest\.json \(step 1\)/);
  });
});

describe('checkpoints: a kill while saving never gives a checkpoint with parts of two steps', () => {
  function setup() {
    manualSeed(0);
    const model = new nn.Linear(4, 3);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 0.01 });
    return { model, optimizer };
  }
  function train(p: ReturnType<typeof setup>, steps: number) {
    for (let i = 0; i < steps; i++) {
      p.optimizer.zeroGrad();
      p.model.forward(tensor([[1, 2, 3, 4]])).pow(2).sum().backward();
      p.optimizer.step();
    }
  }

  it('every fault point of the second save: loadCheckpoint restores step 8 or step 16 whole, or refuses', () => {
    const a = setup();
    const base = tmp('ck');
    train(a, 8);
    saveCheckpoint(base, a, { step: 8 });
    const w8 = Array.from(a.model.weight.toTypedArray());
    train(a, 8);
    const w16 = Array.from(a.model.weight.toTypedArray());
    const n = countOps(() => saveCheckpoint(tmp('ckc'), a, { step: 16 }));
    let refused = 0;
    for (let k = 0; k < n; k++) {
      const dir = tmp(`ck${k}`);
      cpSync(base, dir, { recursive: true });
      killAt(k, () => saveCheckpoint(dir, a, { step: 16 }));
      const b = setup();
      let extra;
      try {
        extra = loadCheckpoint(dir, b);
      } catch (e) {
        expect(e).toBeInstanceOf(OutputFolderError);
        refused++;
        continue;
      }
      const step = extra.step as number;
      expect([8, 16]).toContain(step);
      expect(Array.from(b.model.weight.toTypedArray())).toEqual(step === 8 ? w8 : w16);
      expect(b.optimizer.stateDict().state[0]!.step).toBe(step); // the optimizer is from the same step as the model
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('the lock', () => {
  it('a second run on a folder gets an error naming the holder; release frees it', () => {
    const dir = tmp('lock');
    const a = OutputFolder.open(dir, { command: 'tensorgrad train-ner' });
    expect(() => OutputFolder.open(dir)).toThrow(new RegExp(`is in use by another run: pid ${process.pid} .*tensorgrad train-ner`));
    a.release();
    const b = OutputFolder.open(dir);
    b.release();
    expect(existsSync(join(dir, LOCK))).toBe(false);
  });

  it('a lock whose process is gone is broken with a warning', () => {
    const dir = tmp('stale-lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid, host: hostname(), command: 'tensorgrad train-gpt', started: '2026-01-01T00:00:00Z' }));
    const warnings: string[] = [];
    const out = OutputFolder.open(dir, { warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(new RegExp(`breaking the stale lock .* of pid ${pid} \\(tensorgrad train-gpt`));
    out.release();
  });
});

describe('the folder is checked before training (#11.15)', () => {
  it('a file, a path below a file, too little space: an error naming the folder and the reason', () => {
    const dir = tmp('chk');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => checkOutputFolder(file)).toThrow(`output folder ${file}: it is a file, not a folder`);
    expect(() => checkOutputFolder(join(file, 'sub'))).toThrow(`output folder ${join(file, 'sub')}: cannot create it (a part of the path is a file, not a folder)`);
    expect(() => checkOutputFolder(join(dir, 'big'), { bytesNeeded: 2 ** 62 })).toThrow(/output folder .*big: not enough free space \([\d.]+ MB free, the run writes about [\d.]+ MB\)/);
    expect(readdirSync(join(dir, 'big'))).toEqual([]); // the probe file is gone
  });

  it('train-ner with --out naming a file fails at once, before the first step', () => {
    const dir = tmp('cli');
    const file = join(dir, 'model.bin');
    writeFileSync(file, 'x');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train-ner', '--init', 'random', '--epochs', '1', '--hidden', '8', '--layers', '1', '--out', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`output folder ${file}: it is a file, not a folder`);
    expect(r.stderr).not.toMatch(/epoch 1/);
  }, 60_000);

  it('evaluate refuses a torn model folder', () => {
    const dir = tmp('torn');
    writeFilesAtomically(dir, { 'config.json': '{}', 'model.safetensors': 'x' }, { step: 1, runId: 'a' });
    writeFileSync(join(dir, 'model.safetensors'), 'y');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'evaluate', '--model', dir], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/model\.safetensors does not belong to the write recorded in manifest\.json/);
    rmSync(dir, { recursive: true });
  }, 60_000);
});
