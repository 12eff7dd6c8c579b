// Deterministic local embedding model for the interop tests (no network, no weights).
//
// PYTHON TWIN: core/mastra_memory/embedding/_hash.py implements exactly this algorithm and
// must give bit-identical vectors. Do NOT change the algorithm here without changing it
// there too (and vice versa); tests compare the two.
//
// Algorithm ("hashed bag of words"), dimension `dim` (384 by default):
//   1. text -> String(text).toLowerCase()
//   2. tokens = every maximal match of /[a-z0-9]+/ (so tokens are pure ASCII)
//   3. for each token: h = 32-bit FNV-1a over its characters (offset basis 0x811c9dc5,
//      prime 0x01000193, arithmetic mod 2^32); v[h % dim] += (h & 0x80000000) ? -1 : +1
//   4. if v is all zeros (no tokens), v = e_0 (a zero vector would make cosine distance NaN)
//   5. L2-normalise (float64 throughout)
//
// The model object has the AI SDK v5 `EmbeddingModelV2<string>` shape
// (specificationVersion 'v2', provider, modelId, maxEmbeddingsPerCall, supportsParallelCalls,
// doEmbed({values}) -> {embeddings, usage}), which @mastra/core accepts as an embedder.

export const DEFAULT_DIM = 384;

const TOKEN_RE = /[a-z0-9]+/g;

/** 32-bit FNV-1a of a string's UTF-16 code units (tokens are ASCII, so = code points). */
export function fnv1a32(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function tokenize(text) {
  return String(text).toLowerCase().match(TOKEN_RE) ?? [];
}

/** One text -> plain Array of `dim` numbers, unit L2 norm. */
export function embedText(text, dim = DEFAULT_DIM) {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`bad embedding dimension ${dim}`);
  const v = new Float64Array(dim);
  for (const token of tokenize(text)) {
    const h = fnv1a32(token);
    v[h % dim] += h & 0x80000000 ? -1 : 1;
  }
  let sumSq = 0;
  for (let i = 0; i < dim; i++) sumSq += v[i] * v[i];
  if (sumSq === 0) {
    v[0] = 1;
    sumSq = 1;
  }
  const norm = Math.sqrt(sumSq);
  return Array.from(v, (x) => x / norm);
}

/** Embedding model object for `new Memory({ embedder })`. `stats` counts doEmbed calls. */
export function createHashEmbedder(dim = DEFAULT_DIM) {
  const stats = { calls: 0, values: 0 };
  return {
    specificationVersion: 'v2',
    provider: 'mastra-memory-interop',
    modelId: `hashed-bow-${dim}`,
    maxEmbeddingsPerCall: 2048,
    supportsParallelCalls: true,
    stats,
    async doEmbed({ values }) {
      stats.calls += 1;
      stats.values += values.length;
      const embeddings = values.map((t) => embedText(t, dim));
      const tokens = values.reduce((n, t) => n + tokenize(t).length, 0);
      return { embeddings, usage: { tokens } };
    },
  };
}
