/**
 * The Node half of the platform split (issue #20 item 1): the Node entry (src/index.ts) imports
 * this module, which hands `node:fs` to the browser-safe core (src/core/node-fs.ts) so that the
 * core's path-taking functions (`BertTokenizer.fromVocabFile`, `loadSafetensors(path)`, …)
 * work on every supported Node without the core importing anything from Node itself.
 */
import * as fs from 'node:fs';
import { registerNodeFs, type NodeFsLike } from './core/node-fs.js';

registerNodeFs(fs as unknown as NodeFsLike);
