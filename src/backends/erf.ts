/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, accurate to about 1 ulp in float64.
 *
 * JavaScript has no Math.erf. This follows the piecewise rational approximations of
 * Sun Microsystems' fdlibm `s_erf.c` (1993; also FreeBSD msun and musl), whose published
 * minimax coefficients are reproduced below:
 *
 *   |x| < 0.84375        erf(x) = x + x·P(x²)/Q(x²)
 *   0.84375 ≤ |x| < 1.25 erf(x) = erx + P(s)/Q(s),            s = |x| − 1
 *   1.25 ≤ |x| < 6       erf(x) = 1 − exp(−x² − 0.5625 + R(1/x²)/S(1/x²)) / |x|
 *   |x| ≥ 6              erf(x) = ±1 (erfc(6) ≈ 2e−17 is below float64 resolution of 1)
 *
 * It is needed by the exact GELU of BERT: GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2))
 * (Hendrycks & Gimpel 2016, "Gaussian Error Linear Units").
 */

const ERX = 8.45062911510467529297e-1;
// erf on [0, 0.84375]
const EFX8 = 1.02703333676410069053e0;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
// erf on [0.84375, 1.25]
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
// erfc on [1.25, 1/0.35]
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592e0];
const SA = [1, 1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135e0, -6.04244152148580987438e-2];
// erfc on [1/0.35, 28]
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

function horner(c: readonly number[], x: number): number {
  let r = c[c.length - 1]!;
  for (let i = c.length - 2; i >= 0; i--) r = r * x + c[i]!;
  return r;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1; // little-endian: low word first
/** x with the low 32 bits of its mantissa cleared, so that z·z is exact (fdlibm's trick). */
function truncLow(x: number): number {
  f64[0] = x;
  u32[LOW_WORD] = 0;
  return f64[0];
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  const sign = x < 0 ? -1 : 1;
  if (ax < 0.84375) {
    if (ax < 3.7252902984e-9) return x + (EFX8 / 8) * x; // 2^-28: avoid underflow
    const z = x * x;
    return x + x * (horner(PP, z) / horner(QQ, z));
  }
  if (ax < 1.25) {
    const s = ax - 1;
    return sign * (ERX + horner(PA, s) / horner(QA, s));
  }
  if (ax >= 6) return sign;
  const s = 1 / (ax * ax);
  const r = ax < 1 / 0.35 ? horner(RA, s) / horner(SA, s) : horner(RB, s) / horner(SB, s);
  const z = truncLow(ax);
  const erfc = (Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r)) / ax;
  return sign * (1 - erfc);
}
