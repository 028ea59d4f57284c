/**
 * The short soak of issue #17 (the long one is `npm run loadtest`, section soak): `tensorgrad
 * serve` on a tiny NER model in a child process, ~10 s of mixed good and bad requests from 8
 * concurrent clients. Every good request gets exactly the one-at-a-time answer, every bad one
 * its status code, nothing is lost, and the server's RSS after warm-up grows ≤ 10 %.
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

it('soak: thousands of mixed requests, every good one answered correctly, nothing lost, RSS flat', async () => {
  const ner = pipeline('token-classification', d.ner, { aggregationStrategy: 'first' });
  const texts = ['Captain Ahab sailed from Nantucket to New York.', 'call me ishmael', 'the white whale', 'Starbuck went to the harbor in Boston!',
    'see you at lunch', 'the sea, the sea', 'a whale', 'Queequeg and Ahab on the Pequod', 'hello world', 'it was not a good ship'];
  const good = texts.map((text) => ({ text, expected: JSON.stringify(ner(text)) }));
  const longText = 'the white whale '.repeat(12);
  const long = { text: longText, truncated: JSON.stringify(ner(longText, { truncation: true })) };
  let warmRss = NaN;
  const REQUESTS = 2500;
  const res = await soak(srv!.url, '/v1/ner', {
    good, long, maxBodyBytes: 16384, requests: REQUESTS, concurrency: 8, maxMs: 12_000,
    onProgress: async (n) => {
      if (n === 400) warmRss = await serverRss(srv!.url);
    },
  });
  const endRss = await serverRss(srv!.url);
  console.log(`soak: ${res.sent} requests in ${res.seconds.toFixed(1)} s, ${res.aborted} aborted by the client, kinds ${JSON.stringify(res.byKind)}; ` +
    `RSS ${(warmRss / 2 ** 20).toFixed(1)} → ${(endRss / 2 ** 20).toFixed(1)} MiB`);
  expect(res.wrongExamples).toEqual([]);
  expect(res.wrong).toBe(0);
  expect(res.sent).toBeGreaterThan(1000);
  expect(res.answered + res.aborted).toBe(res.sent); // nothing lost
  expect(res.byKind.good! + res.byKind['good-batch']!).toBeGreaterThan(400);
  expect(endRss / warmRss).toBeLessThanOrEqual(1.1);
  // the server is still healthy and drains cleanly
  const h = await fetch(srv!.url + '/health');
  expect(h.status).toBe(200);
  const code = await srv!.stop();
  srv = null;
  expect(code).toBe(0);
}, 60_000);
