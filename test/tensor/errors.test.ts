/**
 * Bad input gets a clear error: each test asserts the message, which names the op and the
 * offending shapes, dims, dtypes or indices.
 */
import { describe, expect, it } from 'vitest';

import {
  add, cat, embedding, gather, indexSelect, matmul, mul, softmax, stack, tensor, where, zeros,
} from '../../src/index.js';
import { errorOf } from '../helpers.js';

const i32 = (d: Parameters<typeof tensor>[0]) => tensor(d, { dtype: 'int32' });

describe('shape errors', () => {
  it('matmul with mismatched inner dims', () => {
    expect(errorOf(() => matmul(zeros([2, 3]), zeros([4, 5])))).toBe('matmul: cannot multiply [2,3] by [4,5] (inner dims 3 != 4)');
    // 1-D operands are reported with the caller's shapes
    expect(errorOf(() => matmul(zeros([3]), zeros([4])))).toBe('matmul: cannot multiply [3] by [4] (inner dims 3 != 4)');
    expect(errorOf(() => matmul(zeros([2, 3]), zeros([2])))).toBe('matmul: cannot multiply [2,3] by [2] (inner dims 3 != 2)');
    expect(errorOf(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 4])))).toBe('matmul: batch dims of [2,2,3] and [3,3,4] do not broadcast');
    expect(errorOf(() => matmul(zeros([]), zeros([3])))).toBe('matmul: both arguments need at least 1 dimension, got shapes [] and [3]');
  });

  it('broadcast failures name the op and both shapes', () => {
    expect(errorOf(() => add(zeros([2, 3]), zeros([4, 5])))).toBe('add: shapes [2,3] and [4,5] cannot be broadcast together (dim -2 is 2 vs 4)');
    expect(errorOf(() => mul(zeros([2, 3]), zeros([3, 2])))).toBe('mul: shapes [2,3] and [3,2] cannot be broadcast together (dim -2 is 2 vs 3)');
    expect(errorOf(() => zeros([3]).lt(zeros([2])))).toMatch(/^lt: shapes \[3\] and \[2\] cannot be broadcast together/);
    expect(errorOf(() => where(tensor([true, false]), zeros([3]), 1))).toMatch(/^where: shapes \[2\] and \[3\].* cannot be broadcast together/);
    expect(errorOf(() => zeros([2, 3]).expand([3, 3]))).toBe(
      "expand: the input's shape [2,3] cannot be expanded to [3,3] (dim 0: 2 vs 3; only size-1 dims expand)",
    );
  });

  it('reshape / view to an incompatible size', () => {
    expect(errorOf(() => zeros([2, 3]).reshape([4]))).toBe('reshape: shape [4] is invalid for input of size 6 (shape [2,3])');
    expect(errorOf(() => zeros([2, 3]).reshape([5, -1]))).toBe('reshape: shape [5,-1] is invalid for input of size 6 (shape [2,3])');
    expect(errorOf(() => zeros([2, 3]).reshape([-1, -1]))).toBe('reshape: only one dimension can be inferred (-1), got [-1,-1]');
    expect(errorOf(() => zeros([2, 3]).view([7]))).toBe('view: shape [7] is invalid for input of size 6 (shape [2,3])');
  });

  it('cat / stack / split with mismatched shapes', () => {
    expect(errorOf(() => cat([zeros([2, 3]), zeros([2, 4])]))).toBe('cat: sizes must match except in dim 0: tensor 1 has shape [2,4], tensor 0 has [2,3]');
    expect(errorOf(() => cat([zeros([2, 3]), zeros([3])], 1))).toBe('cat: tensor 1 has rank 1 (shape [3]) but tensor 0 has rank 2 (shape [2,3])');
    expect(errorOf(() => cat([]))).toBe('cat: expected a non-empty array of tensors');
    expect(errorOf(() => stack([zeros([2]), zeros([3])]))).toBe('stack: expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1');
    expect(errorOf(() => zeros([5]).split([2, 2]))).toBe('split: sizes [2,2] must be non-negative integers summing to 5 (dim 0 of shape [5])');
  });

  it('permute / flatten / narrow / select / slice arguments', () => {
    expect(errorOf(() => zeros([2, 3]).permute([0]))).toBe('permute: got 1 dims [0] for a tensor of rank 2 (shape [2,3])');
    expect(errorOf(() => zeros([2, 3]).permute([1, 1]))).toBe('permute: dims [1,1] repeat a dimension');
    expect(errorOf(() => zeros([2, 3]).flatten(1, 0))).toBe('flatten: startDim 1 comes after endDim 0');
    expect(errorOf(() => zeros([2, 3]).narrow(1, 2, 2))).toBe('narrow: start 2 + length 2 is out of range for dim 1 of size 3');
    expect(errorOf(() => zeros([2, 3]).select(0, 2))).toBe('select: index 2 is out of range for dim 0 of size 2');
    expect(errorOf(() => zeros([2, 3]).slice(0, 0, 1, 0))).toBe('slice: step must be a positive integer, got 0');
  });
});

