"""Embedders: turn texts into unit vectors for semantic recall.

* :class:`LocalEmbedder` is the offline default: a static model distilled from
  all-MiniLM-L6-v2 (256-d), shipped in the package, run with numpy alone.
* :class:`HashEmbedder` is a deterministic bag-of-words embedder for tests of mechanics only;
  it matches the JavaScript embedder of the Mastra interop tests bit for bit.
* :class:`OpenAIEmbedder` calls OpenAI or any compatible server (extra ``openai``).
* Bring your own by satisfying :class:`Embedder` (sync) or :class:`AsyncEmbedder` (async).
"""

from ._hash import HashEmbedder
from ._local import LocalEmbedder
from ._openai import OpenAIEmbedder
from ._protocol import AsyncEmbedder, Embedder, EmbeddingMatrix

__all__ = ["AsyncEmbedder", "Embedder", "EmbeddingMatrix", "HashEmbedder", "LocalEmbedder", "OpenAIEmbedder"]

# Public classes report the package path (not the private module) in reprs, docs and pickles.
for _cls in (AsyncEmbedder, Embedder, HashEmbedder, LocalEmbedder, OpenAIEmbedder):
    _cls.__module__ = __name__
del _cls
