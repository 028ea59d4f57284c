/**
 * `tensorgrad predict DIR [TEXT…]` — run a trained model folder on texts from the arguments, a
 * file (`--file F`, `-` for stdin) or piped stdin: one text per line, or JSONL (a JSON string or
 * an object with a `text` field per line; `--format` to force). Prints one JSON line per text:
 *
 *   {"text": "...", "entities": [...]}            token-classification (NER)
 *   {"text": "...", "labels": [{label, score}]}   text-classification
 *   {"text": "...", "predictions": [...]}         fill-mask
 *   {"text": "...", "generated_text": "..."}      text-generation (+ tokens/s on stderr)
 *
 * Texts run in batches of --batch-size; over 50 texts a progress line goes to stderr. A text
 * that fails (e.g. too long without --truncation) prints {"text", "error"} and the exit code is 1.
 */
import { readFileSync } from 'node:fs';
import { UsageError, parseArgs, helpText, type CommandSpec, type OptionSpec, type ParsedOptions } from '../args.js';
import { useBackend, type Command } from '../util.js';
import { loadModelFolder, PIPELINE_TASKS, type LoadedModel } from '../../pipelines/load.js';
import { pipelineFor, TextGenerationPipeline, type AnyPipeline } from '../../pipelines/index.js';
import { formatDuration } from '../../utils/progress.js';

export const predictSpec: CommandSpec = {
  name: 'predict',
  summary: 'Run a model folder (train-ner, train-classifier, pretrain-mlm, train-gpt output) on texts: predict DIR [TEXT…].\n' +
    'Texts come from the arguments, --file (one per line or JSONL; - for stdin) or piped stdin; prints JSON lines.',
  options: [
    { name: 'file', type: 'string', help: 'read texts from this file (- = stdin)' },
    { name: 'format', type: 'string', default: 'auto', choices: ['auto', 'lines', 'jsonl'], help: 'input format of --file/stdin' },
    { name: 'text-field', type: 'string', default: 'text', help: 'JSONL: the key holding the text' },
    { name: 'task', type: 'string', choices: PIPELINE_TASKS, help: 'override the task read from the folder' },
    { name: 'batch-size', type: 'int', default: 32, min: 1, help: 'texts per forward pass' },
    { name: 'truncation', type: 'boolean', help: 'cut texts longer than the model takes (default: an error for them)' },
    { name: 'aggregation', type: 'string', default: 'first', choices: ['none', 'simple', 'first', 'max', 'average'], help: 'NER: how sub-word tags become entities' },
    { name: 'top-k', type: 'int', min: 1, help: 'classification: labels to show (default all); fill-mask: candidates (default 5); generation: sample among the k most likely' },
    { name: 'max-new-tokens', type: 'int', default: 50, min: 0, help: 'generation: tokens to generate at most' },
    { name: 'sample', type: 'boolean', help: 'generation: sample (default: greedy)' },
    { name: 'temperature', type: 'number', default: 1, min: 0, help: 'generation: divides the logits when sampling' },
    { name: 'top-p', type: 'number', default: 1, min: 0, help: 'generation: nucleus sampling mass in (0, 1]' },
    { name: 'repetition-penalty', type: 'number', default: 1, min: 0, help: 'generation: CTRL repetition penalty θ (> 1 discourages repeats)' },
    { name: 'stop', type: 'string', help: 'generation: stop when this string is generated' },
    { name: 'seed', type: 'int', default: 0, help: 'generation: sampling seed' },
    { name: 'backend', type: 'string', default: 'cpu', help: 'compute backend' },
  ],
  examples: [
    'tensorgrad predict out/ner "Captain Ahab sailed from Nantucket."',
    'tensorgrad predict out/classifier --file emails.jsonl --text-field body > labels.jsonl',
    'cat sentences.txt | tensorgrad predict out/ner --aggregation first',
    'tensorgrad predict out/gpt-char "Call me" --max-new-tokens 200 --sample --temperature 0.8 --top-p 0.9 --seed 1',
  ],
};

/** Splits argv into positionals and option tokens (an option's value stays with it). */
export function splitPositionals(spec: CommandSpec, argv: string[]): { positionals: string[]; options: string[] } {
  const positionals: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') || a === '-h') {
      options.push(a);
      const o: OptionSpec | undefined = spec.options.find((x) => x.name === a.slice(2));
      if (o && o.type !== 'boolean' && !a.includes('=') && i + 1 < argv.length) options.push(argv[++i]!);
    } else positionals.push(a);
  }
  return { positionals, options };
}

