/**
 * The workflows, each on the shared training loop (src/train/loop.ts): NER fine-tuning,
 * sentence classification, masked-LM pre-training and a character-level GPT.
 */
export { trainNer, evaluateNer, encodeNerSentences } from './ner.js';
export type { NerTrainOptions, NerTrainResult, NerEvaluation, NerExample } from './ner.js';
export { trainClassifier, evaluateClassifier, encodeTexts, loadInit, loadEncoderWeights, ClassifierError } from './classify.js';
export type { ClassifierTrainOptions, ClassifierTrainResult, ClassifierEvaluation, ClassifierExample, InitCheckpoint } from './classify.js';
export { pretrainMlm, saveMlm, loadMobyDick, splitSentences, chunkText, buildCompactVocab, expandToBaseVocab, maskTokens, mlmLoss, isModelFolder, clozeTest, MLM_PROBABILITY } from './mlm.js';
export { pretrainedPath, PRETRAINED_NAME } from './pretrained.js';
export type { MlmTrainOptions, MlmTrainResult, MlmEvaluation, MlmBatch, MaskingOptions, CompactVocab, CompactVocabOptions, ClozeItem, ClozeResult, LoadMobyDickOptions } from './mlm.js';
export { trainCharGPT, CharGPT, CharVocab, CharGPTError } from './gpt-char.js';
export type { CharGPTTrainOptions, CharGPTTrainResult, SampleOptions, CharGPTConfigJSON } from './gpt-char.js';
export { distill, teacherLayerIndices, studentStateFromTeacher, DistillError } from './distill.js';
export type { DistillOptions, DistillResult, DistillScore } from './distill.js';
