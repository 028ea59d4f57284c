/** The inference server's parts: `startServer`, the metrics registry, the dynamic batcher; `llm`: the LLM generation engine (issue #18). */
export { startServer, type ServeOptions, type InferenceServer } from './server.js';
export { MetricsRegistry, Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE, type Labels } from './metrics.js';
export { DynamicBatcher, QueueFullError, splitByLength, type BatcherOptions, type Job } from './batcher.js';
export * as llm from './llm/index.js';
