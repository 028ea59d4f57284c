/**
 * 1-D convolution and pooling (enough for a TextCNN, Kim 2014), as compositions of
 * indexSelect (gathering the sliding windows — "im2col"), one matmul and reductions, so the
 * gradients come from those ops:
 *
 *   conv1d:    y[n, o, l] = b[o] + Σ_{c,k} w[o, c, k]·x_pad[n, g·C/G + c, l·stride + k·dilation]
 *              windows (N, C, L_out·K) → (N, L_out, C·K) · w (O, C·K)ᵀ per group
 *   maxPool1d: y[n, c, l] = max_k x_pad[n, c, l·stride + k·dilation] (padding with −∞; the
 *              gradient goes to the first maximum of each window, as torch)
 *   avgPool1d: y[n, c, l] = Σ_k x_pad[…]/K (zero padding counted unless countIncludePad = false)
 *
 *   L_out = ⌊(L + 2·padding − dilation·(K − 1) − 1)/stride⌋ + 1   (⌈…⌉ with ceilMode)
 */
import { defineComposite } from '../define.js';
import { fmtShape } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import {
  add, argReduce, cat, checkFloat, div, gather, indexSelect, matmul, mean, narrow, permute, reshape, sum, transpose, unsqueeze,
} from '../ops.js';
import { pad } from './shape-ops.js';
import { fromHost } from './host.js';

