#!/usr/bin/env node
// Command runner for the interop tests: drives the real @mastra/memory + @mastra/pg against a
// given PostgreSQL database and prints JSON. See README.md for the request format.
//
//   node tests/interop/mastra_cli.mjs < request.json
//
// stdin:  ONE JSON request {dsn, schema?, embedderDim?, memoryOptions?, disableInit?, poolMax?, ops: [...]}
// stdout: ONE JSON document, {"results": [...], "timingsMs": [...]} (exit 0), or
//         {"error": {op, opName, message, stack, ...}, "results": [<ops done before>]} (exit 1).
// Everything else Mastra (or anything) prints goes to stderr, so stdout stays parseable.

import pg from 'pg';
import { PostgresStore, PgVector } from '@mastra/pg';
import { Memory } from '@mastra/memory';
import { createHashEmbedder, embedText, DEFAULT_DIM } from './embedder.mjs';

// ---------------------------------------------------------------------------
// stdout hygiene: keep the real writer for the final document, send the rest to stderr.
// ---------------------------------------------------------------------------
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, encoding, cb) => process.stderr.write(chunk, encoding, cb);

const DEFAULT_MEMORY_OPTIONS = {
  lastMessages: 20,
  semanticRecall: { topK: 5, messageRange: 2, scope: 'resource' },
  workingMemory: { enabled: true, scope: 'resource' },
  generateTitle: false,
};

// ---------------------------------------------------------------------------
// JSON in: dates. JSON has no Date, Mastra wants Date objects in a few places. We revive
//   - any value of the form {"$date": "<ISO string>"} anywhere in args, and
//   - ISO strings at the known date positions listed per op below (never deep inside
//     content/metadata, so message content round-trips byte for byte).
// ---------------------------------------------------------------------------
// Also resolves {"$ref": [i, "key", 0, ...]}: the value at that path in the result of op i
// (an earlier op of the same request), e.g. {"$ref": [1, "id"]} for a generated record id.
function reviveTagged(value, results = []) {
  if (Array.isArray(value)) return value.map((v) => reviveTagged(v, results));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$date') return toDate(value.$date);
    if (keys.length === 1 && keys[0] === '$ref') return resolveRef(value.$ref, results);
    return Object.fromEntries(keys.map((k) => [k, reviveTagged(value[k], results)]));
  }
  return value;
}

function resolveRef(ref, results) {
  if (!Array.isArray(ref) || !Number.isInteger(ref[0])) throw new Error(`bad $ref ${JSON.stringify(ref)}: want [opIndex, ...path]`);
  if (ref[0] < 0 || ref[0] >= results.length) throw new Error(`$ref ${JSON.stringify(ref)}: op ${ref[0]} has no result (yet)`);
  let v = results[ref[0]];
  for (const k of ref.slice(1)) {
    if (v === null || typeof v !== 'object' || !(k in v)) throw new Error(`$ref ${JSON.stringify(ref)}: no ${JSON.stringify(k)}`);
    v = v[k];
  }
  return v;
}

function toDate(v) {
  if (v instanceof Date) return v;
  if (typeof v === 'string' || typeof v === 'number') {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`invalid date: ${JSON.stringify(v)}`);
    return d;
  }
  return v;
}

/** Revive the given top-level keys of obj (if present and not null) into Dates. */
function dateKeys(obj, keys) {
  if (!obj || typeof obj !== 'object') return obj;
  const out = { ...obj };
  for (const k of keys) if (out[k] != null) out[k] = toDate(out[k]);
  return out;
}

const OM_DATE_KEYS = ['createdAt', 'updatedAt', 'lastObservedAt', 'lastReflectionAt', 'lastBufferedAtTime'];

const reviveMessages = (msgs) => (msgs ?? []).map((m) => dateKeys(m, ['createdAt']));
const reviveThread = (t) => dateKeys(t, ['createdAt', 'updatedAt']);
function reviveListFilter(filter) {
  if (!filter?.dateRange) return filter;
  return { ...filter, dateRange: dateKeys(filter.dateRange, ['start', 'end']) };
}

// ---------------------------------------------------------------------------
// JSON out: Dates -> ISO strings (Date#toJSON), undefined -> null (top level) / dropped
// (object keys), BigInt -> string, typed arrays -> arrays, Map/Set -> object/array.
// ---------------------------------------------------------------------------
function toJsonable(value, seen = new WeakSet()) {
  if (value === undefined) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return Array.from(value);
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Map) return toJsonable(Object.fromEntries(value), seen);
    if (value instanceof Set) return toJsonable([...value], seen);
    if (value instanceof Error) return errorInfo(value);
    if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonable(v, seen)) ?? null);
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const j = toJsonable(v, seen);
      if (v !== undefined && j !== undefined) out[k] = j;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function errorInfo(err) {
  if (!(err instanceof Error)) return { message: String(err) };
  const info = { name: err.name, message: err.message };
  // MastraError carries id / domain / category / details; pg errors carry code / detail.
  for (const k of ['id', 'domain', 'category', 'code', 'detail', 'details']) {
    if (err[k] !== undefined) info[k] = toJsonable(err[k]);
  }
  if (err.cause !== undefined) info.cause = err.cause instanceof Error ? errorInfo(err.cause) : toJsonable(err.cause);
  info.stack = err.stack;
  return info;
}

