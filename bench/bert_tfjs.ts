/**
 * BERT-tiny for token classification written with @tensorflow/tfjs ops, the peer of tensorgrad's
 * `nn.BertForTokenClassification` in bench/bert.ts (the same model as bench/torch_bert.py):
 *
 *   embeddings   word + token-type + position (learned) → LayerNorm(ε) → dropout
 *   N × post-LN block (Devlin et al. 2019; HF modeling_bert.py)
 *                a = LN(h + dropout(dense(Attention(h))))
 *                out = LN(a + dropout(dense₂(GELU(dense₁(a)))))
 *                Eq. (1) of Vaswani et al.: Attention(Q,K,V) = softmax(QKᵀ/√d_k)·V per head,
 *                with dropout on the attention probabilities
 *   head         logits = classifier(dropout(h))
 *   loss         mean cross-entropy over every token
 *   optimizer    tf.train.adam + decoupled weight decay by hand (tfjs has no AdamW):
 *                θ ← θ(1 − ηλ) before Adam's step, as torch.optim.AdamW
 *
 * Departures, all forced by tfjs and all without effect on the amount of work:
 * - Linear weights are stored [in, out] (x·W), not PyTorch's [out, in] (x·Wᵀ).
 * - Embedding lookups use tf.gather with a custom gradient (tf.scatterND, which sums duplicate
 *   rows): the wasm backend has no UnsortedSegmentSum kernel, which tf.gather's own gradient
 *   needs. The same code runs on both tfjs backends.
 * - tf.train.adam puts ε outside the bias-corrected √v̂ (η·m̂/(√v̂ + ε)), as torch does up to the
 *   order of rounding.
 * - No padding row (torch/tensorgrad zero the gradient of row 0): the inputs never use id 0.
 */
import type * as TfNs from '@tensorflow/tfjs';

export type Tf = typeof TfNs;

export interface BertTinyConfig {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  labels: number;
  maxPositions: number;
  typeVocab: number;
  eps: number;
  initStd: number;
  dropout: number;
}

interface TfLinear { w: TfNs.Variable; b: TfNs.Variable }
interface TfLayerNorm { g: TfNs.Variable; b: TfNs.Variable }
interface TfBlock {
  query: TfLinear; key: TfLinear; value: TfLinear; attnOut: TfLinear; attnLn: TfLayerNorm;
  intermediate: TfLinear; output: TfLinear; outLn: TfLayerNorm;
}

/** BERT-tiny as tfjs variables, with a forward pass, a loss and an AdamW step. */
export class TfBertTiny {
  readonly vars: TfNs.Variable[] = [];
  private readonly wordEmb: TfNs.Variable;
  private readonly posEmb: TfNs.Variable;
  private readonly typeEmb: TfNs.Variable;
  private readonly embLn: TfLayerNorm;
  private readonly blocks: TfBlock[];
  private readonly classifier: TfLinear;
  private readonly opt: TfNs.AdamOptimizer;
  private seed = 1;
  private readonly lookup: (x: TfNs.Tensor, ids: TfNs.Tensor) => TfNs.Tensor;

  constructor(private readonly tf: Tf, readonly c: BertTinyConfig, readonly lr = 1e-3, readonly weightDecay = 0.01) {
    this.wordEmb = this.normal([c.vocab, c.hidden]);
    this.posEmb = this.normal([c.maxPositions, c.hidden]);
    this.typeEmb = this.normal([c.typeVocab, c.hidden]);
    this.embLn = this.layerNorm();
    this.blocks = Array.from({ length: c.layers }, () => ({
      query: this.linear(c.hidden, c.hidden), key: this.linear(c.hidden, c.hidden), value: this.linear(c.hidden, c.hidden),
      attnOut: this.linear(c.hidden, c.hidden), attnLn: this.layerNorm(),
      intermediate: this.linear(c.hidden, c.ffn), output: this.linear(c.ffn, c.hidden), outLn: this.layerNorm(),
    }));
    this.classifier = this.linear(c.hidden, c.labels);
    this.opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
    this.lookup = this.makeLookup(tf);
  }

  private v(t: TfNs.Tensor): TfNs.Variable {
    const x = this.tf.variable(t, true);
    t.dispose();
    this.vars.push(x);
    return x;
  }
  private normal(shape: number[]): TfNs.Variable {
    return this.v(this.tf.randomNormal(shape, 0, this.c.initStd, 'float32', this.seed++)); // init N(0, 0.02)
  }
  private linear(nIn: number, nOut: number): TfLinear {
    return { w: this.normal([nIn, nOut]), b: this.v(this.tf.zeros([nOut])) };
  }
  private layerNorm(): TfLayerNorm {
    return { g: this.v(this.tf.ones([this.c.hidden])), b: this.v(this.tf.zeros([this.c.hidden])) };
  }

  numParameters(): number {
    return this.vars.reduce((n, v) => n + v.size, 0);
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
    this.opt.dispose();
  }

