/** The LLM generation engine (issue #18): paged KV cache, schedulers, model runner, engine. */
export { PagedKVCache, BlockTable, PoolExhaustedError, pagedAttention, type PagedKVCacheOptions } from './kv-cache.js';
export { FCFSScheduler, MLFQScheduler, type Scheduler, type SchedRequest, type MLFQOptions } from './scheduler.js';
export { GPTRunner, type RunChunk } from './runner.js';
export { sampleToken, sampleGenerator, type SamplingOptions } from './sampling.js';
export { LLMEngine, type EngineOptions, type GenerationParams, type TokenEvent, type FinishReason, type EngineStats } from './engine.js';
export { startLLMServer, isTextGenerationFolder, parseCompletion, type LLMServeOptions, type LLMServer } from './http.js';
