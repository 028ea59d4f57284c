/**
 * The release configuration of the shipped checkpoint and its export to assets/ (used by
 * scripts/pretrain-release.ts; `npm run pretrain:release -- --export-only` re-runs the export alone).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BertConfig, BertForMaskedLM } from '../src/nn/bert.js';
import { loadSafetensors, safetensorsBytes } from '../src/data/safetensors.js';
import { BertTokenizer } from '../src/data/tokenizer/index.js';
import { clozeTest, type ClozeItem, type MlmEvaluation } from '../src/tasks/mlm.js';

/** Everything that determines the shipped checkpoint (with the corpus of scripts/build-corpus.ts). */
export const RELEASE = {
  name: 'tensorgrad-bert-L4-H128-uncased',
  corpus: 'out/corpus/corpus.txt',
  runDir: 'out/pretrain-release',
  layers: 4, hidden: 128, heads: 2, maxLength: 128, vocabSize: 8000,
  batchSize: 16, lr: 1e-3, warmupRatio: 0.03, weightDecay: 0.01, dropout: 0, mlmProbability: 0.4,
  epochs: 20, maxSteps: 8000, evalInterval: 250, evalChunks: 128, saveEvery: 250, seed: 42,
};
export type ReleaseConfig = typeof RELEASE;

/** The command line that reproduces the run (what pretrain-release.ts passes to `tensorgrad pretrain-mlm`). */
export function releaseArgs(cfg: ReleaseConfig): string[] {
  return ['--text', cfg.corpus, '--out', cfg.runDir, '--layers', String(cfg.layers), '--hidden', String(cfg.hidden), '--heads', String(cfg.heads),
    '--max-length', String(cfg.maxLength), '--vocab-size', String(cfg.vocabSize), '--masking', 'whole-word', '--mlm-probability', String(cfg.mlmProbability),
    '--batch-size', String(cfg.batchSize), '--lr', String(cfg.lr), '--warmup-ratio', String(cfg.warmupRatio), '--weight-decay', String(cfg.weightDecay),
    '--dropout', String(cfg.dropout), '--epochs', String(cfg.epochs), '--max-steps', String(cfg.maxSteps), '--eval-interval', String(cfg.evalInterval),
    '--eval-chunks', String(cfg.evalChunks), '--seed', String(cfg.seed)];
}

/** Wall-clock time of each sitting of the run (appended by pretrain-release.ts). */
export function sittingsPath(cfg: ReleaseConfig): string {
  return join(cfg.runDir, 'sittings.json');
}

interface RunMetrics {
  evals: MlmEvaluation[];
  history: { step: number; loss: number }[];
  hyperparameters: Record<string, unknown>;
  data: { characters: number; chunks: number; heldOut: number };
  packageVersion: string;
  node: string;
}

/** The dropout written to the shipped config.json: what `train-ner` / `train-classifier` fine-tune with (BERT's 0.1). */
export const FINE_TUNING_DROPOUT = 0.1;

