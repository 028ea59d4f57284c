/**
 * Weight initialisers (torch.nn.init), all drawing from the seeded default generator and
 * writing in place under noGrad.
 */
import { noGrad } from '../autograd/engine.js';
import { rand, randn } from '../tensor/creation.js';
import { fmtShape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * U(a, b)
 * @example
 * ```ts
 * const w = zeros([3, 4]);
 * nn.init.uniform_(w, -0.1, 0.1);         // in place, from the seeded generator; returns w
 * ```
 */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  if (!(b >= a)) throw new Error(`uniform_: expected a ≤ b, got a ${a}, b ${b}`);
  return noGrad(() => t.copy_(rand(t.shape, { dtype: t.dtype, device: t.device }).mul(b - a).add(a)));
}

/**
 * N(mean, std²)
 * @example
 * ```ts
 * const w = zeros([256, 256]);
 * nn.init.normal_(w, 0, 0.02);            // BERT's / GPT-2's init
 * w.std().item();                         // ≈ 0.02
 * ```
 */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new Error(`normal_: std must be ≥ 0, got ${std}`);
  return noGrad(() => t.copy_(randn(t.shape, { dtype: t.dtype, device: t.device }).mul(std).add(mean)));
}

/**
 * Fills t with 0 in place (torch.nn.init.zeros_); returns t.
 * @example
 * ```ts
 * const lin = new nn.Linear(4, 2);
 * nn.init.zeros_(lin.bias!);
 * ```
 */
export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}
/**
 * Fills t with 1 in place (torch.nn.init.ones_); returns t.
 * @example
 * ```ts
 * const ln = new nn.LayerNorm(8);
 * nn.init.ones_(ln.weight!);
 * ```
 */
export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}
/**
 * Fills t with `value` in place (torch.nn.init.constant_); returns t.
 * @example
 * ```ts
 * const b = zeros([3]);
 * nn.init.constant_(b, 0.5).toArray();    // [0.5, 0.5, 0.5]
 * ```
 */
export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}

/**
 * fan_in and fan_out of a weight (out, in, *receptive field).
 * @example
 * ```ts
 * nn.init.calculateFanInAndFanOut(zeros([64, 16]));    // [16, 64]: Linear(16, 64)'s weight
 * nn.init.calculateFanInAndFanOut(zeros([32, 16, 3])); // [48, 96]: Conv1d(16, 32, 3)'s weight
 * ```
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new Error(`fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got shape ${fmtShape(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

/**
 * Glorot & Bengio (2010): U(−a, a), a = gain·√(6/(fan_in + fan_out)).
 * @example
 * ```ts
 * const w = zeros([20, 10]);
 * nn.init.xavierUniform_(w);              // U(−a, a), a = √(6/30) ≈ 0.447
 * ```
 */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -a, a);
}

/**
 * He et al. (2015) uniform init with leaky-ReLU slope `a`: bound = gain·√(3/fan_in),
 * gain = √(2/(1 + a²)). nn.Linear's default uses a = √5, which gives bound = 1/√fan_in.
  * @example
  * ```ts
  * const w = zeros([8, 16]);
  * nn.init.kaimingUniform_(w, Math.sqrt(5)); // nn.Linear's default: bound 1/√16 = 0.25
  * ```
 */
export function kaimingUniform_(t: Tensor, a = 0): Tensor {
  const [fi] = calculateFanInAndFanOut(t);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fi);
  return uniform_(t, -bound, bound);
}
