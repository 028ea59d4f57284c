/**
 * Plain-number reference implementations of torch.optim.SGD / Adam / AdamW (PyTorch 1.13
 * `_single_tensor_*` paths), one element at a time, in the same operation order as the
 * tensor code. In float64 the tensor implementations must agree with these bit for bit.
 */

export interface RefSGD {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** Runs SGD over `grads[t][i]` (one gradient vector per step) from `p0`; returns the params after every step. */
export function referenceSGD(p0: readonly number[], grads: readonly (readonly number[])[], h: RefSGD): number[][] {
  const p = [...p0];
  let buf: number[] | null = null;
  const out: number[][] = [];
  for (const g of grads) {
    const newBuf: number[] = [];
    for (let i = 0; i < p.length; i++) {
      let d = h.maximize ? -g[i]! : g[i]!;
      if (h.weightDecay !== 0) d = d + p[i]! * h.weightDecay;
      if (h.momentum !== 0) {
        const b = buf === null ? d : buf[i]! * h.momentum + d * (1 - h.dampening);
        newBuf.push(b);
        d = h.nesterov ? d + b * h.momentum : b;
      }
      p[i] = p[i]! + d * -h.lr;
    }
    if (h.momentum !== 0) buf = newBuf;
    out.push([...p]);
  }
  return out;
}

export interface RefAdam {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** true: AdamW's decoupled decay; false: Adam's L2 term. */
  decoupled: boolean;
}

export interface RefAdamResult {
  params: number[][];
  expAvg: number[];
  expAvgSq: number[];
  maxExpAvgSq: number[];
}

/** Runs Adam / AdamW over `grads[t][i]` from `p0`. */
export function referenceAdam(p0: readonly number[], grads: readonly (readonly number[])[], h: RefAdam): RefAdamResult {
  const [b1, b2] = h.betas;
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vMax = p.map(() => 0);
  const out: number[][] = [];
  grads.forEach((g, k) => {
    const t = k + 1;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const stepSize = h.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    for (let i = 0; i < p.length; i++) {
      let gi = h.maximize ? -g[i]! : g[i]!;
      if (h.decoupled) p[i] = p[i]! * (1 - h.lr * h.weightDecay);
      else if (h.weightDecay !== 0) gi = gi + p[i]! * h.weightDecay;
      m[i] = m[i]! * b1 + gi * (1 - b1);
      v[i] = v[i]! * b2 + gi * (1 - b2) * gi;
      let u = v[i]!;
      if (h.amsgrad) {
        vMax[i] = Math.max(vMax[i]!, v[i]!);
        u = vMax[i]!;
      }
      const denom = Math.sqrt(u) / bc2Sqrt + h.eps;
      p[i] = p[i]! + (m[i]! * -stepSize) / denom;
    }
    out.push([...p]);
  });
  return { params: out, expAvg: m, expAvgSq: v, maxExpAvgSq: vMax };
}
