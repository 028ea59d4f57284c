/**
 * tensorgrad/data — from raw text to batches and back: the WordPiece tokenizer, safetensors,
 * CoNLL-2003 NER data, text-classification corpora, DataLoader and evaluation metrics.
 */
export { BertTokenizer, TokenizerError } from './tokenizer/index.js';
export type { BertTokenizerOptions, EncodeOptions, Encoding, DecodeOptions, TruncationStrategy } from './tokenizer/index.js';
export { loadSafetensors, loadSafetensorsWithMetadata, saveSafetensors, safetensorsBytes, SafetensorsError } from './safetensors.js';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile, openSafetensorsFile } from './safetensors-format.js';
export type { SafetensorsFile, SafetensorsTensorInfo } from './safetensors-format.js';
export type { RawTensor, SafetensorsDType } from './safetensors-format.js';
export { parseConll, readConll, readConllSplits, iob1ToIob2, detectTagScheme, LabelMap, alignLabels, ConllError } from './conll.js';
export type { ConllSentence, ConllSplits, TagScheme } from './conll.js';
export { TextDatasetError } from './formats/errors.js';
export type { TextExample, SpamLabel } from './formats/errors.js';
export { emailToText } from './formats/email.js';
export type { EmailToTextOptions } from './formats/email.js';
export { parseCsv } from './formats/delimited.js';
export type { ParseCsvOptions } from './formats/delimited.js';
export { loadSpamAssassin, SPAM_ASSASSIN_GROUPS } from './datasets/spam-assassin.js';
export type { LoadSpamAssassinOptions } from './datasets/spam-assassin.js';
export { loadTextClassification, trainTestSplit } from './datasets/text-classification.js';
export { loadMobyDick } from './datasets/moby-dick.js';
export { DatasetPackageMissingError, DATASET_PACKAGES, datasetPackageDir, installCommand } from './datasets/packages.js';
export type { DatasetPackage } from './datasets/packages.js';
export type { LoadMobyDickOptions } from './datasets/moby-dick.js';
export { loadNerSample, NER_SAMPLE_DIR } from './datasets/ner-sample.js';
export type { LoadTextClassificationOptions, TrainTestSplitOptions } from './datasets/text-classification.js';
export { DataLoader, ArrayDataset, padCollate } from './dataloader.js';
export type { Dataset, DataLoaderOptions, SequenceExample } from './dataloader.js';
export { accuracy, confusionMatrix, classificationReport, getEntities, entityReport, entityF1, MetricsError } from './metrics/index.js';
export type { ClassificationReport, EntityReport, Entity } from './metrics/index.js';