// ---------------------------------------------------------------------------
// Ops. Each gets (ctx, args) and returns something JSON-able.
// ---------------------------------------------------------------------------
function need(args, ...names) {
  for (const n of names) {
    if (args[n] === undefined) throw new Error(`missing argument "${n}"`);
  }
}

/** Wait for Memory's background work (vector cleanup after deleteThread / deleteMessages). */
async function settle(ctx) {
  await ctx.memory.settled();
}

function defaultIndexName(dim) {
  // Memory names its message index memory_messages for 1536 dims, memory_messages_<dim> otherwise.
  return dim === 1536 ? 'memory_messages' : `memory_messages_${dim}`;
}

const OPS = {
  // --- storage lifecycle ----------------------------------------------------------------
  async init(ctx) {
    await ctx.store.init();
    return null;
  },
  async settled(ctx) {
    await settle(ctx);
    return null;
  },

  // --- threads (Memory API) -------------------------------------------------------------
  async createThread(ctx, a) {
    need(a, 'resourceId');
    return ctx.memory.createThread(a);
  },
  async saveThread(ctx, a) {
    need(a, 'thread');
    return ctx.memory.saveThread({ thread: reviveThread(a.thread), memoryConfig: a.memoryConfig });
  },
  async getThreadById(ctx, a) {
    need(a, 'threadId');
    return ctx.memory.getThreadById(a);
  },
  async listThreads(ctx, a) {
    return ctx.memory.listThreads(a);
  },
  async updateThread(ctx, a) {
    need(a, 'id');
    return ctx.memory.updateThread(a);
  },
  async deleteThread(ctx, a) {
    need(a, 'threadId');
    await ctx.memory.deleteThread(a.threadId);
    // Vector rows of the thread are deleted in the background; wait unless told not to.
    if (a.settle !== false) await settle(ctx);
    return null;
  },
  async cloneThread(ctx, a) {
    need(a, 'sourceThreadId');
    const { memoryConfig, ...rest } = a;
    const args = { ...rest };
    if (args.options?.messageFilter) {
      args.options = {
        ...args.options,
        messageFilter: dateKeys(args.options.messageFilter, ['startDate', 'endDate']),
      };
    }
    return ctx.memory.cloneThread(args, memoryConfig);
  },

  // --- messages -------------------------------------------------------------------------
  async saveMessages(ctx, a) {
    need(a, 'messages');
    return ctx.memory.saveMessages({ messages: reviveMessages(a.messages), memoryConfig: a.memoryConfig });
  },
  async recall(ctx, a) {
    need(a, 'threadId');
    return ctx.memory.recall({ ...a, filter: reviveListFilter(a.filter) });
  },
  async updateMessages(ctx, a) {
    need(a, 'messages');
    return ctx.memory.updateMessages({ messages: a.messages, memoryConfig: a.memoryConfig });
  },
  async deleteMessages(ctx, a) {
    need(a, 'messageIds');
    await ctx.memory.deleteMessages(a.messageIds);
    if (a.settle !== false) await settle(ctx);
    return null;
  },
  // storage domain (MemoryPG), no embedding / vector side effects
  async listMessages(ctx, a) {
    need(a, 'threadId');
    return (await ctx.memStore()).listMessages({ ...a, filter: reviveListFilter(a.filter) });
  },
  async listMessagesById(ctx, a) {
    need(a, 'messageIds');
    return (await ctx.memStore()).listMessagesById(a);
  },
  async listMessagesByResourceId(ctx, a) {
    need(a, 'resourceId');
    return (await ctx.memStore()).listMessagesByResourceId({ ...a, filter: reviveListFilter(a.filter) });
  },

  // --- working memory / resources -------------------------------------------------------
  async getWorkingMemory(ctx, a) {
    need(a, 'threadId');
    return ctx.memory.getWorkingMemory(a);
  },
  async updateWorkingMemory(ctx, a) {
    need(a, 'threadId', 'workingMemory');
    await ctx.memory.updateWorkingMemory(a);
    return null;
  },
  async getWorkingMemoryTemplate(ctx, a) {
    return ctx.memory.getWorkingMemoryTemplate({ memoryConfig: a.memoryConfig });
  },
  async getResourceById(ctx, a) {
    need(a, 'resourceId');
    return (await ctx.memStore()).getResourceById(a);
  },
  async updateResource(ctx, a) {
    need(a, 'resourceId');
    return (await ctx.memStore()).updateResource(a);
  },

  // --- vectors / embedder ---------------------------------------------------------------
  async vectorQuery(ctx, a) {
    const { queryText, queryVector, ...rest } = a;
    if (queryVector === undefined && queryText === undefined) throw new Error('vectorQuery needs queryVector or queryText');
    return ctx.vector.query({
      indexName: defaultIndexName(ctx.dim),
      topK: 10,
      ...rest,
      queryVector: queryVector ?? embedText(queryText, ctx.dim),
    });
  },
  async embed(ctx, a) {
    need(a, 'texts');
    return a.texts.map((t) => embedText(t, ctx.dim));
  },
  async describeIndex(ctx, a) {
    return ctx.vector.describeIndex({ indexName: a.indexName ?? defaultIndexName(ctx.dim) });
  },
  async listIndexes(ctx) {
    return ctx.vector.listIndexes();
  },

  // --- observational memory (storage domain; no LLM involved) ---------------------------
  async getObservationalMemory(ctx, a) {
    need(a, 'resourceId');
    return (await ctx.memStore()).getObservationalMemory(a.threadId ?? null, a.resourceId);
  },
  async getObservationalMemoryHistory(ctx, a) {
    need(a, 'resourceId');
    return (await ctx.memStore()).getObservationalMemoryHistory(a.threadId ?? null, a.resourceId, a.limit, a.options);
  },
  async initializeObservationalMemory(ctx, a) {
    need(a, 'resourceId', 'scope');
    return (await ctx.memStore()).initializeObservationalMemory({ threadId: null, config: {}, ...a });
  },
  async updateActiveObservations(ctx, a) {
    // id of the record, or omit it and give threadId/resourceId to use the current generation.
    need(a, 'observations', 'tokenCount', 'lastObservedAt');
    const store = await ctx.memStore();
    const { threadId, resourceId, ...input } = a;
    if (input.id === undefined) {
      need(a, 'resourceId');
      const current = await store.getObservationalMemory(threadId ?? null, resourceId);
      if (!current) throw new Error('updateActiveObservations: no observational memory record');
      input.id = current.id;
    }
    await store.updateActiveObservations(dateKeys(input, ['lastObservedAt']));
    return null;
  },
  async createReflectionGeneration(ctx, a) {
    // currentRecord: the full record (e.g. as returned by getObservationalMemory), or omit it
    // and give threadId/resourceId to use the current generation.
    need(a, 'reflection', 'tokenCount');
    const store = await ctx.memStore();
    let currentRecord = a.currentRecord && dateKeys(a.currentRecord, OM_DATE_KEYS);
    if (!currentRecord) {
      need(a, 'resourceId');
      currentRecord = await store.getObservationalMemory(a.threadId ?? null, a.resourceId);
      if (!currentRecord) throw new Error('createReflectionGeneration: no observational memory record to reflect on');
    }
    return store.createReflectionGeneration({ currentRecord, reflection: a.reflection, tokenCount: a.tokenCount });
  },
  async clearObservationalMemory(ctx, a) {
    need(a, 'resourceId');
    await (await ctx.memStore()).clearObservationalMemory(a.threadId ?? null, a.resourceId);
    return null;
  },

  // --- escape hatches -------------------------------------------------------------------
  // {"op": "memoryCall", "args": {"method": "listClones", "args": ["thread-1"]}} -> memory.listClones("thread-1")
  async memoryCall(ctx, a) {
    need(a, 'method');
    if (typeof ctx.memory[a.method] !== 'function') throw new Error(`Memory has no method ${a.method}`);
    return ctx.memory[a.method](...(a.args ?? []));
  },
  // the same on the storage memory domain (MemoryPG)
  async storageCall(ctx, a) {
    need(a, 'method');
    const store = await ctx.memStore();
    if (typeof store[a.method] !== 'function') throw new Error(`memory storage domain has no method ${a.method}`);
    return store[a.method](...(a.args ?? []));
  },
  // Raw SQL on a separate connection. Timestamps come back as the server's text (no Date
  // conversion, so no local time zone games); bigint as string; json/jsonb parsed.
  async sql(ctx, a) {
    need(a, 'text');
    const client = await ctx.sqlClient();
    const res = await client.query(a.text, a.params ?? []);
    return a.full ? { rows: res.rows, rowCount: res.rowCount, command: res.command } : res.rows;
  },
};

