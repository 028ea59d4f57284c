/**
 * defineOp / defineComposite, the public custom-op API: the TSDoc examples run as written
 * (defineOp's with gradcheck, registerHook's, registerForwardHook's), and the declaration's
 * contract: inputs are the tensor arguments in order, ctx.save / ctx.attrs reach the backward,
 * non-float outputs and no-grad inputs record nothing, bad declarations are refused by name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import { defineComposite, defineOp, gradcheck, noGrad, OPS, COMPOSITES, randn, tensor, Tensor } from '../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;

/** The @example block of the TSDoc just before `marker` in a source file. */
function exampleBefore(file: string, marker: string): string {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const end = src.indexOf(marker);
  const start = src.lastIndexOf('@example', end);
  const stop = src.indexOf('*/', start);
  return src.slice(start + '@example'.length, stop).split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n');
}
function runExample(code: string, epilogue: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tg-doc-'));
  const file = join(dir, 'example.mts');
  writeFileSync(file, code.replace(/from 'tensorgrad'/g, `from '${join(ROOT, 'src/index.ts')}'`) + '\n' + epilogue);
  return execFileSync(process.execPath, ['--import', TSX, file], { cwd: dir, encoding: 'utf8' });
}

describe('the documented examples run as written', () => {
  it('defineOp (with gradcheck)', () => {
    const code = exampleBefore('src/autograd/define.ts', 'export function defineOp');
    expect(code).toMatch(/gradcheck/);
    const out = runExample(code, "console.log(JSON.stringify({ ok: gradcheck((t) => cube(t), [x]), name: cube.name, v: cube(tensor([2], { dtype: 'float64' })).item() }));\nimport { tensor } from 'tensorgrad';".replace("'tensorgrad'", `'${join(ROOT, 'src/index.ts')}'`));
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ ok: true, name: 'cube', v: 8 });
  }, 60_000);
  it('Tensor.registerHook', () => {
    const out = runExample(exampleBefore('src/tensor/tensor.ts', 'registerHook(fn: GradHook)'), 'console.log(JSON.stringify(w.grad!.toArray()));');
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([1, 1, 1]);
  }, 60_000);
  it('Module.registerForwardHook', () => {
    const out = runExample(exampleBefore('src/nn/module.ts', 'registerForwardHook(fn: ForwardHook'), 'console.log(JSON.stringify(acts.map((a) => a.shape)));');
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([[3, 8]]);
  }, 60_000);
});

describe('defineOp', () => {
  // y = a·b² with a saved tensor and an attribute; a second tensor argument that is an index-like int
  const scaledSquare = defineOp({
    name: 'testScaledSquare',
    gradient: 'y = s·a·b²;  ∂L/∂a = g·s·b², ∂L/∂b = g·2s·a·b',
    forward: (ctx: { save(...t: Tensor[]): void; attrs: { s: number } }, a: Tensor, b: Tensor, s: number) => {
      ctx.save(b.mul(b));
      ctx.attrs = { s };
      return a.mul(b).mul(b).mul(s);
    },
    backward: ({ inputs: [a, b], saved: [b2], attrs: { s }, needsGrad }, g) => [
      needsGrad[0] ? g.mul(b2!).mul(s) : null,
      needsGrad[1] ? g.mul(a!).mul(b!).mul(2 * s) : null,
    ],
  });
  it('records one node with the tensor arguments as inputs, and its gradient checks', () => {
    const a = randn([3], { dtype: 'float64', requiresGrad: true });
    const b = randn([3], { dtype: 'float64', requiresGrad: true });
    const y = scaledSquare(a, b, 1.5);
    expect(y.gradFn!.opName).toBe('testScaledSquare');
    expect(y.gradFn!.inputs).toEqual([a, b]);
    expect(gradcheck((p, q) => scaledSquare(p, q!, 1.5), [a, b])).toBe(true);
    expect(OPS.get('testScaledSquare')!.gradient).toMatch(/∂L\/∂a/);
  });
  it('records nothing under noGrad or without inputs that require grad', () => {
    const a = randn([2], { requiresGrad: true });
    expect(noGrad(() => scaledSquare(a, a, 1)).gradFn).toBeNull();
    expect(scaledSquare(randn([2]), randn([2]), 1).requiresGrad).toBe(false);
  });
  it('an opcode forward checks for a float tensor', () => {
    const op = defineOp({ name: 'testSquareOpcode', forward: 'square', backward: ({ inputs: [x] }, g) => [g.mul(x!).mul(2)] });
    expect(op(tensor([3])).item()).toBe(9);
    expect(() => op(tensor([3], { dtype: 'int32' }))).toThrow(/testSquareOpcode: expected a floating-point input/);
    expect(gradcheck((t) => op(t), [randn([4], { dtype: 'float64', requiresGrad: true })])).toBe(true);
  });
  it('an op that returns its input gets a fresh tensor (the input keeps its own node)', () => {
    const ident = defineOp({ name: 'testIdentity', forward: (_c, x: Tensor) => x, backward: (_c, g) => [g] });
    const x = randn([2], { requiresGrad: true });
    const y = ident(x);
    expect(y).not.toBe(x);
    expect(x.isLeaf).toBe(true);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([1, 1]);
  });
  it('refuses bad declarations, naming the problem', () => {
    expect(() => defineOp({ name: 'exp', forward: 'exp', backward: (_c, g) => [g] })).toThrow(/op 'exp' defined twice/);
    expect(() => defineOp({ name: 'bad name', forward: 'exp', backward: (_c, g) => [g] })).toThrow(/name must be an identifier-like string, got "bad name"/);
    expect(() => defineOp({ name: 'testNoBackward', forward: 'exp' } as never)).toThrow(/needs a backward function/);
    const noTensor = defineOp({ name: 'testNoTensor', forward: () => 5 as unknown as Tensor, backward: () => [] });
    expect(() => noTensor()).toThrow(/testNoTensor: forward must return a Tensor, got number/);
  });
  it('defineComposite enters COMPOSITES and returns the function itself', () => {
    const sq = defineComposite({ name: 'testSquareComposite', forward: (x: Tensor) => x.mul(x) });
    expect(COMPOSITES.has('testSquareComposite')).toBe(true);
    expect(sq(tensor([3])).item()).toBe(9);
    expect(sq.spec.name).toBe('testSquareComposite');
  });
});
