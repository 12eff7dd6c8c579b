"""A pure-Python BERT WordPiece tokenizer that reads a Hugging Face ``tokenizer.json``.

Why not the ``tokenizers`` wheel: the default embedder must run with numpy alone (DESIGN §6), and
``tokenizers`` drags in ``huggingface_hub`` and its HTTP stack. For the short texts a memory embeds,
this module is also faster: words repeat, so a per-word cache makes most lookups one dict hit,
while the Rust tokenizer pays a per-call conversion cost (measured on 1,000 LoCoMo turns:
~55k texts/s here against ~22k texts/s through ``tokenizers``).

It reproduces ``tokenizers``' ``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece`` with the
exact rules of the Rust code (control characters dropped, CJK ideographs split, accents stripped
after NFD, per-character lower-casing, punctuation isolated, greedy longest-match-first pieces,
over-long or unmatchable words -> ``[UNK]``, added tokens such as ``[PAD]`` matched verbatim
first). Unit tests compare it with ``tokenizers`` when that is installed. Known difference: a few
hundred code points assigned after Unicode 9 (new punctuation and marks in rare scripts) are
classified by Python's newer Unicode tables; in practice they end up as ``[UNK]`` either way.

Any other tokenizer layout (a different normalizer, pre-tokenizer or model) raises ``ValueError``;
``_local.py`` then falls back to the ``tokenizers`` wheel if it is installed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

__all__ = ["WordPieceTokenizer"]

# Unicode White_Space (what Rust's char::is_whitespace tests); str.isspace() differs (U+001C..1F).
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
)
# Ranges the Rust BertNormalizer treats as Chinese characters (padded with spaces).
_CJK_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# Categories the Rust normalizer drops as "control" (Cn, unassigned, is kept).
_DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Co", "Cs"))
# For pure-ASCII text: the control characters to drop, then words / single punctuation marks.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")
_WORD_CACHE_SIZE = 1 << 16


def _is_cjk(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _is_punct(char: str) -> bool:
    return char in _ASCII_PUNCT or unicodedata.category(char).startswith("P")


class WordPieceTokenizer:
    """Text -> token ids for a BERT-style ``tokenizer.json``; thread-safe (its only state is an lru_cache)."""

    def __init__(self, config: dict[str, Any]) -> None:
        normalizer = config.get("normalizer") or {}
        model = config.get("model") or {}
        pre_tokenizer = config.get("pre_tokenizer") or {}
        if (
            normalizer.get("type") != "BertNormalizer"
            or pre_tokenizer.get("type") != "BertPreTokenizer"
            or model.get("type") != "WordPiece"
        ):
            raise ValueError(
                "tokenizer.json is not a BertNormalizer + BertPreTokenizer + WordPiece tokenizer "
                f"(got {normalizer.get('type')!r}, {pre_tokenizer.get('type')!r}, {model.get('type')!r}); "
                "install the 'tokenizers' package to load it"
            )
        self._clean_text = bool(normalizer.get("clean_text", True))
        self._split_cjk = bool(normalizer.get("handle_chinese_chars", True))
        self._lowercase = bool(normalizer.get("lowercase", True))
        strip = normalizer.get("strip_accents")
        self._strip_accents = self._lowercase if strip is None else bool(strip)
        vocab = model.get("vocab")
        if not isinstance(vocab, dict) or not vocab:
            raise ValueError(
                "tokenizer.json: the WordPiece model has no vocabulary; point model_dir at a valid model"
            )
        self._vocab: dict[str, int] = {str(k): int(v) for k, v in vocab.items()}
        self._prefix: str = model.get("continuing_subword_prefix") or "##"
        self._max_chars = int(model.get("max_input_chars_per_word") or 100)
        unk_token = model.get("unk_token") or "[UNK]"
        if unk_token not in self._vocab:
            raise ValueError(
                f"tokenizer.json: unk_token {unk_token!r} is not in the vocabulary; rebuild the model"
            )
        self.unk_id: int = self._vocab[unk_token]
        added = {t["content"]: int(t["id"]) for t in config.get("added_tokens") or [] if t.get("content")}
        self._added = added
        self._added_re = (
            re.compile("|".join(re.escape(t) for t in sorted(added, key=len, reverse=True)))
            if added
            else None
        )
        self._pieces = lru_cache(maxsize=_WORD_CACHE_SIZE)(self._wordpiece)

    @property
    def vocab_size(self) -> int:
        return max(self._vocab.values()) + 1

    def encode(self, text: str, max_tokens: int | None = None) -> list[int]:
        """Token ids of ``text`` without special tokens and without ``[UNK]``, cut at ``max_tokens``.

        The whole text is tokenised before the cut; callers bound its length first.
        """
        pieces = self._pieces
        ids: list[int] = []
        for chunk, added_id in self._split_added(text):
            if added_id is not None:
                ids.append(added_id)
            else:
                for word in self._words(chunk):
                    ids.extend(pieces(word))
        if self.unk_id in ids:
            ids = [i for i in ids if i != self.unk_id]
        return ids if max_tokens is None else ids[:max_tokens]

    def _split_added(self, text: str) -> Iterator[tuple[str, int | None]]:
        """Added tokens (``[PAD]``, ``[UNK]``…) are matched in the raw text before normalisation."""
        if self._added_re is None or self._added_re.search(text) is None:
            yield text, None
            return
        pos = 0
        for match in self._added_re.finditer(text):
            if match.start() > pos:
                yield text[pos : match.start()], None
            yield match.group(), self._added[match.group()]
            pos = match.end()
        if pos < len(text):
            yield text[pos:], None

    def _words(self, text: str) -> list[str]:
        if text.isascii() and self._clean_text and self._lowercase:
            return _ASCII_WORDS.findall(_ASCII_CONTROL.sub("", text).lower())
        return self._pre_tokenize(self._normalize(text))

    def _normalize(self, text: str) -> str:
        chars: list[str] = []
        for char in text:
            code = ord(char)
            if self._clean_text:
                if char in "\t\n\r":
                    chars.append(" ")
                    continue
                if code == 0 or code == 0xFFFD or unicodedata.category(char) in _DROPPED_CATEGORIES:
                    continue
                if char in _WHITESPACE:
                    chars.append(" ")
                    continue
            if self._split_cjk and code >= 0x3400 and _is_cjk(code):
                chars.extend((" ", char, " "))
            else:
                chars.append(char)
        out = "".join(chars)
        if self._strip_accents:
            out = "".join(c for c in unicodedata.normalize("NFD", out) if unicodedata.category(c) != "Mn")
        if self._lowercase:
            # Rust lower-cases char by char: no final-sigma rule, so map capital sigma up front.
            out = out.replace("\u03a3", "\u03c3").lower()
        return out

    @staticmethod
    def _pre_tokenize(text: str) -> list[str]:
        words: list[str] = []
        current: list[str] = []
        for char in text:
            if char in _WHITESPACE:
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punct(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
        return words

    def _wordpiece(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first split; a word with any unmatchable part is one ``[UNK]``."""
        if len(word) > self._max_chars:
            return (self.unk_id,)
        vocab = self._vocab
        whole = vocab.get(word)
        if whole is not None:
            return (whole,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found: int | None = None
            while start < end:
                piece = word[start:end] if start == 0 else self._prefix + word[start:end]
                found = vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk_id,)
            pieces.append(found)
            start = end
        return tuple(pieces)
