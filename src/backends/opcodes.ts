/**
 * The opcodes of the backend kernel contract (tier 1), each with its scalar formula.
 *
 * A formula is a JavaScript expression over `a` (and `b`, `c` for binary/ternary ops) and the
 * helper `erf`. Backends compile these into loops (the CPU backend with `new Function`, a GPU
 * backend into shader code), so every backend computes the same formula from one table.
 * Adding an elementwise opcode is one line here; the `Record<…>` type makes the table exhaustive.
 */

/** Elementwise ops of one input. */
export type UnaryOp =
  | 'identity' | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'sign' | 'tanh' | 'sigmoid'
  | 'relu' | 'sin' | 'cos' | 'erf' | 'reciprocal' | 'square'
  | 'gelu' | 'geluTanh' | 'logicalNot' | 'isnan'
  | 'log1p' | 'expm1' | 'softplus' | 'silu' | 'mish';

/** Elementwise ops of two inputs (broadcast through strides by the caller). */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'geluBackward' | 'geluTanhBackward'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr' | 'logicalXor';

/** Elementwise ops of three inputs. */
export type TernaryOp = 'where' | 'clamp';

export type MapOp = UnaryOp | BinaryOp | TernaryOp;

export type ReduceOp = 'sum' | 'max' | 'min';
export type ArgReduceOp = 'argmax' | 'argmin';

/** √(2/π), the constant of the tanh approximation of GELU. */
const GELU_TANH_SCALE = Math.sqrt(2 / Math.PI);
/** 1/√2: Φ(x) = ½(1 + erf(x/√2)). */
export const INV_SQRT2 = Math.SQRT1_2;
/** 1/√(2π), the normal density's constant: φ(x) = e^(−x²/2)/√(2π). */
export const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** The cubic coefficient of the tanh GELU: tanh(√(2/π)(x + 0.044715x³)). */
const GELU_TANH_CUBIC = 0.044715;

/** ln(1 + v) of a non-negative expression v, with the log1p trick above. */
function LOG1P_OF(v: string): string {
  return `((v) => ((u) => (u === 1 ? v : Math.log(u) * v / (u - 1)))(1 + v))(${v})`;
}

export const UNARY_EXPR: Record<UnaryOp, string> = {
  identity: 'a',
  neg: '-a',
  exp: 'Math.exp(a)',
  log: 'Math.log(a)',
  sqrt: 'Math.sqrt(a)',
  rsqrt: '1 / Math.sqrt(a)',
  abs: 'Math.abs(a)',
  sign: '(a > 0 ? 1 : a < 0 ? -1 : a)',
  tanh: 'Math.tanh(a)',
  // σ(a) = 1/(1+e^(−a)), written to avoid overflow of e^(−a) for very negative a
  sigmoid: '(a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a)))',
  // NaN stays NaN (torch.relu): a diverging run is not hidden
  relu: '(a <= 0 ? 0 : a)',
  sin: 'Math.sin(a)',
  cos: 'Math.cos(a)',
  erf: 'erf(a)',
  reciprocal: '1 / a',
  square: 'a * a',
  // GELU(a) = a·Φ(a) = ½a(1 + erf(a/√2))
  gelu: `0.5 * a * (1 + erf(a * ${INV_SQRT2}))`,
  // GELU_tanh(a) = ½a(1 + tanh(√(2/π)(a + 0.044715a³)))
  geluTanh: `0.5 * a * (1 + Math.tanh(${GELU_TANH_SCALE} * (a + ${GELU_TANH_CUBIC} * a * a * a)))`,
  // logical ops read a number as true when it is not 0 — NaN included, as PyTorch (JS would say falsy)
  logicalNot: '(a === 0 ? 1 : 0)',
  isnan: '(a !== a ? 1 : 0)',
  // ln(1 + a), accurate for tiny a (Goldberg 1991, Thm 4): with u = 1 ⊕ a, ln(u)·a/(u − 1)
  log1p: `((u) => (u === 1 ? a : u === Infinity ? u : Math.log(u) * a / (u - 1)))(1 + a)`,
  // eᵃ − 1, accurate for tiny a (Kahan): with u = eᵃ, (u − 1)·a/ln(u)
  expm1: `((u) => (u === 1 ? a : u - 1 === -1 ? -1 : u === Infinity ? u : (u - 1) * a / Math.log(u)))(Math.exp(a))`,
  // ln(1 + eᵃ) = max(a, 0) + ln(1 + e^(−|a|)) (never overflows)
  softplus: `(a > 0 ? a : 0) + ${LOG1P_OF('Math.exp(-Math.abs(a))')}`,
  // SiLU / swish (Elfwing et al. 2018): a·σ(a) = a/(1 + e^(−a))
  silu: 'a / (1 + Math.exp(-a))',
  // Mish (Misra 2019): a·tanh(softplus(a))
  mish: `a * Math.tanh((a > 0 ? a : 0) + ${LOG1P_OF('Math.exp(-Math.abs(a))')})`,
};