  /** Row lookup W[ids] with dW = scatter-add of dy into the looked-up rows.  (N) → (N, H) */
  private embedding(w: TfNs.Variable, ids: TfNs.Tensor1D): TfNs.Tensor2D {
    return this.lookup(w, ids) as TfNs.Tensor2D;
  }
  private makeLookup(tf: Tf): (x: TfNs.Tensor, ids: TfNs.Tensor) => TfNs.Tensor {
    return tf.customGrad((...args: (TfNs.Tensor | TfNs.GradSaveFunc)[]) => {
      const [x, ids, save] = args as [TfNs.Tensor, TfNs.Tensor, TfNs.GradSaveFunc];
      save([ids]);
      const shape = x.shape;
      return {
        value: tf.gather(x, ids),
        gradFunc: (dy: TfNs.Tensor, saved: TfNs.Tensor[]) => [
          tf.scatterND(saved[0]!.reshape([-1, 1]), dy, shape), // dW: duplicate rows summed
          tf.zerosLike(saved[0]!), // ids: integer input, no gradient
        ],
      };
    });
  }

  private dense(x: TfNs.Tensor2D, l: TfLinear): TfNs.Tensor2D {
    return this.tf.add(this.tf.matMul(x, l.w), l.b);
  }

  /** y = (x − μ)/√(σ² + ε)·γ + β over the last axis (biased variance, as torch). */
  private ln(x: TfNs.Tensor2D, p: TfLayerNorm): TfNs.Tensor2D {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.c.eps))), p.g), p.b);
  }

  /** GELU in its exact erf form: x·Φ(x) = ½x(1 + erf(x/√2)). */
  private gelu(x: TfNs.Tensor2D): TfNs.Tensor2D {
    const tf = this.tf;
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  }

  private drop<T extends TfNs.Tensor>(x: T, training: boolean): T {
    return training && this.c.dropout > 0 ? this.tf.dropout(x, this.c.dropout) as T : x;
  }

  /** ids (B, T) int32 → logits (B·T, labels). */
  forward(ids: TfNs.Tensor2D, training: boolean): TfNs.Tensor2D {
    const tf = this.tf, c = this.c;
    const [B, T] = ids.shape;
    const H = c.hidden, nh = c.heads, hs = H / nh, N = B * T;
    const pos = tf.tile(tf.range(0, T, 1, 'int32'), [B]) as TfNs.Tensor1D; // (B·T): 0..T−1 per row
    const types = tf.zeros([N], 'int32') as TfNs.Tensor1D;
    const e = tf.add(tf.add(this.embedding(this.wordEmb, ids.reshape([N])), this.embedding(this.typeEmb, types)), this.embedding(this.posEmb, pos));
    let h = this.drop(this.ln(e as TfNs.Tensor2D, this.embLn), training); // (B·T, H)
    const scale = 1 / Math.sqrt(hs);
    for (const blk of this.blocks) {
      const split = (x: TfNs.Tensor2D) => tf.transpose(x.reshape([B, T, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
      const q = split(this.dense(h, blk.query)), k = split(this.dense(h, blk.key)), v = split(this.dense(h, blk.value));
      const scores = tf.mul(tf.matMul(q, k, false, true), scale); // (B, nh, T, T)
      const probs = this.drop(tf.softmax(scores, -1), training);
      const ctx = tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]).reshape([N, H]) as TfNs.Tensor2D; // (B·T, H)
      const a = this.ln(tf.add(this.drop(this.dense(ctx, blk.attnOut), training), h), blk.attnLn);
      const f = this.gelu(this.dense(a, blk.intermediate));
      h = this.ln(tf.add(this.drop(this.dense(f, blk.output), training), a), blk.outLn);
    }
    return this.dense(this.drop(h, training), this.classifier); // (B·T, labels)
  }

  /** Mean cross-entropy ℓ = −(1/N)·Σ log softmax(logits)[y]. */
  loss(ids: TfNs.Tensor2D, labels: TfNs.Tensor1D): TfNs.Scalar {
    const tf = this.tf;
    const logp = tf.logSoftmax(this.forward(ids, true), -1);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, this.c.labels), logp), -1))) as TfNs.Scalar;
  }

  /** One training step: forward, loss, backward, θ ← θ(1 − ηλ), Adam step. Returns the loss (read back). */
  trainStep(ids: TfNs.Tensor2D, labels: TfNs.Tensor1D): number {
    const tf = this.tf;
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.loss(ids, labels), this.vars);
      const decay = 1 - this.lr * this.weightDecay; // decoupled weight decay (AdamW), on every parameter
      for (const v of this.vars) v.assign(tf.mul(v, decay));
      this.opt.applyGradients(grads as Record<string, TfNs.Variable>); // (typed as variables; tfjs reads only the values)
      return value;
    });
    const out = loss.dataSync()[0]!;
    loss.dispose();
    return out;
  }

  /** Inference: logits read back (tf.tidy frees every intermediate). */
  infer(ids: TfNs.Tensor2D): Float32Array {
    const logits = this.tf.tidy(() => this.forward(ids, false));
    const out = logits.dataSync() as Float32Array;
    logits.dispose();
    return out;
  }
}
