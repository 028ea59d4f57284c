/**
 * Tensor methods follow from the op table (src/tensor/methods.ts): every declaration with
 * `method: true` is attached, and the typed member list (the generated block) is up to date.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { COMPOSITES, OPS, Tensor, tensor } from '../../src/index.js';
import { tableMethodNames } from '../../src/tensor/methods.js';
import { withGenerated } from '../../scripts/gen-methods.js';

describe('Tensor methods from the op table', () => {
  it('the generated member list in src/tensor/methods.ts is up to date (npm run gen:methods)', () => {
    const src = readFileSync(new URL('../../src/tensor/methods.ts', import.meta.url), 'utf8');
    expect(withGenerated(src)).toBe(src);
  });
  it('attaches every declaration with method: true, and only those', () => {
    const names = tableMethodNames();
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) {
      expect(typeof (Tensor.prototype as unknown as Record<string, unknown>)[n], n).toBe('function');
      const spec = OPS.get(n) ?? COMPOSITES.get(n);
      expect(spec?.method, n).toBe(true);
    }
    // declared without the flag (PyTorch has no such method): no method
    for (const n of ['einsum', 'conv1d', 'pad', 'softplus', 'silu', 'mish']) {
      expect(n in Tensor.prototype, n).toBe(false);
    }
  });
  it('a method is the function with the tensor first', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(x.cumsum(1).toArray()).toEqual([[1, 3], [3, 7]]);
    expect(x.roll(1, 0).toArray()).toEqual([[3, 4], [1, 2]]);
  });
});