/** Texts of a file's content: JSONL (strings or objects with `field`) or one per non-empty line. */
export function parseTexts(content: string, format: string, field: string, where: string): string[] {
  const lines = content.split(/\r?\n/).filter((l) => l.trim() !== '');
  const asJson = (l: string, n: number): string => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new UsageError(`${where}: line ${n}: not JSON (${(e as Error).message}); use --format lines for plain text`);
    }
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Record<string, unknown>)[field] === 'string') return (v as Record<string, string>)[field]!;
    throw new UsageError(`${where}: line ${n}: expected a JSON string or an object with a string "${field}" field (--text-field)`);
  };
  if (format === 'jsonl') return lines.map((l, i) => asJson(l, i + 1));
  if (format === 'auto' && lines.length > 0 && lines.every((l) => /^\s*[{"]/.test(l))) {
    try {
      return lines.map((l, i) => asJson(l, i + 1));
    } catch {
      /* not JSONL after all: plain lines */
    }
  }
  return lines;
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

function outputKey(task: LoadedModel['task']): string {
  return { 'token-classification': 'entities', 'text-classification': 'labels', 'fill-mask': 'predictions', 'text-generation': 'generated_text' }[task];
}

export async function runPredict(argv: string[], prog: string): Promise<number> {
  const { positionals, options } = splitPositionals(predictSpec, argv);
  const o: ParsedOptions = parseArgs(predictSpec, options);
  if (o.help) {
    console.log(helpText(prog, predictSpec).replace(`${prog} predict [options]`, `${prog} predict DIR [TEXT…] [options]`));
    return 0;
  }
  useBackend(o.backend);
  const [dir, ...args] = positionals;
  if (!dir) throw new UsageError('missing the model folder: predict DIR [TEXT…]');
  let texts: string[];
  if (args.length) {
    if (o.file !== undefined) throw new UsageError('give texts as arguments or with --file, not both');
    texts = args;
  } else if (o.file !== undefined) {
    const f = String(o.file);
    let content: string;
    try {
      content = f === '-' ? readStdin() : readFileSync(f, 'utf8');
    } catch (e) {
      throw new UsageError(`--file: cannot read ${f}: ${(e as Error).message}`);
    }
    texts = parseTexts(content, String(o.format), String(o.textField), f === '-' ? 'stdin' : f);
  } else if (!process.stdin.isTTY) {
    texts = parseTexts(readStdin(), String(o.format), String(o.textField), 'stdin');
  } else {
    throw new UsageError('no texts: give them as arguments, with --file, or on stdin');
  }
  if (texts.length === 0) throw new UsageError('no texts to predict (the input is empty)');

  const loaded = loadModelFolder(dir, o.task ? { task: String(o.task) } : {});
  const pipe: AnyPipeline = pipelineFor(loaded);
  const key = outputKey(loaded.task);
  const out = process.stdout;
  let failed = 0;
  const write = (text: string, v: unknown, err?: string) => {
    out.write(JSON.stringify(err !== undefined ? { text, error: err } : { text, [key]: v }) + '\n');
  };

  if (pipe instanceof TextGenerationPipeline) {
    let tokens = 0;
    let secs = 0;
    const params = {
      maxNewTokens: o.maxNewTokens as number, doSample: Boolean(o.sample), temperature: o.temperature as number, topP: o.topP as number,
      repetitionPenalty: o.repetitionPenalty as number, seed: o.seed as number,
      ...(o.topK !== undefined ? { topK: o.topK as number } : {}), ...(o.stop !== undefined ? { stop: [String(o.stop)] } : {}),
    };
    pipe.checkParams(params); // bad values are usage errors before any work
    for (const t of texts) {
      try {
        const r = pipe.run(t, params);
        tokens += pipe.lastStats.newTokens;
        secs += pipe.lastStats.seconds;
        write(t, r[0]!.generated_text);
      } catch (e) {
        failed++;
        write(t, null, (e as Error).message);
      }
    }
    process.stderr.write(`${tokens} tokens in ${secs.toFixed(2)} s: ${(tokens / Math.max(secs, 1e-9)).toFixed(1)} tokens/s\n`);
    return failed ? 1 : 0;
  }

  const params: Record<string, unknown> = { truncation: Boolean(o.truncation) };
  if (loaded.task === 'token-classification') params.aggregationStrategy = o.aggregation;
  if (loaded.task === 'text-classification') params.topK = o.topK ?? null;
  if (loaded.task === 'fill-mask' && o.topK !== undefined) params.topK = o.topK;
  const bs = o.batchSize as number;
  const t0 = performance.now();
  const showProgress = texts.length > 50;
  for (let i = 0; i < texts.length; i += bs) {
    const chunk = texts.slice(i, i + bs);
    const encs: ({ ok: true; enc: ReturnType<typeof pipe.preprocess> } | { ok: false; error: string })[] = chunk.map((t) => {
      try {
        return { ok: true as const, enc: pipe.preprocess(t, { truncation: Boolean(o.truncation), field: 'text' }) };
      } catch (e) {
        return { ok: false as const, error: (e as Error).message };
      }
    });
    const good = encs.flatMap((e) => (e.ok ? [e.enc] : []));
    const logits = pipe.forward(good);
    let g = 0;
    encs.forEach((e, k) => {
      if (!e.ok) {
        failed++;
        write(chunk[k]!, null, e.error);
        return;
      }
      write(chunk[k]!, (pipe.postprocess as (x: unknown, l: Float32Array, p: object) => unknown)(e.enc, logits[g]!, params));
      g++;
    });
    if (showProgress) {
      const done = Math.min(i + bs, texts.length);
      const el = (performance.now() - t0) / 1000;
      const line = `predict ${done}/${texts.length}  ${(done / el).toFixed(1)} texts/s  ETA ${formatDuration((el / done) * (texts.length - done))}`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K${done === texts.length ? '\n' : ''}` : `${line}\n`);
    }
  }
  if (failed) process.stderr.write(`${failed} of ${texts.length} texts failed (see their "error")\n`);
  return failed ? 1 : 0;
}

export const predictCommand: Command = { spec: predictSpec, run: runPredict };
