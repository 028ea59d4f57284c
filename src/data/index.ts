/**
 * tensorgrad/data — from raw text to batches and back: the WordPiece tokenizer, safetensors,
 * CoNLL-2003 NER data, text-classification corpora, DataLoader and evaluation metrics.
 */
export { BertTokenizer, TokenizerError } from './tokenizer.js';
export type { BertTokenizerOptions, EncodeOptions, Encoding, DecodeOptions, TruncationStrategy } from './tokenizer.js';
export { loadSafetensors, loadSafetensorsWithMetadata, saveSafetensors, safetensorsBytes, SafetensorsError } from './safetensors.js';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile, openSafetensorsFile } from './safetensors-format.js';
export type { SafetensorsFile, SafetensorsTensorInfo } from './safetensors-format.js';
export type { RawTensor, SafetensorsDType } from './safetensors-format.js';
export { parseConll, readConll, readConllSplits, iob1ToIob2, detectTagScheme, LabelMap, alignLabels, ConllError } from './conll.js';
export type { ConllSentence, ConllSplits, TagScheme } from './conll.js';
export { loadSpamAssassin, loadTextClassification, parseCsv, trainTestSplit, TextDatasetError } from './text-classification.js';
export { DataLoader, ArrayDataset, padCollate } from './dataloader.js';
export type { Dataset, DataLoaderOptions, SequenceExample } from './dataloader.js';
export { accuracy, confusionMatrix, classificationReport, getEntities, entityReport, entityF1, MetricsError } from './metrics.js';
export type { ClassificationReport, EntityReport, Entity } from './metrics.js';
