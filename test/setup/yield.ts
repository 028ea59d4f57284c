/**
 * After every test, one turn of the event loop (a macrotask, not a microtask). Synchronous tests
 * run back to back would otherwise keep vitest's worker from reading its RPC replies for as long
 * as a whole file takes — on a fresh CI machine, where Mesa compiles every WebGL shader for the
 * first time, the GPU files run ~80 s — and the worker then reports
 * `Timeout calling "onTaskUpdate"` (an unhandled error that fails the run) although every test passed.
 */
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