const fmtDuration = (s: number) => `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;

/** Writes assets/<name>/ from the finished run: float16 weights in HF layout, the tokenizer files and the model card. */
export function exportRelease(cfg: ReleaseConfig, outRoot = 'assets'): void {
  const src = cfg.runDir;
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'metrics.json']) {
    if (!existsSync(join(src, f))) throw new Error(`exportRelease: ${join(src, f)} is missing — has the run finished? (npm run pretrain:release)`);
  }
  const dst = join(outRoot, cfg.name);
  mkdirSync(dst, { recursive: true });
  const metrics = JSON.parse(readFileSync(join(src, 'metrics.json'), 'utf8')) as RunMetrics;
  const hfConfig = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  const weights = loadSafetensors(join(src, 'model.safetensors'));
  writeFileSync(join(dst, 'model.safetensors'), safetensorsBytes(weights, { format: 'pt' }, { float32As: 'F16' }));
  // config.json carries the dropout that fine-tuning should use (BERT's 0.1, as bert-base's card); the
  // pre-training's own rate (RELEASE.dropout, 0 for a short run in the under-fitting regime) is in the card
  writeFileSync(join(dst, 'config.json'), JSON.stringify({
    ...hfConfig, torch_dtype: 'float16', hidden_dropout_prob: FINE_TUNING_DROPOUT, attention_probs_dropout_prob: FINE_TUNING_DROPOUT,
  }, null, 2) + '\n');
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'vocab_map.json', 'eval.svg']) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dst, f));
  if (existsSync('out/corpus/manifest.json')) copyFileSync('out/corpus/manifest.json', join(dst, 'corpus_manifest.json'));

  // the cloze test on the shipped (float16-rounded) weights
  const model = new BertForMaskedLM(BertConfig.fromJSON(JSON.parse(readFileSync(join(dst, 'config.json'), 'utf8'))));
  model.loadPretrained(loadSafetensors(join(dst, 'model.safetensors')));
  const tokenizer = BertTokenizer.fromVocabFile(join(dst, 'vocab.txt'), { doLowerCase: true });
  const items = (JSON.parse(readFileSync('data/cloze/cloze.json', 'utf8')) as { sentences: ClozeItem[] }).sentences;
  const cloze = clozeTest(model, tokenizer, items);
  const hits = cloze.filter((c) => c.hit).length;

  const sittings = existsSync(sittingsPath(cfg)) ? (JSON.parse(readFileSync(sittingsPath(cfg), 'utf8')) as { seconds: number; steps: number; threads: string; note?: string }[]) : [];
  const threads = [...new Set(sittings.map((s) => s.threads))].join(' / ');
  const notes = sittings.flatMap((s) => (s.note ? [s.note] : []));
  const seconds = sittings.reduce((a, s) => a + s.seconds, 0);
  const ev = metrics.evals;
  const [first, last] = [ev[0]!, ev[ev.length - 1]!];
  const best = ev.reduce((a, e) => (e.loss < a.loss ? e : a), first);
  const record = {
    name: cfg.name, release: cfg, steps: metrics.history.length, sittings, wallSeconds: seconds,
    heldOut: { first, last, best }, cloze: { hits, of: cloze.length, results: cloze }, data: metrics.data,
    packageVersion: metrics.packageVersion, node: metrics.node,
  };
  writeFileSync(join(dst, 'pretraining.json'), JSON.stringify(record, null, 2) + '\n');
  const manifest = existsSync(join(dst, 'corpus_manifest.json'))
    ? (JSON.parse(readFileSync(join(dst, 'corpus_manifest.json'), 'utf8')) as { sources: { name: string; from: string; licence: string; characters: number; words: number }[]; sha256: string })
    : null;
  const params = Object.values(weights).reduce((a, t) => a + t.numel(), 0);
  const tokens = metrics.history.length * cfg.batchSize; // chunks seen
  const card = `---
language: en
license: mit
library_name: tensorgrad
tags: [bert, fill-mask, tensorgrad]
pipeline_tag: fill-mask
---

# ${cfg.name}

