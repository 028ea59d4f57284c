import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, tensor } from '../../../src/index.js';
import { GPT, GPTConfig } from '../../../src/nn/gpt.js';
import { CharGPT, CharVocab } from '../../../src/tasks/gpt-char.js';
import { isTextGenerationFolder, startLLMServer, type LLMServer } from '../../../src/serve/llm/http.js';

const vocab = new CharVocab([...'\n .abcdefghijklmnop']);
let srv: LLMServer;
let dir: string;

beforeAll(async () => {
  manualSeed(21);
  dir = join(mkdtempSync(join(tmpdir(), 'tg-llm-')), 'gpt');
  new CharGPT(new GPT(new GPTConfig({ vocabSize: vocab.size, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 16 })), vocab).save(dir);
  srv = await startLLMServer({ dir, port: 0, numBlocks: 24, maxNumSeqs: 8, scheduler: 'mlfq' });
});
afterAll(async () => {
  await srv?.close();
});

const post = async (body: unknown) => {
  const r = await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
};
const sse = (text: string) => text.split('\n\n').filter(Boolean).map((l) => {
  expect(l.startsWith('data: ')).toBe(true);
  return l.slice(6);
});
/** What GPT.generate gives the prompt with this seed (sample 0's stream). */
const reference = (prompt: string, maxTokens: number, temperature: number, seed: number) => {
  const ids = vocab.encode(prompt);
  const out = srv.engine.model.generate(tensor([ids], { dtype: 'int32' }), { maxNewTokens: maxTokens, temperature, seed });
  return vocab.decode(Array.from(out.toTypedArray()).slice(ids.length));
};
const waitIdle = async () => {
  for (let i = 0; i < 200 && srv.engine.hasUnfinished(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('POST /v1/completions (OpenAI-compatible) on the LLM engine', () => {
  it('detects GPT folders', () => {
    expect(isTextGenerationFolder(dir)).toBe(true);
    expect(isTextGenerationFolder(tmpdir())).toBe(false);
  });

  it('answers a text_completion object; sample 0 equals GPT.generate with the seed; n samples', async () => {
    const r = await post({ model: 'x', prompt: 'abc', max_tokens: 12, temperature: 0.9, seed: 7, n: 3 });
    expect(r.status).toBe(200);
    const j = JSON.parse(r.text);
    expect(j).toMatchObject({ object: 'text_completion', usage: { prompt_tokens: 3, completion_tokens: 36, total_tokens: 39 } });
    expect(j.choices).toHaveLength(3);
    expect(j.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2]);
    expect(j.choices[0]).toMatchObject({ text: reference('abc', 12, 0.9, 7), finish_reason: 'length', logprobs: null });
    for (const c of j.choices) expect(c.text).toHaveLength(12);
  });

  it('stream: true sends one SSE chunk per token and ends with data: [DONE]; the text equals the non-streamed one', async () => {
    const r = await post({ prompt: 'hello', max_tokens: 10, temperature: 0.7, seed: 3, stream: true });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/text\/event-stream/);
    const events = sse(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks).toHaveLength(10);
    expect(chunks.map((c) => c.choices[0].text.length)).toEqual(Array(10).fill(1));
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
    expect(chunks.map((c) => c.choices[0].text).join('')).toBe(reference('hello', 10, 0.7, 3));
  });

  it('stop strings cut the text (streamed and not) with finish_reason stop', async () => {
    const full = reference('ab', 30, 1, 11);
    const stop = full.slice(6, 8);
    const cut = full.slice(0, full.indexOf(stop));
    const r = JSON.parse((await post({ prompt: 'ab', max_tokens: 30, seed: 11, stop })).text);
    expect(r.choices[0]).toMatchObject({ text: cut, finish_reason: 'stop' });
    const s = sse((await post({ prompt: 'ab', max_tokens: 30, seed: 11, stop: [stop], stream: true })).text);
    expect(s.at(-1)).toBe('[DONE]');
    const parts = s.slice(0, -1).map((e) => JSON.parse(e).choices[0]);
    expect(parts.map((p) => p.text).join('')).toBe(cut);
    expect(parts.at(-1).finish_reason).toBe('stop');
    await waitIdle();
    expect(srv.engine.stats().blocksUsed).toBe(0);
  });

  it('a client that disconnects mid-stream frees its KV blocks at once; /metrics shows the engine gauges', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${srv.url}/v1/completions`, { method: 'POST' }, (res) => {
        res.once('data', () => {
          expect(srv.engine.stats().blocksUsed).toBeGreaterThan(0);
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end(JSON.stringify({ prompt: 'abc', max_tokens: 60, stream: true }));
      setTimeout(() => reject(new Error('no first chunk')), 5000);
    });
    await waitIdle();
    expect(srv.engine.stats()).toMatchObject({ blocksUsed: 0, blocksFree: 24, running: 0, waiting: 0 });
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    for (const g of ['tensorgrad_llm_kv_blocks_used 0', 'tensorgrad_llm_kv_blocks_free 24', 'tensorgrad_llm_running_requests 0', 'tensorgrad_llm_waiting_requests 0', 'tensorgrad_llm_preemptions', 'tensorgrad_llm_tokens_per_second', 'tensorgrad_llm_client_disconnects_total 1']) {
      expect(m).toContain(g);
    }
  });

  it('errors name the field (OpenAI error object)', async () => {
    const cases: [unknown, number, string | null][] = [
      [{ prompt: 'a', temperature: 3 }, 422, 'temperature'],
      [{ prompt: 'a', logprobs: 2 }, 422, 'logprobs'],
      [{ prompt: 'aZ' }, 422, 'prompt'],
      [{ prompt: 'a', max_tokens: 100 }, 422, 'max_tokens'],
      [{ prompt: 'a', n: 0 }, 422, 'n'],
      [{ prompt: 'a', stop: [''] }, 422, 'stop'],
    ];
    for (const [body, status, param] of cases) {
      const r = await post(body);
      expect(r.status).toBe(status);
      expect(JSON.parse(r.text).error.param).toBe(param);
    }
    const bad = await fetch(`${srv.url}/v1/completions`, { method: 'POST', body: '{' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${srv.url}/v1/nope`)).status).toBe(404);
  });

  it('soak: 240 concurrent mixed streaming / non-streaming requests with random disconnects — nothing lost, every block back, RSS bounded', async () => {
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const one = async (i: number): Promise<'ok' | 'gone'> => {
      const maxTokens = 1 + Math.floor(rnd() * 20);
      const stream = rnd() < 0.5;
      const disconnect = rnd() < 0.15;
      const body = JSON.stringify({ prompt: 'ab'.repeat(1 + (i % 5)), max_tokens: maxTokens, seed: i, stream, n: i % 7 === 0 ? 2 : 1 });
      if (disconnect) {
        const ctl = new AbortController();
        const p = fetch(`${srv.url}/v1/completions`, { method: 'POST', body, signal: ctl.signal }).then((r) => r.text()).catch(() => '');
        setTimeout(() => ctl.abort(), Math.floor(rnd() * 20));
        await p;
        return 'gone';
      }
      const r = await post(JSON.parse(body));
      expect(r.status).toBe(200);
      if (stream) {
        const ev = sse(r.text);
        expect(ev.at(-1)).toBe('[DONE]');
        expect(ev.length - 1).toBe(maxTokens * (i % 7 === 0 ? 2 : 1));
      } else {
        for (const c of JSON.parse(r.text).choices) expect(c.text).toHaveLength(maxTokens);
      }
      return 'ok';
    };
    const results: string[] = [];
    // Memory after 2 warm-up waves vs after the last: the engine allocates its KV pool up front and
    // keeps no per-request state once a request ends. The leak detector is the V8 heap after a full
    // collection (±10 %); RSS also counts code compiled and allocator arenas that the first few
    // hundred requests still grow (measured in a child process over 960 requests: 118 → 140 MiB by
    // request 480, then flat), so its bound here is looser; the ≤ 10 % RSS bound of the issue is
    // the load test's soak (LOADTEST_ONLY=llm-soak), after a longer warm-up.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const memory = async () => {
      await waitIdle();
      gc();
      return process.memoryUsage();
    };
    let warm: NodeJS.MemoryUsage | null = null;
    const WAVES = 6;
    for (let wave = 0; wave < WAVES; wave++) {
      results.push(...(await Promise.all(Array.from({ length: 40 }, (_, k) => one(wave * 40 + k)))));
      if (wave === 1) warm = await memory();
    }
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThan(150);
    await waitIdle();
    // every KV block back in the pool, no request left in the engine
    expect(srv.engine.stats()).toMatchObject({ blocksUsed: 0, blocksFree: 24, running: 0, waiting: 0 });
    expect(srv.engine.cache.numUsed).toBe(0);
    const end = await memory();
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(`llm soak: ${results.length} requests (${results.filter((r) => r === 'gone').length} disconnected); after warm-up: heap ${mib(warm!.heapUsed)} → ${mib(end.heapUsed)} MiB, RSS ${mib(warm!.rss)} → ${mib(end.rss)} MiB`);
    expect(end.heapUsed / warm!.heapUsed).toBeLessThanOrEqual(1.1);
    expect(end.rss / warm!.rss).toBeLessThanOrEqual(1.3);
  }, 90_000);
});
