/**
 * A character-level GPT, as Andrej Karpathy's nanoGPT `shakespeare_char` recipe
 * (`data/shakespeare_char/prepare.py`, `train.py`, `sample.py`), on any plain text: the
 * workflow of `tensorgrad train-gpt` / `tensorgrad generate` and examples/03.
 *
 *   1. the vocabulary is the set of characters of the text, sorted (prepare.py:
 *      `chars = sorted(list(set(data)))`); the first 90% of the text trains, the last 10%
 *      validates;
 *   2. a batch is B random windows of blockSize + 1 characters: x = text[i : i+T],
 *      y = text[i+1 : i+T+1] (train.py `get_batch`), so every position learns the next char;
 *   3. minimise the next-character cross-entropy ℓ = −(1/BT)·Σ_t log p(x_{t+1} | x_{≤t}) of the
 *      causal GPT (src/nn/gpt.ts) with AdamW (β₂ = 0.99 and λ = 0.1 on matrices only, as the
 *      recipe), linear warmup then cosine decay of η, gradient clipping at 1.0;
 *   4. sample: feed a prompt, draw each next character from softmax(logits/temperature) over the
 *      topK most likely, with the GPT's key/value cache.
 *
 * Departures from nanoGPT, written down: the cosine decays to 0 (nanoGPT: to lr/10), and the
 * validation loss is estimated on a few batches only (nanoGPT: 200) so that small runs are fast.
 *
 * A saved model is a folder: `config.json` (a HuggingFace GPT-2 config plus the character list
 * `chars`, id = index) and `model.safetensors` (GPT-2 names and Conv1D layout), which loads in
 * transformers' `GPT2LMHeadModel`; folders of earlier versions (model_type "char-gpt",
 * nanoGPT layout) still load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { tidy } from '../tensor/scope.js';
import { fromTypedArray } from '../tensor/creation.js';
import { defaultGenerator, manualSeed } from '../tensor/random.js';
import { GPT, GPTConfig } from '../nn/gpt.js';
import { adamWWithWarmup } from '../train/step.js';
import { trainLoop } from '../train/loop.js';
import { applyPeft, resolveAdapterBase, type PeftOptions } from '../peft/setup.js';
import { isAdapterDir, loadPeftAdapter } from '../peft/io.js';
import { OutputFolder, verifyOutputFolder } from '../train/output.js';
import { commitRun, json, openOutput, runRecord, type RunOptions } from '../train/run.js';
import { loadSafetensors, safetensorsBytes } from '../data/safetensors.js';
import { lineChartSvg } from '../utils/svg.js';

/** Thrown for text the vocabulary cannot encode and for unreadable model folders. */
export class CharGPTError extends Error {
  override name = 'CharGPTError';
}

/**
 * The character vocabulary: id = index in the sorted list of the characters of a text.
 * @example
 * ```ts
 * const vocab = CharVocab.fromText('hello world');
 * vocab.chars.join('');                   // ' dehlorw' (sorted by code point)
 * vocab.encode('hold');                   // [3, 5, 4, 1]
 * vocab.encode('hi!');                 // throws CharGPTError: 2 character(s) not in the vocabulary of 8: "i" (U+0069), "!" (U+0021)
 * ```
 */