A small BERT (${cfg.layers} layers × ${cfg.hidden} hidden, ${cfg.heads} heads, ${(params / 1e6).toFixed(2)}M parameters with the tied
decoder counted once per name) pre-trained with masked-language modelling by **tensorgrad**'s own
\`pretrain-mlm\` on ${(metrics.data.characters / 1e6).toFixed(1)} million characters of public-domain and freely licensed English.
It is the starting point of \`tensorgrad train-ner\`, \`train-classifier\` and the demo. HF layout:
\`BertForMaskedLM\` weights in \`model.safetensors\` (float16), \`config.json\`, \`vocab.txt\`,
\`tokenizer_config.json\` (uncased WordPiece).

## Results

| held-out masked tokens (${metrics.data.heldOut} chunks, fixed masking) | step 0 | step ${last.step} (final) |
| --- | ---: | ---: |
| accuracy | ${(100 * first.accuracy).toFixed(1)} % | ${(100 * last.accuracy).toFixed(1)} % |
| perplexity | ${first.perplexity.toFixed(0)} | ${last.perplexity.toFixed(1)} |
| loss (nats) | ${first.loss.toFixed(3)} | ${last.loss.toFixed(3)} |

The curve of every evaluation is \`eval.svg\` (and \`pretraining.json\`).

**Cloze test** — ten sentences fixed before training (\`data/cloze/cloze.json\`); a sentence counts when
an accepted answer is among the top 5 (the shipped float16 weights): **${hits} / ${cloze.length}**.

| sentence | accepted | top 5 | |
| --- | --- | --- | :---: |
${cloze.map((c) => `| ${c.text.replace(/\|/g, '\\|')} | ${c.answers.join(', ')} | ${c.top.map((t) => `${t.token} (${(100 * t.p).toFixed(0)}%)`).join(', ')} | ${c.hit ? '✓' : '✗'} |`).join('\n')}

## Training

- Objective: BERT's masked LM (Devlin et al. 2019, §3.1) with **whole-word masking** — ${cfg.mlmProbability * 100} % of the words
  chosen (Wettig et al. 2023 for the rate above BERT's 15 %; the held-out evaluation masks 15 %), all their WordPiece pieces predicted; of those tokens 80 % → \`[MASK]\`, 10 % → a random token,
  10 % unchanged; **dynamic masking** (a new mask every time a chunk is batched, RoBERTa §4.1);
  no next-sentence prediction; sentences **packed** into chunks of ≤ ${cfg.maxLength} tokens.
- ${metrics.history.length} steps × ${cfg.batchSize} chunks (≈ ${(tokens / metrics.data.chunks).toFixed(2)} passes over the ${metrics.data.chunks.toLocaleString('en-US')} chunks), AdamW
  (lr ${cfg.lr}, β = (0.9, 0.999), weight decay ${cfg.weightDecay}, none on biases and LayerNorm), linear warmup over
  ${cfg.warmupRatio * 100} % of the steps then linear decay to 0, gradient clipping at 1.0, dropout ${cfg.dropout} (config.json says ${FINE_TUNING_DROPOUT}: the rate to fine-tune with), seed ${cfg.seed}.
- Vocabulary: **${cfg.vocabSize.toLocaleString('en-US')}** entries trimmed from bert-base-uncased's 30,522 — the five special tokens, every single
  Latin character with its \`##\` form (so no word becomes \`[UNK]\`), then the corpus's most frequent pieces.
  \`vocab_map.json\` gives each entry's bert-base-uncased id (\`expandToBaseVocab\` lays the embedding rows
  back into a 30,522-row table); the ids are a renumbering, the token strings are bert-base-uncased's.
- Time: ${seconds > 0 ? `${fmtDuration(seconds)} of wall-clock time` : 'not recorded'} on a 2-core machine (${sittings.length} sitting${sittings.length === 1 ? '' : 's'}, TENSORGRAD_NUM_THREADS ${threads || 'default'}${notes.length ? `; ${notes.join('; ')}` : ''}),
  tensorgrad ${metrics.packageVersion}, Node ${metrics.node}.

## Corpus

${manifest ? `| source | from | licence | characters | words |
| --- | --- | --- | ---: | ---: |
${manifest.sources.map((s) => `| ${s.name} | ${s.from} | ${s.licence} | ${s.characters.toLocaleString('en-US')} | ${s.words.toLocaleString('en-US')} |`).join('\n')}

SHA-256 of the assembled corpus: \`${manifest.sha256}\` (\`corpus_manifest.json\`).` : 'See data/corpus/README.md.'}

The corpus holds the raw text of the books the NER sample (\`data/ner\`) was annotated on and of the
SpamAssassin messages the spam classifier is evaluated on — never their labels. Fine-tuning results
from this checkpoint are therefore *transductive* with respect to unlabelled text (as in
task-adaptive pre-training, Gururangan et al. 2020), which the README's comparisons state.

## Reproduce

\`\`\`
apt-get install r-cran-janeaustenr bible-kjv fortunes   # the Debian text packages
npm install
npm run pretrain:release          # builds out/corpus, trains into out/pretrain-release, exports here
\`\`\`

Interrupted runs resume where they stopped (run the same command again): the trajectory is the same,
bit for bit. The command it runs:

\`\`\`
tensorgrad pretrain-mlm ${releaseArgs(cfg).join(' ')}
\`\`\`

## Licence

The weights: MIT, as tensorgrad. The corpus texts are public domain except the fortune cookies
(BSD, fortune-mod) and the SpamAssassin corpus (Apache-2.0).
`;
  writeFileSync(join(dst, 'README.md'), card);
  console.log(`exported ${dst}: cloze ${hits}/${cloze.length}, held-out accuracy ${(100 * last.accuracy).toFixed(1)} %, perplexity ${last.perplexity.toFixed(1)}`);
}