describe('out-of-range dims', () => {
  const x = zeros([2, 3]);
  const cases: [string, () => unknown, string][] = [
    ['sum', () => x.sum(2), 'sum: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['max', () => x.max(-3), 'max: dim -3 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['softmax', () => softmax(x, 2), 'softmax: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['logsumexp', () => x.logsumexp([0, 5]), 'logsumexp: dim 5 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['argmax', () => x.argmax(2), 'argmax: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['transpose', () => x.transpose(0, 2), 'transpose: dim1 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim1 < 2)'],
    ['unsqueeze', () => x.unsqueeze(3), 'unsqueeze: dim 3 is out of range for a tensor of rank 3 (expected -3 ≤ dim < 3)'],
    ['squeeze', () => x.squeeze(2), 'squeeze: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['gather', () => x.gather(2, i32([[0]])), 'gather: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['cat', () => cat([x, x], 2), 'cat: dim 2 is out of range for a tensor of rank 2 (expected -2 ≤ dim < 2)'],
    ['duplicate dims', () => x.sum([0, -2]), 'sum: dim [0,-2] contains a dimension twice'],
    ['non-integer dim', () => x.sum(0.5), 'sum: dim must be an integer, got 0.5'],
  ];
  for (const [name, f, msg] of cases) it(name, () => expect(errorOf(f)).toBe(msg));
});

describe('wrong dtypes', () => {
  it('float ops on bool / int tensors', () => {
    expect(errorOf(() => tensor([true]).log())).toBe('log: expected a floating-point input (float32 or float64), got dtype bool; convert it with .float() first');
    expect(errorOf(() => i32([1]).exp())).toBe('exp: expected a floating-point input (float32 or float64), got dtype int32; convert it with .float() first');
    expect(errorOf(() => softmax(i32([1]), 0))).toMatch(/^softmax: expected a floating-point input.*got dtype int32/);
    expect(errorOf(() => i32([1]).mean())).toMatch(/^mean: expected a floating-point input.*got dtype int32/);
    expect(errorOf(() => matmul(tensor([true]), tensor([true])))).toBe('matmul: bool tensors are not supported, got bool and bool');
  });

  it('non-int32 indices for gather / embedding / indexSelect', () => {
    expect(errorOf(() => gather(zeros([2, 2]), 0, zeros([2, 2])))).toBe('gather: index must be an int32 tensor, got dtype float32');
    expect(errorOf(() => embedding(tensor([0]), zeros([3, 2])))).toBe('embedding: index must be an int32 tensor, got dtype float32');
    expect(errorOf(() => indexSelect(zeros([3]), 0, tensor([true])))).toBe('indexSelect: index must be an int32 tensor, got dtype bool');
  });

  it('where with a non-bool condition; maskedFill with a non-bool mask', () => {
    expect(errorOf(() => where(i32([1]), 1, 2))).toBe('where: condition must be a bool tensor, got dtype int32');
    expect(errorOf(() => where(zeros([2]), zeros([2]), zeros([2])))).toBe('where: condition must be a bool tensor, got dtype float32');
    expect(errorOf(() => zeros([2]).maskedFill(zeros([2]), 1))).toBe('maskedFill: mask must be a bool tensor, got dtype float32');
  });

  it('unknown dtypes', () => {
    expect(errorOf(() => zeros([1], { dtype: 'float16' as never }))).toBe("zeros: unknown dtype 'float16' (expected 'float32', 'float64', 'int32' or 'bool')");
  });
});

describe('out-of-bounds indices', () => {
  it('gather', () => {
    expect(errorOf(() => gather(zeros([2, 3]), 0, i32([[5, 0, 0]])))).toBe('gather: index 5 is out of bounds for dim 0 with size 2');
    expect(errorOf(() => gather(zeros([2, 3]), 1, i32([[-1]])))).toBe('gather: index -1 is out of bounds for dim 1 with size 3');
    expect(errorOf(() => gather(zeros([2, 3]), 0, i32([0])))).toBe('gather: index must have the same rank as the input, got index shape [1] and input shape [2,3]');
    expect(errorOf(() => gather(zeros([2, 3]), 0, i32([[0, 0, 0, 0]])))).toBe('gather: index shape [1,4] exceeds the input shape [2,3] at dim 1');
  });

  it('embedding', () => {
    expect(errorOf(() => embedding(i32([0, 3]), zeros([3, 2])))).toBe('embedding: index 3 is out of bounds for dim 0 with size 3 (the table has 3 rows)');
    expect(errorOf(() => embedding(i32([-1]), zeros([3, 2])))).toMatch(/^embedding: index -1 is out of bounds/);
    expect(errorOf(() => embedding(i32([0]), zeros([3])))).toBe('embedding: weight must be 2-D [numEmbeddings, embeddingDim], got shape [3]');
  });

  it('indexSelect', () => {
    expect(errorOf(() => indexSelect(zeros([2, 3]), 1, i32([0, 3])))).toBe('indexSelect: index 3 is out of bounds for dim 1 with size 3');
    expect(errorOf(() => indexSelect(zeros([2, 3]), 0, i32([[0]])))).toBe('indexSelect: index must be 0-D or 1-D, got shape [1,1]');
  });
});

describe('other misuse', () => {
  it('ragged nested arrays', () => {
    expect(errorOf(() => tensor([[1, 2], [3]]))).toBe('tensor: ragged nested array: expected a list of length 2 at [1] (like its siblings), got length 1');
  });

  it('maskedFill with a mask that does not broadcast to the input', () => {
    expect(errorOf(() => zeros([2, 3]).maskedFill(tensor([true, false]), 1))).toBe('maskedFill: shapes [2,3] and [2] cannot be broadcast together (dim -1 is 3 vs 2)');
    // broadcastable, but to a larger shape than the input's
    expect(errorOf(() => zeros([2]).maskedFill(tensor([[true], [false]]), 1))).toBe("maskedFill: mask of shape [2,1] does not broadcast to the input's shape [2]");
  });

  it('item() on a multi-element tensor', () => {
    expect(errorOf(() => zeros([2, 2]).item())).toBe('item: only one-element tensors can be converted to a number, got shape [2,2] (4 elements)');
  });

  it('use of a disposed tensor', () => {
    const t = zeros([1]);
    const v = t.reshape([1, 1]);
    t.dispose();
    expect(v.isDisposed).toBe(true); // views share the storage
    // the op is named, and the message points at tidy/keep (issue #11 item 20)
    expect(errorOf(() => t.add(1))).toMatch(/^add: argument 0 \(shape \[1\], float32\) was disposed — .*tidy\(\).*keep\(\)/);
    expect(errorOf(() => t.item())).toMatch(/^toTypedArray: the tensor \(shape \[1\], float32\) was disposed/);
    expect(errorOf(() => v.toArray())).toMatch(/^toTypedArray: the tensor \(shape \[1,1\], float32\) was disposed/);
    expect(errorOf(() => matmul(v, zeros([1, 1])))).toMatch(/^matmul: argument 0 \(shape \[1,1\], float32\) was disposed/);
  });

  it('invalid arguments', () => {
    expect(errorOf(() => zeros([2]).clamp())).toBe('clamp: at least one of min and max must be given');
    expect(errorOf(() => zeros([2]).gelu('fast' as never))).toBe("gelu: approximate must be 'none' or 'tanh', got 'fast'");
    expect(errorOf(() => add(1 as never, 2 as never))).toBe('add: expected at least one tensor operand, got number and number');
    expect(errorOf(() => zeros([2]).to('nope'))).toMatch(/^unknown device 'nope': registered backends are .*'cpu'/);
  });
});
