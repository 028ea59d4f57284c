/**
 * The ops declared with `defineOp` / `defineComposite` (the op table, see ../define.ts), one file
 * per family. Everything exported here is exported from the package, and every declaration with
 * `method: true` becomes a Tensor method (tensor/methods.ts).
 */
// the unary elementwise ops declared in ../ops.ts (one opcode + one declaration each)
export { neg, exp, log, sqrt, rsqrt, abs, sign, tanh, sigmoid, relu, sin, cos, erf } from '../ops.js';
export { log1p, expm1, softplus, silu, mish } from './activations.js';
export { cumsum, cumprod, prod } from './scan.js';
export { norm, any, all } from './reduce.js';
export { tril, triu, flip, roll, repeat, tile, pad } from './shape-ops.js';
export type { PadMode } from './shape-ops.js';
export { oneHot, scatter, scatterAdd, sort, topk } from './index-ops.js';
export type { SortResult } from './index-ops.js';
export { einsum } from './einsum.js';
export { conv1d, maxPool1d, avgPool1d } from './conv.js';
export type { Conv1dOptions, Pool1dOptions, AvgPool1dOptions } from './conv.js';
