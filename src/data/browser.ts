/**
 * tensorgrad/data for the browser entry (src/browser.ts): the parts of src/data/index.ts that
 * import nothing from Node — the WordPiece tokenizer (`fromVocab` / `fromVocabText`), safetensors
 * from and to bytes, the DataLoader, CSV and e-mail text formats and the metrics. The readers of
 * files and folders (CoNLL, the datasets) are in the Node entry only.
 */
export { BertTokenizer, TokenizerError } from './tokenizer/index.js';
export type { BertTokenizerOptions, EncodeOptions, Encoding, DecodeOptions, TruncationStrategy } from './tokenizer/index.js';
export { loadSafetensors, loadSafetensorsWithMetadata, safetensorsBytes, SafetensorsError } from './safetensors.js';
export { parseSafetensors, serializeSafetensors } from './safetensors-format.js';
export type { RawTensor, SafetensorsDType } from './safetensors-format.js';
export { TextDatasetError } from './formats/errors.js';
export type { TextExample, SpamLabel } from './formats/errors.js';
export { emailToText } from './formats/email.js';
export type { EmailToTextOptions } from './formats/email.js';
export { parseCsv } from './formats/delimited.js';
export type { ParseCsvOptions } from './formats/delimited.js';
export { DataLoader, ArrayDataset, padCollate } from './dataloader.js';
export type { Dataset, DataLoaderOptions, SequenceExample } from './dataloader.js';
export { accuracy, confusionMatrix, classificationReport, getEntities, entityReport, entityF1, MetricsError } from './metrics/index.js';
export type { ClassificationReport, EntityReport, Entity } from './metrics/index.js';
