/**
 * tensorgrad.nn — modules, layers, functional ops, losses and the BERT family.
 */
export { Module, Parameter, StateDictError } from './module.js';
export type { StateDict, LoadStateDictResult, ForwardHook } from './module.js';
export { Conv1d, MaxPool1d, AvgPool1d } from './conv.js';
export {
  Linear, Embedding, LayerNorm, Dropout, GELU, ReLU, Tanh, Sequential, ModuleList, MultiheadAttention,
  TransformerEncoderLayer, TransformerEncoder,
} from './layers.js';
export type { FactoryOptions, TransformerEncoderLayerOptions, UnaryModule } from './layers.js';
export * as functional from './functional.js';
export * as init from './init.js';
export {
  BertConfig, BertModel, BertForTokenClassification, BertForSequenceClassification, BertForMaskedLM, BertLayer,
  BertEmbeddings, BertEncoder, BertPooler, BertSelfAttention, BertPreTrainedModel, extendedAttentionMask, PackedBatch,
} from './bert.js';
export type { HFBertConfig, BertInputs, ModelOutput, HiddenAct, AttentionMaskArg } from './bert.js';
export { GPT, GPTConfig, GPTTransformer, Block as GPTBlock, CausalSelfAttention, MLP as GPTMLP, KVCache } from './gpt.js';
export type { GPTOptions, GPTOutput, GenerateOptions, LayerKV } from './gpt.js';
