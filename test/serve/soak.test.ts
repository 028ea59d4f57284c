/**
 * The short soak of issue #17 (the long one is `npm run loadtest`, section soak): `tensorgrad
 * serve` on a tiny NER model in a child process, ~10 s of mixed good and bad requests from 8
 * concurrent clients. Every good request gets exactly the one-at-a-time answer, every bad one
 * its status code, nothing is lost, and the server's RSS after warm-up stays within 25 % (the
 * 10 % bound of the issue is the load test's, on the demo model).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pipeline } from '../../src/pipelines/index.js';
import { serverRss, soak, startServeProcess, type ServeProcess } from '../../loadtest/lib.js';
import { makeTinyFolders } from '../pipelines/tiny.js';

let srv: ServeProcess | null = null;
let d: ReturnType<typeof makeTinyFolders>;
beforeAll(async () => {
  d = makeTinyFolders();
  srv = await startServeProcess(d.ner, ['--max-body-bytes', '16384', '--max-wait-ms', '2', '--max-queue', '512']);
});
afterAll(async () => {
  if (srv) await srv.stop();
});

it('soak: thousands of mixed requests, every good one answered correctly, nothing lost, RSS bounded', async () => {
  const ner = pipeline('token-classification', d.ner, { aggregationStrategy: 'first' });
  const texts = ['Captain Ahab sailed from Nantucket to New York.', 'call me ishmael', 'the white whale', 'Starbuck went to the harbor in Boston!',
    'see you at lunch', 'the sea, the sea', 'a whale', 'Queequeg and Ahab on the Pequod', 'hello world', 'it was not a good ship'];
  const good = texts.map((text) => ({ text, expected: JSON.stringify(ner(text)) }));
  const longText = 'the white whale '.repeat(12);
  const long = { text: longText, truncated: JSON.stringify(ner(longText, { truncation: true })) };
  // RSS sampled every 100 requests after a warm-up of 800; growth = median of the last three
  // samples over the median of the first three (single samples jump with the garbage collector)
  const rss: number[] = [];
  const REQUESTS = 2500;
  const res = await soak(srv!.url, '/v1/ner', {
    good, long, maxBodyBytes: 16384, requests: REQUESTS, concurrency: 8, maxMs: 40_000, // a bound, not a speed claim: 2,500 requests take ~10 s on an idle 2-core machine
    onProgress: async (n) => {
      if (n >= 800 && n % 100 === 0) rss.push(await serverRss(srv!.url));
    },
  });
  rss.push(await serverRss(srv!.url));
  const median3 = (a: number[]) => [...a].sort((x, y) => x - y)[1]!;
  const warmRss = median3(rss.slice(0, 3));
  const endRss = median3(rss.slice(-3));
  console.log(`soak: ${res.sent} requests in ${res.seconds.toFixed(1)} s, ${res.aborted} aborted by the client, kinds ${JSON.stringify(res.byKind)}; ` +
    `RSS ${(warmRss / 2 ** 20).toFixed(1)} → ${(endRss / 2 ** 20).toFixed(1)} MiB`);
  expect(res.wrongExamples).toEqual([]);
  expect(res.wrong).toBe(0);
  expect(res.sent).toBeGreaterThan(1000);
  expect(res.answered + res.aborted).toBe(res.sent); // nothing lost
  expect(res.byKind.good! + res.byKind['good-batch']!).toBeGreaterThan(400);
  expect(rss.length).toBeGreaterThanOrEqual(6);
  // The bound (≤ 10 % after warm-up) is checked by the load test's soak (the demo model,
  // ~5000 requests: −3.9 %, loadtest/results.md). This short run on a tiny model is a guard
  // against per-request leaks of the kind a full buffer pool caused (+54 %): on the tiny model
  // the server's RSS still creeps up ~1 MiB per 400 requests over 8000 (the HTTP thread's heap
  // from ~13 to ~31 MiB), an open item.
  expect(endRss / warmRss).toBeLessThanOrEqual(1.25);
  // the server is still healthy and drains cleanly
  const h = await fetch(srv!.url + '/health');
  expect(h.status).toBe(200);
  const code = await srv!.stop();
  srv = null;
  expect(code).toBe(0);
}, 90_000);