export const BINARY_EXPR: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  // GELU's backward in one pass (a = x, b = ∂L/∂y): b·(Φ(a) + a·φ(a)), φ(a) = e^(−a²/2)/√(2π)
  geluBackward: `b * (0.5 * (1 + erf(a * ${INV_SQRT2})) + a * ${INV_SQRT_2PI} * Math.exp(-0.5 * a * a))`,
  // tanh GELU's backward (a = x, b = ∂L/∂y): b·(½(1 + t) + ½a(1 − t²)·√(2/π)(1 + 3·0.044715a²)),
  // t = tanh(√(2/π)(a + 0.044715a³))
  geluTanhBackward:
    `b * ((t) => 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * ${GELU_TANH_SCALE} * (1 + ${3 * GELU_TANH_CUBIC} * a * a))` +
    `(Math.tanh(${GELU_TANH_SCALE} * (a + ${GELU_TANH_CUBIC} * a * a * a)))`,
  // C's pow (and PyTorch's) where JS's Math.pow differs: 1ᵇ = 1 for every b (NaN, ±∞), (−1)^±∞ = 1
  pow: '(a === 1 ? 1 : a === -1 && (b === Infinity || b === -Infinity) ? 1 : Math.pow(a, b))',
  // NaN propagates, as torch.maximum/minimum do
  maximum: '(a !== a || b !== b ? NaN : a > b ? a : b)',
  minimum: '(a !== a || b !== b ? NaN : a < b ? a : b)',
  eq: '(a === b ? 1 : 0)',
  ne: '(a !== b ? 1 : 0)',
  lt: '(a < b ? 1 : 0)',
  le: '(a <= b ? 1 : 0)',
  gt: '(a > b ? 1 : 0)',
  ge: '(a >= b ? 1 : 0)',
  logicalAnd: '(a !== 0 && b !== 0 ? 1 : 0)',
  logicalOr: '(a !== 0 || b !== 0 ? 1 : 0)',
  logicalXor: '((a !== 0 ? 1 : 0) !== (b !== 0 ? 1 : 0) ? 1 : 0)',
};

export const TERNARY_EXPR: Record<TernaryOp, string> = {
  // where(cond=a, x=b, y=c)
  where: '(a ? b : c)',
  // clamp(x=a, lo=b, hi=c); NaN stays NaN
  clamp: '(a < b ? b : a > c ? c : a)',
};

export function mapOpArity(op: MapOp): 1 | 2 | 3 {
  if (op in UNARY_EXPR) return 1;
  if (op in BINARY_EXPR) return 2;
  if (op in TERNARY_EXPR) return 3;
  throw new Error(`unknown map opcode '${op}'`);
}

export function mapOpExpr(op: MapOp): string {
  return (UNARY_EXPR as Record<string, string>)[op] ?? (BINARY_EXPR as Record<string, string>)[op] ?? (TERNARY_EXPR as Record<string, string>)[op]!;
}