const RAW_TEXT_OIDS = new Set([1082, 1083, 1114, 1184, 1266]); // date, time, timestamp, timestamptz, timetz

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------
async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

let emitted = false;
function emit(doc, code) {
  if (emitted) return;
  emitted = true;
  const text = JSON.stringify(doc) + '\n';
  process.exitCode = code;
  writeStdout(text, () => {
    // Everything is closed by now; if some stray handle keeps the loop alive, do not hang.
    setTimeout(() => process.exit(code), 3000).unref();
  });
}

async function main() {
  let request;
  try {
    request = JSON.parse(await readStdin());
  } catch (err) {
    return emit({ error: { op: null, message: `cannot parse request JSON from stdin: ${err.message}` } }, 1);
  }
  const {
    dsn,
    schema = 'public',
    embedderDim = DEFAULT_DIM,
    memoryOptions = structuredClone(DEFAULT_MEMORY_OPTIONS),
    disableInit,
    poolMax,
    ops = [],
  } = request ?? {};
  if (typeof dsn !== 'string' || !dsn) return emit({ error: { op: null, message: 'request.dsn (string) is required' } }, 1);
  if (!Array.isArray(ops)) return emit({ error: { op: null, message: 'request.ops must be an array' } }, 1);

  const common = { connectionString: dsn, schemaName: schema };
  if (poolMax) common.max = poolMax;
  if (disableInit !== undefined) common.disableInit = disableInit;
  const store = new PostgresStore({ id: 'interop-pg-store', ...common });
  const vector = new PgVector({ id: 'interop-pg-vector', ...common });
  const embedder = createHashEmbedder(embedderDim);
  let memory;
  let sqlClient = null;
  let memStorePromise = null;

  const results = [];
  const timingsMs = [];
  let failure = null;
  try {
    memory = new Memory({ storage: store, vector, embedder, options: memoryOptions });
    const ctx = {
      store,
      vector,
      memory,
      dim: embedderDim,
      memStore() {
        memStorePromise ??= store.getStore('memory').then((s) => {
          if (!s) throw new Error('PostgresStore has no memory domain');
          return s;
        });
        return memStorePromise;
      },
      async sqlClient() {
        if (!sqlClient) {
          const c = new pg.Client({
            connectionString: dsn,
            types: { getTypeParser: (oid, fmt) => (RAW_TEXT_OIDS.has(oid) ? (v) => v : pg.types.getTypeParser(oid, fmt)) },
          });
          await c.connect();
          // unqualified table names in `sql` ops resolve in the request's schema first
          await c.query(`SET search_path TO "${schema.replaceAll('"', '""')}", public`);
          sqlClient = c;
        }
        return sqlClient;
      },
    };
    for (let i = 0; i < ops.length; i++) {
      const { op, args = {}, expectError = false } = ops[i] ?? {};
      const fn = Object.hasOwn(OPS, op) ? OPS[op] : null;
      const t0 = performance.now();
      try {
        if (!fn) throw new Error(`unknown op ${JSON.stringify(op)}; known: ${Object.keys(OPS).join(', ')}`);
        const value = toJsonable(await fn(ctx, reviveTagged(args, results)));
        timingsMs.push(round(performance.now() - t0));
        if (expectError) {
          failure = { op: i, opName: op, message: `op ${i} (${op}) was expected to fail but returned`, returned: value };
          break;
        }
        results.push(value);
      } catch (err) {
        timingsMs.push(round(performance.now() - t0));
        if (expectError) {
          results.push({ error: errorInfo(err) });
          continue;
        }
        failure = { op: i, opName: op, ...errorInfo(err) };
        break;
      }
    }
  } catch (err) {
    failure = { op: null, ...errorInfo(err) };
  } finally {
    // Background vector cleanup must finish before the pools go away.
    try {
      await memory?.settled?.();
    } catch (err) {
      failure ??= { op: null, message: `memory.settled() failed: ${err.message}`, stack: err.stack };
    }
    for (const close of [() => sqlClient?.end(), () => vector.disconnect(), () => store.close()]) {
      try {
        await close();
      } catch (err) {
        process.stderr.write(`close failed: ${err.stack}\n`);
      }
    }
  }
  if (failure) return emit({ error: failure, results, timingsMs }, 1);
  return emit({ results, timingsMs }, 0);
}

function round(ms) {
  return Math.round(ms * 100) / 100;
}

// A connection that dies outside any awaited call (e.g. the server crashed) surfaces as an
// 'error' event / unhandled rejection; report it as JSON instead of a bare Node crash.
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (err) => {
    process.stderr.write(`${ev}: ${err?.stack ?? err}\n`);
    emit({ error: { op: null, event: ev, ...errorInfo(err) } }, 1);
  });
}

main().catch((err) => emit({ error: { op: null, ...errorInfo(err) } }, 1));
