/**
 * 1-D convolution and pooling layers, as torch.nn.Conv1d / MaxPool1d / AvgPool1d — enough for a
 * TextCNN (Kim 2014: embeddings (B, T, E) → transpose to (B, E, T) → Conv1d with several kernel
 * widths → ReLU → max over time). The computation is the functional ops (autograd/ops/conv.ts).
 *
 * Shape: (N, C_in, L) or (C_in, L) → (N, C_out, L_out), L_out = ⌊(L + 2p − d(K − 1) − 1)/s⌋ + 1.
 */
import { checkAllocation } from '../core/limits.js';
import type { DType } from '../core/dtype.js';
import { avgPool1d, conv1d, maxPool1d, type AvgPool1dOptions, type Conv1dOptions, type Pool1dOptions } from '../autograd/ops/conv.js';
import { zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import * as init from './init.js';
import { Module, Parameter } from './module.js';

function checkPositiveInt(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${layer}: ${name} must be a positive integer, got ${v}`);
}

/**
 * 1-D convolution: weight (C_out, C_in/groups, K) and bias (C_out), initialised as torch
 * (kaiming_uniform with a = √5: U(−1/√fan_in, 1/√fan_in), fan_in = C_in/groups·K).
 * @example
 * const conv = new nn.Conv1d(16, 32, 3, { padding: 1 });
 * conv.forward(randn([8, 16, 50])); // [8, 32, 50]
 */
export class Conv1d extends Module {
  /** Kernel (outChannels, inChannels/groups, kernelSize), initialised U(−1/√fan_in, 1/√fan_in). */
  weight: Parameter;
  /** Bias (outChannels), initialised U(−1/√fan_in, 1/√fan_in); null when constructed with `bias: false`. */
  bias: Parameter | null;
  /** The resolved stride (default 1), padding (a number, 'valid' or 'same'; default 0), dilation (default 1) and groups (default 1). */
  readonly opts: Required<Pick<Conv1dOptions, 'stride' | 'dilation' | 'groups'>> & { padding: number | 'valid' | 'same' };
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: Conv1dOptions & { bias?: boolean; dtype?: DType; device?: string } = {},
  ) {
    super();
    checkPositiveInt('Conv1d', 'inChannels', inChannels);
    checkPositiveInt('Conv1d', 'outChannels', outChannels);
    checkPositiveInt('Conv1d', 'kernelSize', kernelSize);
    const groups = opts.groups ?? 1;
    checkPositiveInt('Conv1d', 'groups', groups);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv1d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${groups})`);
    }
    this.opts = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1, groups };
    const shape = [outChannels, inChannels / groups, kernelSize];
    checkAllocation('Conv1d', shape, opts.dtype ?? 'float32', 'the parameter weight');
    this.weight = new Parameter(zeros(shape, { dtype: opts.dtype, device: opts.device }));
    this.bias = opts.bias === false ? null : new Parameter(zeros([outChannels], { dtype: opts.dtype, device: opts.device }));
    init.kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias) {
      const bound = 1 / Math.sqrt((inChannels / groups) * kernelSize);
      init.uniform_(this.bias, -bound, bound);
    }
  }
  /**
   * Convolves along the last dim.
   * @param x - (N, inChannels, L) or unbatched (inChannels, L).
   * @returns (N, outChannels, L_out) or (outChannels, L_out), L_out = ⌊(L + 2·padding − dilation·(K − 1) − 1)/stride⌋ + 1.
   */
  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, this.opts);
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}, stride=${this.opts.stride}, padding=${this.opts.padding}, dilation=${this.opts.dilation}, groups=${this.opts.groups}, bias=${this.bias !== null}`;
  }
}

/**
 * Max over sliding windows of the last dim (torch.nn.MaxPool1d; stride defaults to kernelSize).
 * @example
 * ```ts
 * const pool = new nn.MaxPool1d(2);
 * pool.forward(tensor([[[1, 5, 2, 4, 3, 0]]])).toArray(); // [[[5, 4, 3]]]
 * ```
 */
export class MaxPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: Pool1dOptions = {}) {
    super();
    checkPositiveInt('MaxPool1d', 'kernelSize', kernelSize);
  }
  /**
   * Max over each window of the last dim (padding counts as −∞; the gradient goes to each window's first maximum).
   * @param x - (N, C, L) or (C, L), floating point.
   * @returns (N, C, L_out) or (C, L_out).
   */
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`;
  }
}

/**
 * Mean over sliding windows of the last dim (torch.nn.AvgPool1d; stride defaults to kernelSize).
 * @example
 * ```ts
 * const pool = new nn.AvgPool1d(2);
 * pool.forward(tensor([[[1, 5, 2, 4, 3, 0]]])).toArray(); // [[[3, 3, 1.5]]]
 * ```
 */
export class AvgPool1d extends Module {
  constructor(readonly kernelSize: number, readonly opts: AvgPool1dOptions = {}) {
    super();
    checkPositiveInt('AvgPool1d', 'kernelSize', kernelSize);
  }
  /**
   * Mean over each window of the last dim.
   * @param x - (N, C, L) or (C, L), floating point.
   * @returns (N, C, L_out) or (C, L_out).
   */
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, this.opts);
  }
  override extraRepr(): string {
    return `kernelSize=${this.kernelSize}, stride=${this.opts.stride ?? this.kernelSize}, padding=${this.opts.padding ?? 0}`;
  }
}
