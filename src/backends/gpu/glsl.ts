/**
 * GLSL for the gpu.js backend: the opcode formulas of opcodes.ts compiled to GLSL ES 1.00, and
 * the helper functions they need (erf, a stable tanh, JS-exact pow, NaN tests, the int32 / bool
 * conversions of typed-array stores).
 *
 * The formulas are JavaScript expressions (the CPU backend runs them with `new Function`). We
 * parse that small subset of JS — numbers, a/b/c, `Math.f(…)`, `erf(…)`, unary − and !, binary
 * arithmetic, comparisons, === / !==, && / ||, ?: and an immediately-called arrow function
 * `((t) => …)(x)` — and emit GLSL with JavaScript's semantics:
 *
 *   - truthiness: a number is true when it is neither 0 nor NaN (`tg_truthy`);
 *   - `x !== x` is the NaN test (`tg_isnan`), never folded away;
 *   - `NaN` and `Infinity` are computed at run time from a uniform zero `z` (0/0, 1/0), because
 *     GLSL has no literals for them and a constant folder may turn 0.0/0.0 into anything;
 *   - Math.tanh / pow / log / sqrt go through helpers with JS's results at the edges
 *     (tanh(±∞) = ±1 where the naive (e^2x − 1)/(e^2x + 1) gives NaN, pow of a negative base
 *     with an integer exponent, log(0) = −∞, log(−1) = NaN, …).
 *
 * Anything outside the subset throws `UnsupportedExpression`; the backend then runs that opcode
 * on the CPU with a one-time warning, never silently wrong.
 */

export class UnsupportedExpression extends Error {}

// ---- parsing ----------------------------------------------------------------------------------

type Node =
  | { k: 'num'; v: number }
  | { k: 'id'; name: string }
  | { k: 'un'; op: '-' | '!' | '+'; x: Node }
  | { k: 'bin'; op: string; l: Node; r: Node }
  | { k: 'cond'; c: Node; t: Node; f: Node }
  | { k: 'call'; fn: Node; args: Node[] }
  | { k: 'arrow'; params: string[]; body: Node };

const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|(===|!==|==|!=|<=|>=|&&|\|\||=>|[-+*/<>!?:(),.]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new UnsupportedExpression(`cannot tokenize '${src.slice(pos, pos + 12)}'`);
    out.push(m[1] ?? m[2] ?? m[3]!);
    pos = TOKEN.lastIndex;
  }
  return out;
}

const BINARY_PREC: Record<string, number> = {
  '||': 1, '&&': 2, '===': 3, '!==': 3, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6,
};