function checkPositiveInt(op: string, v: unknown, arg: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${op}: ${arg} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Output length of a sliding window (torch's formula). */
function outLength(op: string, L: number, k: number, stride: number, padding: number, dilation: number, ceil: boolean): number {
  const span = dilation * (k - 1) + 1;
  const num = L + 2 * padding - span;
  if (num < 0) throw new Error(`${op}: the window (kernel ${k}, dilation ${dilation}, span ${span}) is larger than the padded input length ${L + 2 * padding}`);
  let n = (ceil ? Math.ceil(num / stride) : Math.floor(num / stride)) + 1;
  // ceil mode: the last window must start inside the input or the left padding (torch)
  if (ceil && (n - 1) * stride >= L + padding) n--;
  return n;
}

/** The windows of x (N, C, L) along its last dim: (N, C, L_out, K), via one indexSelect. */
function windows(x: Tensor, k: number, stride: number, dilation: number, lOut: number): Tensor {
  const idx = new Int32Array(lOut * k);
  for (let l = 0; l < lOut; l++) for (let j = 0; j < k; j++) idx[l * k + j] = l * stride + j * dilation;
  const w = indexSelect(x, 2, fromHost(idx, 'int32', [lOut * k], x.device)); // (N, C, L_out·K)
  return reshape(w, [x.shape[0]!, x.shape[1]!, lOut, k]); // (N, C, L_out, K)
}

/** (C, L) inputs are treated as a batch of one, as torch does. */
function batched(op: string, x: Tensor): [Tensor, boolean] {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected input to be a tensor, got ${typeof x}`);
  if (x.ndim === 2) return [unsqueeze(x, 0), true];
  if (x.ndim !== 3) throw new Error(`${op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape ${fmtShape(x.shape)}`);
  return [x, false];
}

/** Options of `conv1d` (torch.nn.functional.conv1d's): stride, padding (a number or 'valid' / 'same'), dilation and groups. */
export interface Conv1dOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /** Zero padding on both sides, or 'valid' (0) / 'same' (output length = input length; stride 1 only). Default 0. */
  padding?: number | 'valid' | 'same';
  /** Spacing between the kernel's taps (default 1). */
  dilation?: number;
  /** Split channels into groups convolved separately (C_in and C_out divisible by it; default 1). */
  groups?: number;
}

/**
 * 1-D convolution (cross-correlation, as torch.nn.functional.conv1d): input (N, C_in, L) or
 * (C_in, L), weight (C_out, C_in/groups, K), optional bias (C_out) → (N, C_out, L_out).
 * @example
 * conv1d(randn([8, 16, 50]), randn([32, 16, 3]), null, { padding: 1 }); // [8, 32, 50]
 */
export const conv1d = defineComposite({
  name: 'conv1d',
  doc: '1-D convolution (N, C_in, L) ⊛ (C_out, C_in/groups, K)',
  forward: (input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv1dOptions = {}): Tensor => {
    const [x, unbatched] = batched('conv1d', input);
    checkFloat('conv1d', x);
    if (!(weight instanceof Tensor) || weight.ndim !== 3) throw new Error(`conv1d: weight must be a 3-D tensor (C_out, C_in/groups, K), got ${weight instanceof Tensor ? `shape ${fmtShape(weight.shape)}` : typeof weight}`);
    const stride = checkPositiveInt('conv1d', opts.stride ?? 1, 'stride');
    const dilation = checkPositiveInt('conv1d', opts.dilation ?? 1, 'dilation');
    const groups = checkPositiveInt('conv1d', opts.groups ?? 1, 'groups');
    const [N, C, L] = x.shape as [number, number, number];
    const [O, Cg, K] = weight.shape as [number, number, number];
    if (C % groups !== 0 || O % groups !== 0) throw new Error(`conv1d: in channels (${C}) and out channels (${O}) must both be divisible by groups (${groups})`);
    if (Cg * groups !== C) throw new Error(`conv1d: expected weight of shape (${O}, ${C / groups}, K) for input ${fmtShape(x.shape)} with groups ${groups}, got ${fmtShape(weight.shape)}`);
    if (bias !== null && bias !== undefined && (!(bias instanceof Tensor) || bias.ndim !== 1 || bias.shape[0] !== O)) {
      throw new Error(`conv1d: bias must be a 1-D tensor of length ${O} (C_out), got ${bias instanceof Tensor ? `shape ${fmtShape(bias.shape)}` : typeof bias}`);
    }
    let p: number;
    const pd = opts.padding ?? 0;
    if (pd === 'valid') p = 0;
    else if (pd === 'same') {
      if (stride !== 1) throw new Error("conv1d: padding 'same' is not supported for strided convolutions (stride must be 1)");
      const total = dilation * (K - 1);
      p = Math.floor(total / 2);
      if (total % 2 === 1) {
        // torch pads the extra element on the right
        const xp = pad(x, [p, total - p]);
        return conv1dPadded(xp, weight, bias ?? null, stride, dilation, groups, N, C, O, K, unbatched);
      }
    } else p = checkPositiveInt('conv1d', pd, 'padding', 0);
    const xp = p > 0 ? pad(x, [p, p]) : x;
    if (L + 2 * p < dilation * (K - 1) + 1) outLength('conv1d', L, K, stride, p, dilation, false);
    return conv1dPadded(xp, weight, bias ?? null, stride, dilation, groups, N, C, O, K, unbatched);
  },
});

function conv1dPadded(xp: Tensor, weight: Tensor, bias: Tensor | null, stride: number, dilation: number, groups: number, N: number, C: number, O: number, K: number, unbatched: boolean): Tensor {
  const lOut = outLength('conv1d', xp.shape[2]!, K, stride, 0, dilation, false);
  const win = windows(xp, K, stride, dilation, lOut); // (N, C, L_out, K)
  const Cg = C / groups, Og = O / groups;
  const outs: Tensor[] = [];
  for (let g = 0; g < groups; g++) {
    const wg = groups === 1 ? win : narrow(win, 1, g * Cg, Cg); // (N, Cg, L_out, K)
    const cols = reshape(permute(wg, [0, 2, 1, 3]), [N, lOut, Cg * K]); // (N, L_out, Cg·K)
    const wm = reshape(groups === 1 ? weight : narrow(weight, 0, g * Og, Og), [Og, Cg * K]); // (Og, Cg·K)
    outs.push(transpose(matmul(cols, transpose(wm, 0, 1)), 1, 2)); // (N, Og, L_out)
  }
  let y = outs.length === 1 ? outs[0]! : cat(outs, 1); // (N, O, L_out)
  if (bias) y = add(y, reshape(bias, [O, 1]));
  return unbatched ? reshape(y, [O, lOut]) : y;
}

/** Options of `maxPool1d` (torch's): stride (default the kernel size), padding, dilation and ceilMode. */
export interface Pool1dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: number | null;
  /** Implicit padding on both sides, at most half the kernel size (default 0; −∞ for max, 0 for average). */
  padding?: number;
  /** Spacing between the kernel's taps (default 1). */
  dilation?: number;
  /** Round the output length up instead of down (default false). */
  ceilMode?: boolean;
}

function poolArgs(op: string, kernelSize: number, o: Pool1dOptions & { dilation?: number }, L: number) {
  const k = checkPositiveInt(op, kernelSize, 'kernelSize');
  const stride = checkPositiveInt(op, o.stride ?? k, 'stride');
  const padding = checkPositiveInt(op, o.padding ?? 0, 'padding', 0);
  const dilation = checkPositiveInt(op, o.dilation ?? 1, 'dilation');
  if (padding > Math.floor(k / 2)) throw new Error(`${op}: padding should be at most half of the kernel size, got padding ${padding} for kernelSize ${k}`);
  const lOut = outLength(op, L, k, stride, padding, dilation, o.ceilMode ?? false);
  return { k, stride, padding, dilation, lOut };
}

/** Right padding so that every ceil-mode window has its elements inside the padded tensor. */
function extraRight(L: number, k: number, stride: number, padding: number, dilation: number, lOut: number): number {
  return Math.max(0, (lOut - 1) * stride + dilation * (k - 1) + 1 - (L + 2 * padding));
}

/**
 * Max over sliding windows along the last dim (torch.nn.functional.max_pool1d): input (N, C, L)
 * or (C, L). The gradient goes to the first maximum of each window.
 */
export const maxPool1d = defineComposite({
  name: 'maxPool1d',
  doc: 'max over sliding windows of the last dim',
  forward: (input: Tensor, kernelSize: number, opts: Pool1dOptions = {}): Tensor => {
    const [x, unbatched] = batched('maxPool1d', input);
    checkFloat('maxPool1d', x);
    const L = x.shape[2]!;
    const { k, stride, padding, dilation, lOut } = poolArgs('maxPool1d', kernelSize, opts, L);
    const extra = extraRight(L, k, stride, padding, dilation, lOut);
    const xp = padding + extra > 0 ? pad(x, [padding, padding + extra], 'constant', -Infinity) : x;
    const win = windows(xp, k, stride, dilation, lOut); // (N, C, L_out, K)
    const at = argReduce('argmax', win.detach(), 3, true); // first maximum (NaN wins, as torch)
    const y = reshape(gather(win, 3, at), win.shape.slice(0, 3)); // (N, C, L_out)
    return unbatched ? reshape(y, y.shape.slice(1)) : y;
  },
});

/** Options of `avgPool1d` (torch's): stride, padding, ceilMode and countIncludePad. */
export interface AvgPool1dOptions extends Omit<Pool1dOptions, 'dilation'> {
  /** Count the zero padding in each window's divisor (default true, as torch). */
  countIncludePad?: boolean;
}

/** Mean over sliding windows along the last dim (torch.nn.functional.avg_pool1d). */
export const avgPool1d = defineComposite({
  name: 'avgPool1d',
  doc: 'mean over sliding windows of the last dim',
  forward: (input: Tensor, kernelSize: number, opts: AvgPool1dOptions = {}): Tensor => {
    const [x, unbatched] = batched('avgPool1d', input);
    checkFloat('avgPool1d', x);
    const L = x.shape[2]!;
    const { k, stride, padding, lOut } = poolArgs('avgPool1d', kernelSize, { ...opts, dilation: 1 }, L);
    const extra = extraRight(L, k, stride, padding, 1, lOut);
    const xp = padding + extra > 0 ? pad(x, [padding, padding + extra]) : x;
    const win = windows(xp, k, stride, 1, lOut); // (N, C, L_out, K)
    let y: Tensor;
    const includePad = opts.countIncludePad ?? true;
    // divisor per window: torch counts the zero padding (not the ceil-mode overhang) when includePad
    const div_ = new Float64Array(lOut);
    for (let l = 0; l < lOut; l++) {
      const s = l * stride - padding, e = Math.min(s + k, L + padding);
      div_[l] = includePad ? e - s : Math.min(e, L) - Math.max(s, 0);
    }
    if (div_.every((d) => d === k)) y = mean(win, 3);
    else y = div(sum(win, 3), fromHost(x.dtype === 'float32' ? Float32Array.from(div_) : div_, x.dtype, [lOut], x.device));
    return unbatched ? reshape(y, y.shape.slice(1)) : y;
  },
});