export class CharVocab {
  /** The characters, id = index (sorted by code point when built with fromText). */
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) throw new CharGPTError('CharVocab: chars must be a non-empty array of characters');
    this.index = new Map();
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) throw new CharGPTError(`CharVocab: entry ${i} must be one character, got ${JSON.stringify(c)}`);
      if (this.index.has(c)) throw new CharGPTError(`CharVocab: duplicate character ${JSON.stringify(c)} at ${this.index.get(c)} and ${i}`);
      this.index.set(c, i);
    });
    this.chars = [...chars];
  }

  /** The sorted distinct characters (code points) of `text`. */
  static fromText(text: string): CharVocab {
    if (typeof text !== 'string' || text.length === 0) throw new CharGPTError('CharVocab.fromText: the text is empty');
    return new CharVocab([...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Number of characters (the model's vocabSize). */
  get size(): number {
    return this.chars.length;
  }

  /** Whether the character `c` has an id. */
  has(c: string): boolean {
    return this.index.has(c);
  }

  /** The characters of `text` that are not in the vocabulary (each once). */
  unknownChars(text: string): string[] {
    return [...new Set(text)].filter((c) => !this.index.has(c));
  }

  /** Characters → ids; throws a CharGPTError naming any character not in the vocabulary. */
  encode(text: string): number[] {
    const unknown = this.unknownChars(text);
    if (unknown.length) {
      const shown = unknown.slice(0, 5).map((c) => `${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
      throw new CharGPTError(`${unknown.length} character(s) not in the vocabulary of ${this.size}: ${shown.join(', ')}${unknown.length > 5 ? ', …' : ''}`);
    }
    return Array.from(text, (c) => this.index.get(c)!);
  }

  /**
   * Ids → text.
   * @throws CharGPTError naming the first id outside [0, size).
   * @example
   * ```ts
   * const v = CharVocab.fromText('hello');
   * v.decode(v.encode('hell')); // 'hell'
   * ```
   */
  decode(ids: Iterable<number>): string {
    let s = '';
    for (const id of ids) {
      const c = this.chars[id];
      if (c === undefined) throw new CharGPTError(`CharVocab.decode: id ${id} is out of range [0, ${this.size})`);
      s += c;
    }
    return s;
  }
}

/** Options of `CharGPT.sample`: how many characters, the temperature, top-k and the seed. */
export interface SampleOptions {
  /** Characters to generate (default 200). */
  maxNewTokens?: number;
  /** Divides the logits; < 1 is more conservative, 0 is greedy (default 0.8). */
  temperature?: number;
  /** Sample among the k most likely characters only (default: all). */
  topK?: number | null;
  /** Seed of the sampler (default: continue the global generator). */
  seed?: number;
}

/** Snake-case config.json of a character-level GPT: nanoGPT's model_args plus the characters. */
export interface CharGPTConfigJSON {
  /** Always 'char-gpt'. */
  model_type: 'char-gpt';
  /** Number of characters (GPTConfig.vocabSize). */
  vocab_size: number;
  /** Context length in characters (GPTConfig.blockSize). */
  block_size: number;
  /** Number of Transformer blocks (GPTConfig.nLayer). */
  n_layer: number;
  /** Attention heads per block (GPTConfig.nHead). */
  n_head: number;
  /** Embedding width (GPTConfig.nEmbd). */
  n_embd: number;
  /** Dropout probability (GPTConfig.dropout). */
  dropout: number;
  /** Whether the Linear layers and LayerNorms have biases (GPTConfig.bias). */
  bias: boolean;
  /** The vocabulary, id = index. */
  chars: string[];
}

/**
 * A GPT together with its character vocabulary: sample text, save and load it.
 * @example
 * ```ts
 * const { model } = trainCharGPT({ text: loadMobyDick({ chapters: 1 }), maxSteps: 200 });
 * model.sample('Call me ', { maxNewTokens: 60, temperature: 0.8, seed: 1 }); // 'Call me ' and 60 more characters
 * writeFilesAtomically('out/gpt-char', model.files(), { step: 200, runId: 'manual' }); // or trainCharGPT({ …, outDir })
 * const again = CharGPT.load('out/gpt-char');
 * ```
 */
export class CharGPT {
  constructor(readonly model: GPT, readonly vocab: CharVocab) {
    if (model.config.vocabSize !== vocab.size) {
      throw new CharGPTError(`CharGPT: the model's vocabSize (${model.config.vocabSize}) differs from the vocabulary's ${vocab.size} characters`);
    }
  }

  /**
   * Continues `prompt` by `maxNewTokens` characters and returns prompt + continuation (as
   * nanoGPT's sample.py prints it). An empty prompt starts from "\n" when the text had line
   * breaks (nanoGPT's default start), else from the first character of the vocabulary.
   */
  sample(prompt: string, opts: SampleOptions = {}): string {
    const start = prompt.length ? prompt : this.vocab.has('\n') ? '\n' : this.vocab.chars[0]!;
    const ids = this.vocab.encode(start);
    const T = this.model.config.blockSize;
    const ctx = ids.slice(-T); // a prompt longer than the context keeps its last blockSize characters
    const idx = fromTypedArray(Int32Array.from(ctx), [1, ctx.length], { dtype: 'int32' }); // (1, T)
    const wasTraining = this.model.training;
    this.model.eval();
    const out = this.model.generate(idx, {
      maxNewTokens: opts.maxNewTokens ?? 200,
      temperature: opts.temperature ?? 0.8,
      topK: opts.topK ?? null,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    });
    this.model.train(wasTraining);
    const generated = Array.from(out.toTypedArray()).slice(ctx.length);
    return (prompt.length ? prompt : '') + this.vocab.decode(generated);
  }

  /** The nanoGPT-style config with the character list (what `files()` writes as config.json for a model without biases). */
  toJSON(): CharGPTConfigJSON {
    const c = this.model.config;
    return {
      model_type: 'char-gpt', vocab_size: c.vocabSize, block_size: c.blockSize, n_layer: c.nLayer, n_head: c.nHead,
      n_embd: c.nEmbd, dropout: c.dropout, bias: c.bias, chars: [...this.vocab.chars],
    };
  }

  /**
   * The files of a saved model, `config.json` and `model.safetensors`, in HuggingFace GPT-2
   * layout (a GPT-2 config plus the character list `chars`; Conv1D weights transposed, see
   * `GPT.hfStateDict`), so the folder loads with transformers' `GPT2LMHeadModel.from_pretrained`
   * and with `GPT.loadPretrained`. A model without biases keeps the nanoGPT layout (`toJSON()`),
   * which GPT-2 cannot hold.
   */
  files(): Record<string, string | Uint8Array> {
    return this.model.config.bias
      ? { 'config.json': json({ ...this.model.config.toJSON(), chars: [...this.vocab.chars] }), 'model.safetensors': safetensorsBytes(this.model.hfStateDict(), { format: 'pt' }) }
      : { 'config.json': json(this.toJSON()), 'model.safetensors': safetensorsBytes(this.model.stateDict(), { format: 'pt' }) };
  }

  /** Writes `files()` into `dir`, atomically with a manifest (train/output.ts); returns the paths. */
  save(dir: string): string[] {
    const out = OutputFolder.open(dir, { command: 'CharGPT.save' });
    try {
      return Object.keys(out.commit(this.files(), 0).files).map((f) => out.path(f));
    } finally {
      out.release();
    }
  }

  /** Reads a folder written by `save` (or `trainCharGPT({ outDir })`). */
  static load(dir: string): CharGPT {
    const cfgPath = join(dir, 'config.json');
    // a `train-gpt --peft` folder: the weights are the base's (adapter_config.json points at it), then the adapter
    const adapter = !existsSync(join(dir, 'model.safetensors')) && isAdapterDir(dir);
    let wPath = join(dir, 'model.safetensors');
    if (adapter) {
      try {
        wPath = join(resolveAdapterBase(dir), 'model.safetensors');
      } catch (e) {
        throw new CharGPTError((e as Error).message);
      }
    }
    for (const p of [cfgPath, wPath]) if (!existsSync(p)) throw new CharGPTError(`${p} is missing (expected a folder written by train-gpt / CharGPT.save)`);
    try {
      verifyOutputFolder(dir); // a folder torn by a killed run is refused, not half-loaded
    } catch (e) {
      throw new CharGPTError((e as Error).message);
    }
    let j: CharGPTConfigJSON;
    try {
      j = JSON.parse(readFileSync(cfgPath, 'utf8')) as CharGPTConfigJSON;
    } catch (e) {
      throw new CharGPTError(`${cfgPath}: invalid JSON (${(e as Error).message})`);
    }
    const modelType = (j as { model_type?: unknown }).model_type;
    if ((modelType !== 'char-gpt' && modelType !== 'gpt2') || !Array.isArray(j.chars)) {
      throw new CharGPTError(`${cfgPath}: not a character-level GPT config (expected model_type "gpt2" or "char-gpt" and a "chars" list)`);
    }
    const vocab = new CharVocab(j.chars);
    let config: GPTConfig;
    try {
      config = GPTConfig.fromJSON(j as unknown as Record<string, unknown>);
    } catch (e) {
      throw new CharGPTError(`${cfgPath}: ${(e as Error).message}`);
    }
    const model = new GPT(config);
    const sd = loadSafetensors(wPath);
    if (modelType === 'gpt2') {
      model.loadPretrained(sd); // HF GPT-2 layout: Conv1D weights (in, out)
    } else {
      if (!sd['lm_head.weight'] && sd['transformer.wte.weight']) sd['lm_head.weight'] = sd['transformer.wte.weight']; // tied, may be stored once
      model.loadStateDict(sd); // nanoGPT layout (earlier versions, or bias: false)
    }
    if (adapter) {
      try {
        loadPeftAdapter(model, dir);
      } catch (e) {
        throw new CharGPTError((e as Error).message);
      }
    }
    return new CharGPT(model.eval(), vocab);
  }
}

/** Options of {@link trainCharGPT}: the text, the model size, context length, steps, learning rate, evaluation and output folder. */
export interface CharGPTTrainOptions extends RunOptions {
  /** The training text; its distinct characters become the vocabulary and its last `valFraction` is held out. */
  text: string;
  /** Where the text came from, for metrics.json (a file path, or the dataset package). */
  dataSource?: string;
  /** Parameter-efficient fine-tuning (src/peft; LoRA targets c_attn by default): the output folder holds the adapter and base/. */
  peft?: PeftOptions;
  /** Context length T (default 64). */
  blockSize?: number;
  /** Transformer blocks. Default 2. */
  nLayer?: number;
  /** Attention heads per block; must divide nEmbd. Default 4. */
  nHead?: number;
  /** Embedding width. Default 64. */
  nEmbd?: number;
  /** Dropout probability in [0, 1]. Default 0. */
  dropout?: number;
  /** Random windows of blockSize characters per batch. Default 16. */
  batchSize?: number;
  /** Optimisation steps (default 200). */
  maxSteps?: number;
  /** Peak learning rate (default 3e-3). */
  lr?: number;
  /** Linear warmup steps (default maxSteps/10). */
  warmupSteps?: number;
  /** AdamW λ on weight matrices and embeddings (default 0.1, nanoGPT). */
  weightDecay?: number;
  /** Clip the global L2 norm of the gradients to this before each step. Default 1.0. */
  maxGradNorm?: number;
  /** Estimate the validation loss every this many steps (default: at the start and the end only). */
  evalInterval?: number;
  /** Batches per validation estimate (default 4). */
  evalIters?: number;
  /** Fraction of the text held out at its end (default 0.1). */
  valFraction?: number;
}

/** What {@link trainCharGPT} returns: the trained CharGPT, the loss history and validation losses. */
export interface CharGPTTrainResult {
  /** The trained GPT with its character vocabulary (`sample` generates text, `files` saves it). */
  model: CharGPT;
  /** Training loss of every step. */
  history: { step: number; loss: number; lr: number }[];
  /** Validation loss estimates (step 0 is before training). */
  evals: { step: number; valLoss: number }[];
  /** Wall time of the whole call, in seconds. */
  seconds: number;
  /** Paths written into the output folder; empty without an output folder. */
  files: string[];
}

/** Random windows of the token stream: x = data[i:i+T], y = data[i+1:i+T+1] (nanoGPT get_batch). */
function getBatch(data: Int32Array, B: number, T: number) {
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const i = defaultGenerator.randint(0, data.length - T); // i + T ≤ len − 1, so y fits
    x.set(data.subarray(i, i + T), b * T);
    y.set(data.subarray(i + 1, i + T + 1), b * T);
  }
  return { x: fromTypedArray(x, [B, T], { dtype: 'int32' }), y: fromTypedArray(y, [B, T], { dtype: 'int32' }) }; // (B, T) each
}

/** Mean loss over `iters` random batches, in eval mode without gradients. */
function estimateLoss(model: GPT, data: Int32Array, B: number, T: number, iters: number): number {
  const wasTraining = model.training;
  model.eval();
  let sum = 0;
  noGrad(() => {
    for (let i = 0; i < iters; i++) {
      // tidy: the batch's activations go back to the allocator now, not when the GC finds them
      sum += tidy(() => {
        const { x, y } = getBatch(data, B, T);
        return model.forward(x, y).loss!.item();
      });
    }
  });
  model.train(wasTraining);
  return sum / iters;
}

/**
 * Trains a character-level GPT on `text` (seeded: the same options give the same model).
 * @example
 * ```ts
 * const res = trainCharGPT({ text: loadMobyDick({ chapters: 3 }), maxSteps: 500, blockSize: 64, outDir: 'out/gpt-char' });
 * res.evals.at(-1)!.valLoss;              // held-out loss per character (nats)
 * res.model.sample('Call me', { maxNewTokens: 100 });
 * ```
 */
export function trainCharGPT(opts: CharGPTTrainOptions): CharGPTTrainResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 1337;
  manualSeed(seed);
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const vocab = CharVocab.fromText(opts.text);
  const T = opts.blockSize ?? 64;
  const B = opts.batchSize ?? 16;
  const ids = Int32Array.from(vocab.encode(opts.text));
  const nVal = Math.floor(ids.length * (opts.valFraction ?? 0.1));
  const train = ids.subarray(0, ids.length - nVal);
  const val = nVal > T + 1 ? ids.subarray(ids.length - nVal) : train; // a tiny text validates on itself
  if (train.length < T + 2) throw new CharGPTError(`the text has ${ids.length} characters; it needs more than blockSize + 1 = ${T + 1} for training`);

  const config = new GPTConfig({
    vocabSize: vocab.size, blockSize: T, nLayer: opts.nLayer ?? 2, nHead: opts.nHead ?? 4, nEmbd: opts.nEmbd ?? 64,
    dropout: opts.dropout ?? 0, bias: true,
  });
  const model = new GPT(config);
  const baseFiles = opts.peft ? new CharGPT(model, vocab).files() : null; // the random initialisation, base of the adapter
  if (opts.peft) log(applyPeft(model, opts.peft, { head: [], taskType: 'CAUSAL_LM' }).line);
  const output = openOutput(opts, model); // checked and locked before training
  try {
    const maxSteps = opts.maxSteps ?? 200;
    const evalIters = opts.evalIters ?? 4;
    const hp = {
      lr: opts.lr ?? 3e-3, weightDecay: opts.weightDecay ?? 0.1, warmupSteps: opts.warmupSteps ?? Math.round(maxSteps / 10), maxSteps, batchSize: B,
      gradientAccumulationSteps: opts.gradientAccumulationSteps ?? 1, maxGradNorm: opts.maxGradNorm ?? 1.0, evalInterval: opts.evalInterval ?? null,
      evalIters, valFraction: opts.valFraction ?? 0.1, model: new CharGPT(model, vocab).toJSON(), ...(opts.cliOptions ? { cli: opts.cliOptions } : {}),
    };
    const { optimizer, scheduler } = adamWWithWarmup(model, {
      lr: hp.lr, weightDecay: hp.weightDecay, betas: [0.9, 0.99], schedule: 'cosine', warmupRatio: hp.warmupSteps / maxSteps, totalSteps: maxSteps,
    });
    log(`char GPT: ${ids.length.toLocaleString('en-US')} characters (${vocab.size} distinct), ${config.nLayer} layers × ${config.nEmbd} wide, ` +
      `${config.nHead} heads, context ${T} (${(model.numParameters() / 1e6).toFixed(2)}M parameters), ${maxSteps} steps × ${B} windows`);

    const loop = trainLoop({
      model, optimizer, scheduler, data: { next: () => getBatch(train, B, T) }, maxSteps,
      gradientAccumulationSteps: hp.gradientAccumulationSteps, maxGradNorm: hp.maxGradNorm,
      loss: ({ x, y }) => ({ loss: model.forward(x, y).loss!, tokens: B * T }),
      evaluate: () => ({ valLoss: estimateLoss(model, val, B, T, evalIters) }),
      evalEvery: opts.evalInterval ?? Infinity, evalAtStart: true,
      describeEval: (e) => `step ${e.step}: validation loss ${e.metrics.valLoss!.toFixed(4)}`,
      hyperparameters: hp, ...(output ? { output } : {}), resume: opts.resume ?? false,
      ...(opts.saveEvery !== undefined ? { saveEvery: opts.saveEvery } : {}),
      ...(opts.progress !== undefined ? { progress: opts.progress } : {}), log,
    });
    model.eval();
    const charModel = new CharGPT(model, vocab);
    const history = loop.steps.map((s) => ({ step: s.step, loss: s.loss, lr: s.lr }));
    const evals = loop.evals.map((e) => ({ step: e.step, valLoss: e.metrics.valLoss! }));
    const seconds = (performance.now() - t0) / 1000;
    const files = output ? commitRun(output, {
      model, peft: opts.peft ?? null, baseDir: null, baseFiles, modelFiles: () => charModel.files(), step: loop.steps.length,
      files: {
        'metrics.json': json({ ...runRecord('train-gpt', { seed, hyperparameters: hp, data: { source: opts.dataSource ?? null, characters: ids.length, train: train.length, validation: val.length } }, loop, seconds), history, evals }),
        'curves.svg': lineChartSvg({
          title: 'character-level GPT', xLabel: 'step', leftLabel: 'loss', rightLabel: 'learning rate',
          series: [
            { name: 'train loss', values: history.map((h) => h.loss), color: '#1f77b4', axis: 'left' },
            { name: 'learning rate', values: history.map((h) => h.lr), color: '#2ca02c', axis: 'right' },
          ],
        }),
      },
    }) : [];
    return { model: charModel, history, evals, seconds, files };
  } finally {
    output?.release();
  }
}
