"""Token counts for context budgets, with the WordPiece tokenizer shipped for the local embedder.

No download at run time (tiktoken fetches its vocabularies from the network). BERT WordPiece
counts land within a few percent of GPT tokenizers on English prose, which is what a budget needs.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import orjson

from .embedding._tokenizer import WordPieceTokenizer

_TOKENIZER_FILE = Path(__file__).resolve().parent / "embedding" / "_model" / "tokenizer.json"
_lock = threading.Lock()


@cache
def _tokenizer() -> WordPieceTokenizer:
    with _lock:
        return WordPieceTokenizer(orjson.loads(_TOKENIZER_FILE.read_bytes()))


def count_tokens(text: str) -> int:
    """Tokens in ``text`` (WordPiece, uncased, no special tokens)."""
    return len(_tokenizer().encode(text)) if text else 0
