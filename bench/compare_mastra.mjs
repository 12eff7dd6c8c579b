// The Mastra peer of bench/compare.py: the real @mastra/memory + @mastra/pg, driven over stdin.
//
//   node bench/compare_mastra.mjs <dir holding node_modules>     (bench/compare.py starts it)
//
// One JSON command per stdin line, one JSON reply per stdout line, so compare.py can interleave
// Mastra with the Python peers in rounds. Latencies are taken here with performance.now(), around
// the awaited Mastra call only, so the pipe between the processes is not timed. Commands:
//   {"cmd": "open", "name", "url", "semantic": bool}   a PostgresStore (+ PgVector) and a Memory
//   {"cmd": "createThreads", "name", "threads": [{"threadId", "resourceId"}]}
//   {"cmd": "save", "name", "batches": [[message, ...], ...]}          -> {"ms": [...]} per batch
//   {"cmd": "recall", "name", "calls": [{threadId, resourceId, ...}]}  -> {"ms": [...], "returned": n}
//   {"cmd": "close", "name"}
// Messages use Mastra's shape; createdAt is an ISO string, made a Date here.
// The packages are imported from the given folder's node_modules (tests/interop's by default), the
// same pinned versions the interop tests run.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? join(import.meta.dirname ?? '.', '..', 'tests', 'interop'));

// Everything Mastra logs goes to stderr; stdout carries only the replies.
const reply = process.stdout.write.bind(process.stdout);
console.log = (...args) => console.error(...args);

/** The ESM entry of an installed package (its "exports" import condition, else "main"). */
function entry(pkg) {
  const dir = join(root, 'node_modules', pkg);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const dot = meta.exports?.['.'];
  const file = (typeof dot?.import === 'string' ? dot.import : dot?.import?.default) ?? meta.main ?? 'index.js';
  return { url: pathToFileURL(join(dir, file)).href, version: meta.version };
}

const pkgs = Object.fromEntries(['@mastra/core', '@mastra/memory', '@mastra/pg'].map((p) => [p, entry(p)]));
const { Memory } = await import(pkgs['@mastra/memory'].url);
const { PostgresStore, PgVector } = await import(pkgs['@mastra/pg'].url);
const pg = (await import(entry('pg').url)).default;
let queries = 0; // pg.Client#query calls, as Mastra's peer bench counts them: a cross-check of the proxy
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  queries++;
  return query.apply(this, args);
};
const { createHashEmbedder } = await import(pathToFileURL(join(root, 'embedder.mjs')).href);

const stacks = new Map();

async function open({ name, url, semantic }) {
  const storage = new PostgresStore({ id: `cmp-${name}`, connectionString: url });
  await storage.init();
  const options = {
    lastMessages: 20,
    semanticRecall: semantic ? { topK: 5, messageRange: 2, scope: 'resource' } : false,
    generateTitle: false,
  };
  let vector;
  let embedder;
  if (semantic) {
    vector = new PgVector({ id: `cmp-${name}-vec`, connectionString: url });
    embedder = createHashEmbedder(384); // the JS twin of mastra_memory.embedding.HashEmbedder
  }
  stacks.set(name, { storage, vector, memory: new Memory({ storage, vector, embedder, options }) });
  return { versions: Object.fromEntries(Object.entries(pkgs).map(([p, e]) => [p, e.version])), node: process.version };
}

const toMastra = (m) => ({ ...m, createdAt: new Date(m.createdAt) });

const handlers = {
  open,
  async createThreads({ name, threads }) {
    const { memory } = stacks.get(name);
    for (const t of threads) await memory.createThread({ ...t, title: t.threadId });
    return {};
  },
  async save({ name, batches }) {
    const { memory } = stacks.get(name);
    const ms = [];
    for (const batch of batches) {
      const messages = batch.map(toMastra);
      const t = performance.now();
      await memory.saveMessages({ messages });
      ms.push(performance.now() - t);
    }
    return { ms };
  },
  async recall({ name, calls }) {
    const { memory } = stacks.get(name);
    const ms = [];
    let returned = 0;
    for (const call of calls) {
      const t = performance.now();
      const result = await memory.recall(call);
      ms.push(performance.now() - t);
      returned += result.messages.length;
    }
    return { ms, returned };
  },
  async close({ name }) {
    const { storage, vector, memory } = stacks.get(name);
    stacks.delete(name);
    await memory.settled?.();
    await vector?.disconnect?.();
    await storage.close?.();
    return {};
  },
};

// One command at a time, in order: the next line is read only after the reply is written.
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let out;
  try {
    const command = JSON.parse(line);
    const before = queries;
    out = { ok: true, ...(await handlers[command.cmd](command)) };
    out.queries = queries - before;
  } catch (err) {
    out = { ok: false, error: String(err?.stack ?? err) };
  }
  reply(`${JSON.stringify(out)}\n`);
}
for (const name of [...stacks.keys()]) await handlers.close({ name });
process.exit(0); // pools may keep timers alive; stdin closed means we are done
