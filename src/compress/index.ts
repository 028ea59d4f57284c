/** Model compression (issue #16): int8 dynamic quantization and magnitude pruning (distillation is F.distillationLoss). */
export { quantize, quantizedLayers, QuantizedLinear, quantizeRows, roundHalfEven, type QuantizeOptions } from './quantize.js';
export { saveQuantized, loadQuantized, quantizedSafetensorsBytes, QUANTIZATION_SCHEME } from './quantize-io.js';
export { int8Gemm, int8GemmReference, INT8_GEMM_MAX_K, int8Linear, int8LinearPath, int8LinearReference, packInt8Weight, quantizeActivations, type PackedInt8Weight } from '../backends/index.js';
export { magnitudePrune, PruningMasks, GradualPruner, cubicSparsity, gzipSizes, type PruneOptions, type LayerSparsity, type SparsitySchedule } from './prune.js';
export { headImportance, headImportanceByNorm, pruneHeadsByImportance, type HeadScore } from './heads.js';
