/**
 * The op table: the ops declared with `defineOp` / `defineComposite` (../define.ts), one file per
 * family. Everything a family file exports is exported from the package (src/index.ts re-exports
 * this module), and every declaration with `method: true` becomes a Tensor method
 * (tensor/methods.ts) — so a new op in one of these files needs no other edit.
 */
// the unary elementwise ops declared in ../ops.ts (one opcode + one declaration each)
export { neg, exp, log, sqrt, rsqrt, abs, sign, tanh, sigmoid, relu, sin, cos, erf } from '../ops.js';
export * from './activations.js';
export * from './scan.js';
export * from './reduce.js';
export * from './shape-ops.js';
export * from './index-ops.js';
export * from './einsum.js';
export * from './conv.js';
export * from './attention.js';