class Parser {
  private i = 0;
  constructor(private readonly toks: string[]) {}
  peek(o = 0): string | undefined {
    return this.toks[this.i + o];
  }
  next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) throw new UnsupportedExpression('unexpected end of expression');
    return t;
  }
  expect(t: string): void {
    const got = this.next();
    if (got !== t) throw new UnsupportedExpression(`expected '${t}', got '${got}'`);
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  /** conditional := binary ('?' conditional ':' conditional)? */
  expr(): Node {
    const c = this.binary(1);
    if (this.peek() !== '?') return c;
    this.next();
    const t = this.expr();
    this.expect(':');
    const f = this.expr();
    return { k: 'cond', c, t, f };
  }
  binary(minPrec: number): Node {
    let l = this.unary();
    for (;;) {
      const op = this.peek();
      const p = op === undefined ? undefined : BINARY_PREC[op];
      if (p === undefined || p < minPrec) return l;
      this.next();
      const r = this.binary(p + 1);
      l = { k: 'bin', op: op!, l, r };
    }
  }
  unary(): Node {
    const t = this.peek();
    if (t === '-' || t === '!' || t === '+') {
      this.next();
      return { k: 'un', op: t, x: this.unary() };
    }
    return this.postfix();
  }
  postfix(): Node {
    let n = this.primary();
    while (this.peek() === '(') {
      this.next();
      const args: Node[] = [];
      if (this.peek() !== ')') {
        for (;;) {
          args.push(this.expr());
          if (this.peek() === ',') { this.next(); continue; }
          break;
        }
      }
      this.expect(')');
      n = { k: 'call', fn: n, args };
    }
    return n;
  }
  primary(): Node {
    const t = this.next();
    if (t === '(') {
      // an arrow function `(p, q) => body`, or a parenthesised expression
      if ((this.peek() === ')' && this.peek(1) === '=>') || (/^[A-Za-z_$]/.test(this.peek() ?? '') && (this.peek(1) === ')' || this.peek(1) === ','))) {
        const save = this.i;
        const params: string[] = [];
        while (this.peek() !== ')') {
          params.push(this.next());
          if (this.peek() === ',') this.next();
        }
        this.next();
        if (this.peek() === '=>') {
          this.next();
          return { k: 'arrow', params, body: this.expr() };
        }
        this.i = save;
      }
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (/^[\d.]/.test(t)) return { k: 'num', v: Number(t) };
    if (/^[A-Za-z_$]/.test(t)) {
      let name = t;
      while (this.peek() === '.') {
        this.next();
        name += `.${this.next()}`;
      }
      return { k: 'id', name };
    }
    throw new UnsupportedExpression(`unexpected token '${t}'`);
  }
}

export function parseExpression(src: string): Node {
  const p = new Parser(tokenize(src));
  const n = p.expr();
  if (!p.done()) throw new UnsupportedExpression(`unexpected '${p.peek()}' after the expression`);
  return n;
}

// ---- emitting GLSL ------------------------------------------------------------------------------

/** A GLSL expression: a float, a bool that may become 0.0/1.0 (comparisons), or a bool that may not
 * (JS `a && b` yields an operand, not a boolean: only its truthiness is reproduced). */
interface Emitted {
  code: string;
  t: 'f' | 'b' | 'cond';
}

/** A float literal for GLSL ES 1.00 (which needs a '.' or an exponent). */
export function glslFloat(v: number): string {
  if (!Number.isFinite(v)) throw new UnsupportedExpression(`non-finite literal ${v}`);
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** JS function → [GLSL function, arity, whether it takes the uniform zero `z` last (to make NaN)]. */
const MATH_FUNCS: Record<string, [string, number, boolean]> = {
  'Math.exp': ['tg_exp', 1, false],
  'Math.log': ['tg_log', 1, true],
  'Math.sqrt': ['tg_sqrt', 1, true],
  'Math.abs': ['abs', 1, false],
  'Math.tanh': ['tg_tanh', 1, false],
  'Math.sin': ['sin', 1, false],
  'Math.cos': ['cos', 1, false],
  'Math.pow': ['tg_pow', 2, true],
  erf: ['tg_erf', 1, false],
};

const RELATIONAL: Record<string, string> = { '<': 'tg_lt', '<=': 'tg_le', '>': 'tg_gt', '>=': 'tg_ge' };

function same(a: Node, b: Node): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Emitter {
  readonly hoisted: string[] = [];
  private nTemps = 0;
  constructor(private readonly vars: Map<string, string>) {}

  float(e: Emitted): string {
    if (e.t === 'f') return e.code;
    if (e.t === 'cond') throw new UnsupportedExpression('a value of && or || used as a number');
    return `(${e.code} ? 1.0 : 0.0)`;
  }
  truthy(e: Emitted): string {
    return e.t === 'f' ? `tg_truthy(${e.code})` : e.code;
  }

  emit(n: Node, locals: Map<string, string>): Emitted {
    switch (n.k) {
      case 'num':
        return { code: glslFloat(n.v), t: 'f' };
      case 'id': {
        const v = locals.get(n.name) ?? this.vars.get(n.name);
        if (v !== undefined) return { code: v, t: 'f' };
        if (n.name === 'NaN') return { code: 'tg_nan(z)', t: 'f' };
        if (n.name === 'Infinity') return { code: '(1.0 / z)', t: 'f' };
        throw new UnsupportedExpression(`unknown name '${n.name}'`);
      }
      case 'un': {
        const x = this.emit(n.x, locals);
        if (n.op === '!') return { code: `(!${this.truthy(x)})`, t: 'b' };
        return { code: n.op === '-' ? `(-${this.float(x)})` : this.float(x), t: 'f' };
      }
      case 'bin': {
        if (n.op === '&&' || n.op === '||') {
          const l = this.emit(n.l, locals), r = this.emit(n.r, locals);
          return { code: `(${this.truthy(l)} ${n.op} ${this.truthy(r)})`, t: 'cond' };
        }
        if (n.op === '===' || n.op === '!==' || n.op === '==' || n.op === '!=') {
          const eq = n.op === '===' || n.op === '==';
          if (same(n.l, n.r)) {
            // x === x is false only for NaN
            const x = this.float(this.emit(n.l, locals));
            return { code: eq ? `(!tg_isnan(${x}))` : `tg_isnan(${x})`, t: 'b' };
          }
          const l = this.emit(n.l, locals), r = this.emit(n.r, locals);
          if (l.t === 'f' && r.t === 'f') return { code: `(${l.code} ${eq ? '==' : '!='} ${r.code})`, t: 'b' };
          if (l.t !== 'f' && r.t !== 'f') return { code: `(${l.code} ${eq ? '==' : '!='} ${r.code})`, t: 'b' };
          if (n.op === '===' || n.op === '!==') return { code: eq ? 'false' : 'true', t: 'b' }; // number vs boolean
          throw new UnsupportedExpression('loose comparison of a number with a boolean');
        }
        const l = this.float(this.emit(n.l, locals)), r = this.float(this.emit(n.r, locals));
        // through helpers that test NaN explicitly: a bare `a > c ? c : a` is rewritten by GLSL
        // compilers (Mesa) into min(a, c), which answers c, not a, for a NaN a
        if (n.op === '<' || n.op === '<=' || n.op === '>' || n.op === '>=') return { code: `${RELATIONAL[n.op]}(${l}, ${r})`, t: 'b' };
        if (n.op === '+' || n.op === '-' || n.op === '*' || n.op === '/') return { code: `(${l} ${n.op} ${r})`, t: 'f' };
        throw new UnsupportedExpression(`operator '${n.op}'`);
      }
      case 'cond': {
        const c = this.truthy(this.emit(n.c, locals));
        const t = this.emit(n.t, locals), f = this.emit(n.f, locals);
        if (t.t === 'b' && f.t === 'b') return { code: `(${c} ? ${t.code} : ${f.code})`, t: 'b' };
        return { code: `(${c} ? ${this.float(t)} : ${this.float(f)})`, t: 'f' };
      }
      case 'call': {
        if (n.fn.k === 'arrow') {
          // ((p) => body)(arg): evaluate the argument once into a temporary (the formulas are pure)
          if (n.fn.params.length !== n.args.length) throw new UnsupportedExpression('arrow call with a different number of arguments');
          const inner = new Map(locals);
          n.fn.params.forEach((p, i) => {
            const v = `v${this.nTemps++}`;
            this.hoisted.push(`float ${v} = ${this.float(this.emit(n.args[i]!, locals))};`);
            inner.set(p, v);
          });
          return this.emit(n.fn.body, inner);
        }
        if (n.fn.k !== 'id') throw new UnsupportedExpression('call of a computed function');
        const f = MATH_FUNCS[n.fn.name];
        if (!f) throw new UnsupportedExpression(`function ${n.fn.name}`);
        if (n.args.length !== f[1]) throw new UnsupportedExpression(`${n.fn.name} with ${n.args.length} arguments`);
        const args = n.args.map((a) => this.float(this.emit(a, locals)));
        if (f[2]) args.push('z');
        return { code: `${f[0]}(${args.join(', ')})`, t: 'f' };
      }
      case 'arrow':
        throw new UnsupportedExpression('an arrow function that is not called');
    }
  }
}

/** How the float result of a formula is stored, as a typed-array store would (see tg_toInt32). */
export type StoreConversion = 'float32' | 'int32' | 'bool';

/**
 * `float name(float a, …, float z) { … }`: the formula `expr` over the inputs `a`, `b`, `c`
 * (`arity` of them), converted for the output dtype. `z` is a uniform 0 (for NaN and ∞).
 */
export function compileFormula(name: string, expr: string, arity: number, store: StoreConversion): string {
  const names = ['a', 'b', 'c'].slice(0, arity);
  const em = new Emitter(new Map(names.map((v) => [v, v])));
  const value = em.float(em.emit(parseExpression(expr), new Map()));
  const params = [...names.map((v) => `float ${v}`), 'float z'].join(', ');
  return `float ${name}(${params}) {\n${em.hoisted.map((h) => `  ${h}\n`).join('')}  return ${storeExpr(value, store)};\n}\n`;
}

/** The GLSL that rounds a float value the way storing it into the dtype's typed array does. */
export function storeExpr(value: string, store: StoreConversion): string {
  switch (store) {
    case 'float32': return value;
    case 'int32': return `tg_toInt32(${value})`;
    case 'bool': return `tg_toUint8(${value})`;
  }
}

// ---- the helper library -------------------------------------------------------------------------

/**
 * fdlibm `s_erf.c` (Sun Microsystems, 1993) coefficients — the same piecewise rational
 * approximations as src/backends/erf.ts, evaluated in float32 (no low-word trick is needed at
 * this precision).
 */
const ERF_GLSL = `
float tg_erf(float x) {
  if (tg_isnan(x)) return x;
  float ax = abs(x);
  float s = x < 0.0 ? -1.0 : 1.0;
  if (ax < 0.84375) {
    float z = x * x;
    float r = 1.28379167095512558561e-1 + z * (-3.25042107247001499370e-1 + z * (-2.84817495755985104766e-2 + z * (-5.77027029648944159157e-3 + z * -2.37630166566501626084e-5)));
    float q = 1.0 + z * (3.97917223959155352819e-1 + z * (6.50222499887672944485e-2 + z * (5.08130628187576562776e-3 + z * (1.32494738004321644526e-4 + z * -3.96022827877536812320e-6))));
    return x + x * (r / q);
  }
  if (ax < 1.25) {
    float t = ax - 1.0;
    float p = -2.36211856075265944077e-3 + t * (4.14856118683748331666e-1 + t * (-3.72207876035701323847e-1 + t * (3.18346619901161753674e-1 + t * (-1.10894694282396677476e-1 + t * (3.54783043256182359371e-2 + t * -2.16637559486879084300e-3)))));
    float q = 1.0 + t * (1.06420880400844228286e-1 + t * (5.40397917702171048937e-1 + t * (7.18286544141962662868e-2 + t * (1.26171219808761642112e-1 + t * (1.36370839120290507362e-2 + t * 1.19844998467991074170e-2)))));
    return s * (8.45062911510467529297e-1 + p / q);
  }
  if (ax >= 6.0) return s;
  float u = 1.0 / (ax * ax);
  float r;
  float q;
  if (ax < 2.857142857142857) {
    r = -9.86494403484714822705e-3 + u * (-6.93858572707181764372e-1 + u * (-1.05586262253232909814e1 + u * (-6.23753324503260060396e1 + u * (-1.62396669462573470355e2 + u * (-1.84605092906711035994e2 + u * (-8.12874355063065934246e1 + u * -9.81432934416914548592e0))))));
    q = 1.0 + u * (1.96512716674392571292e1 + u * (1.37657754143519042600e2 + u * (4.34565877475229228821e2 + u * (6.45387271733267880336e2 + u * (4.29008140027567833386e2 + u * (1.08635005541779435134e2 + u * (6.57024977031928170135e0 + u * -6.04244152148580987438e-2)))))));
  } else {
    r = -9.86494292470009928597e-3 + u * (-7.99283237680523006574e-1 + u * (-1.77579549177547519889e1 + u * (-1.60636384855821916062e2 + u * (-6.37566443368389627722e2 + u * (-1.02509513161107724954e3 + u * -4.83519191608651397019e2)))));
    q = 1.0 + u * (3.03380607434824582924e1 + u * (3.25792512996573918826e2 + u * (1.53672958608443695994e3 + u * (3.19985821950859553908e3 + u * (2.55305040643316442583e3 + u * (4.74528541206955367215e2 + u * -2.24409524465858183362e1))))));
  }
  float erfc = exp(-ax * ax - 0.5625 + r / q) / ax;
  return s * (1.0 - erfc);
}
`;

/**
 * Helpers every generated kernel may call. Kept free of gpu.js names: they are injected before
 * gpu.js's own functions (`injectedNative`).
 */
export const GLSL_LIBRARY = `
bool tg_isnan(float x) { return x != x; }
bool tg_truthy(float x) { return x != 0.0 && !tg_isnan(x); }
bool tg_lt(float a, float b) { return a < b && !tg_isnan(a) && !tg_isnan(b); }
bool tg_le(float a, float b) { return a <= b && !tg_isnan(a) && !tg_isnan(b); }
bool tg_gt(float a, float b) { return a > b && !tg_isnan(a) && !tg_isnan(b); }
bool tg_ge(float a, float b) { return a >= b && !tg_isnan(a) && !tg_isnan(b); }
float tg_nan(float z) { return z / z; }
// exp/log/sqrt pass NaN through explicitly: GLSL leaves NaN inputs undefined (SwiftShader's
// exp(NaN) is +Inf, found by the self-test in Chromium's software WebGL2)
float tg_exp(float x) {
  if (tg_isnan(x)) return x;
  return exp(x);
}
float tg_log(float x, float z) {
  if (tg_isnan(x)) return x;
  if (x < 0.0) return tg_nan(z);
  return log(x);
}
float tg_sqrt(float x, float z) {
  if (tg_isnan(x)) return x;
  if (x < 0.0) return tg_nan(z);
  return sqrt(x);
}
// tanh in float32 after Cephes tanhf: an odd polynomial near 0 (where 1 − e^(−2|x|) cancels),
// 1 − 2/(e^(2|x|) + 1) elsewhere, exactly ±1 from |x| ≥ 10 (tanh(10) = 1 − 4e−9).
float tg_tanh(float x) {
  float ax = abs(x);
  if (tg_isnan(x)) return x;
  float t;
  if (ax >= 10.0) {
    t = 1.0;
  } else if (ax >= 0.625) {
    t = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0);
  } else {
    float z = ax * ax;
    t = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1) * z * ax + ax;
  }
  return x < 0.0 ? -t : t;
}
// Math.pow: pow(x, 0) = 1 (even for NaN), a negative base needs an integer exponent (its parity
// gives the sign), pow(0, y < 0) = ∞. GLSL's pow(x, y) is undefined for x < 0 and for x = 0, y ≤ 0.
float tg_pow(float a, float b, float z) {
  if (b == 0.0) return 1.0;
  if (tg_isnan(a) || tg_isnan(b)) return a + b;
  bool oddInt = floor(b) == b && abs(b) < 16777216.0 && mod(b, 2.0) == 1.0;
  float ab = abs(a);
  if (ab == 0.0 || ab > 3.4028234e38) {
    // ±0 and ±∞: 0^(b>0) = ∞^(b<0) = 0, else ∞; a negative base keeps its sign for odd integers
    float m = (b > 0.0) == (ab > 1.0) ? 1.0 / z : 0.0;
    bool negative = a < 0.0 || 1.0 / a < 0.0; // −∞, or −0 (1/−0 = −∞)
    return negative && oddInt ? -m : m;
  }
  if (b == 1.0) return a;
  if (b == 2.0) return a * a;
  if (b == 0.5 && a > 0.0) return sqrt(a);
  float r = exp2(b * log2(ab));
  if (a < 0.0) {
    if (floor(b) != b) return tg_nan(z);
    if (oddInt) r = -r;
  }
  return r;
}
// Storing into an Int32Array: ToInt32 = truncate toward zero, wrap modulo 2³², NaN and ±∞ → 0.
// Exact for every float32 (a float32 ≥ 2³¹ is a multiple of 2⁸, so the wrapped value fits too).
float tg_toInt32(float x) {
  if (tg_isnan(x) || abs(x) > 3.4028234e38) return 0.0;
  float t = x < 0.0 ? ceil(x) : floor(x);
  if (abs(t) < 2147483648.0) return t;
  float w = t - 4294967296.0 * floor(t / 4294967296.0);
  return w >= 2147483648.0 ? w - 4294967296.0 : w;
}
// Storing into a Uint8Array (bool): ToUint8 = truncate, wrap modulo 256, NaN and ±∞ → 0.
float tg_toUint8(float x) {
  if (tg_isnan(x) || abs(x) > 3.4028234e38) return 0.0;
  float t = x < 0.0 ? ceil(x) : floor(x);
  return t - 256.0 * floor(t / 256.0);
}
${ERF_GLSL}`;
