"""Reading static-embedding model directories with numpy alone (no safetensors, no model2vec).

Two layouts are accepted, so ``LocalEmbedder(model_dir=...)`` can also run other static models:

* ours, written by ``scripts/build_local_embedder.py``: ``manifest.json`` + ``embeddings.npy``
  (float16 token table) + ``tokenizer.json``;
* model2vec's ``save_pretrained`` output: ``model.safetensors`` (tensors ``embeddings`` and,
  for vocabulary-quantised models, ``weights`` and ``mapping``) + ``tokenizer.json``.

Every problem with the files surfaces as ``ValueError`` naming the file and what to do.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._tokenizer import WordPieceTokenizer

__all__ = ["StaticModel", "empty_text_vector", "load_model", "read_safetensors"]

_SAFETENSORS_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I32": "<i4", "I64": "<i8"}

Encode = Callable[[str, int], list[int]]


@dataclass
class StaticModel:
    """A loaded model: the token table plus what maps text to rows of it."""

    model_id: str
    matrix: npt.NDArray[np.float32]  # (rows, dim); float32 in memory (float16 sums are ~4x slower)
    encode: Encode  # text, max_tokens -> token ids, [UNK] already dropped
    weights: npt.NDArray[np.float32] | None = None  # per-token-id scale (model2vec vocabulary quantisation)
    mapping: npt.NDArray[np.intp] | None = None  # token id -> matrix row (model2vec vocabulary quantisation)
    empty: npt.NDArray[np.float32] = field(init=False)  # vector for texts without known tokens

    def __post_init__(self) -> None:
        self.empty = empty_text_vector(self.dimension)

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])


def empty_text_vector(dimension: int) -> npt.NDArray[np.float32]:
    """The vector for a text with no known tokens ("", whitespace, emoji only…).

    A zero vector would make cosine distance NaN, and a basis vector would be close to whatever the
    first principal component encodes. Instead: a fixed ±1/√d sign pattern taken from SHA-256, the
    same on every machine; its cosine with real text vectors is near 0 (|cos| < 0.25 on LoCoMo), so
    empty texts neither attract nor repel results. All such texts share this one vector.
    """
    bits = bytearray()
    counter = 0
    while len(bits) * 8 < dimension:
        bits += hashlib.sha256(f"mastra-memory/empty-text/{counter}".encode()).digest()
        counter += 1
    signs = np.unpackbits(np.frombuffer(bytes(bits), dtype=np.uint8))[:dimension].astype(np.float32)
    vector: npt.NDArray[np.float32] = ((1.0 - 2.0 * signs) / np.sqrt(dimension)).astype(np.float32)
    return vector


def load_model(directory: Path) -> StaticModel:
    """Load either layout; raises ``ValueError`` when ``directory`` holds neither."""
    if (directory / "manifest.json").is_file():
        return _load_manifest_dir(directory)
    if (directory / "model.safetensors").is_file() and (directory / "tokenizer.json").is_file():
        return _load_model2vec_dir(directory)
    raise ValueError(
        f"{directory} is not a model directory: expected manifest.json + embeddings.npy + tokenizer.json "
        "(written by scripts/build_local_embedder.py) or a model2vec directory with model.safetensors + "
        "tokenizer.json; rebuild it or pass the right model_dir"
    )


def _load_manifest_dir(directory: Path) -> StaticModel:
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        weights_path = directory / manifest["weights_file"]
        tokenizer_path = directory / manifest["tokenizer_file"]
        matrix = np.load(weights_path, allow_pickle=False)
        model_id = str(manifest["model_id"])
        dimension = int(manifest["dimension"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"cannot load the embedder model in {directory} ({exc}); reinstall mastra-memory or rerun "
            "scripts/build_local_embedder.py"
        ) from exc
    if matrix.ndim != 2 or matrix.shape[1] != dimension:
        raise ValueError(
            f"{weights_path} has shape {matrix.shape}, manifest says dimension {dimension}; rebuild it"
        )
    encode = _make_encoder(tokenizer_path, int(matrix.shape[0]))
    return StaticModel(model_id, matrix.astype(np.float32), encode)


def _load_model2vec_dir(directory: Path) -> StaticModel:
    tensors = read_safetensors(directory / "model.safetensors")
    matrix = tensors.get("embeddings")
    if matrix is None or matrix.ndim != 2:
        raise ValueError(
            f"{directory / 'model.safetensors'} has no 2-D 'embeddings' tensor; is it a model2vec model?"
        )
    mapping = tensors.get("mapping")
    weights = tensors.get("weights")
    rows = int(mapping.shape[0]) if mapping is not None else int(matrix.shape[0])
    return StaticModel(
        model_id=f"model2vec/{directory.name}",
        matrix=matrix.astype(np.float32),
        encode=_make_encoder(directory / "tokenizer.json", rows),
        weights=None if weights is None else weights.astype(np.float32).reshape(-1),
        mapping=None if mapping is None else mapping.astype(np.intp).reshape(-1),
    )


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Read a ``.safetensors`` file with numpy alone (8-byte header length, JSON header, raw data).

    Raises:
        ValueError: the file is missing, truncated, or uses a dtype we do not read.
    """
    try:
        data = path.read_bytes()
        (header_len,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + header_len])
        base = 8 + header_len
        out: dict[str, npt.NDArray[Any]] = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
            if dtype is None:
                raise ValueError(
                    f"tensor {name!r} has dtype {info['dtype']}, not one of {sorted(_SAFETENSORS_DTYPES)}"
                )
            begin, end = info["data_offsets"]
            out[name] = np.frombuffer(data[base + begin : base + end], dtype=dtype).reshape(info["shape"])
        return out
    except (OSError, struct.error, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"cannot read {path} ({exc}); point model_dir at a valid model2vec model") from exc


def _make_encoder(tokenizer_path: Path, rows: int) -> Encode:
    """Our pure-Python WordPiece when the tokenizer is BERT-style, else the ``tokenizers`` wheel."""
    config = _read_json(tokenizer_path)
    try:
        tokenizer = WordPieceTokenizer(config)
    except ValueError:
        return _hf_encoder(tokenizer_path, config, rows)
    if tokenizer.vocab_size > rows:
        raise ValueError(
            f"{tokenizer_path} has {tokenizer.vocab_size} tokens but the table has {rows} rows; rebuild it"
        )
    return tokenizer.encode


def _hf_encoder(tokenizer_path: Path, config: dict[str, Any], rows: int) -> Encode:
    try:
        tokenizers = importlib.import_module("tokenizers")
    except ImportError as exc:
        raise ValueError(
            f"{tokenizer_path} is not a BERT WordPiece tokenizer; `pip install tokenizers` to load this model"
        ) from exc
    tok = tokenizers.Tokenizer.from_file(str(tokenizer_path))
    tok.no_truncation()
    tok.no_padding()
    unk_name = (config.get("model") or {}).get("unk_token")
    unk = tok.token_to_id(unk_name) if unk_name else None
    if tok.get_vocab_size() > rows:
        raise ValueError(f"{tokenizer_path} has {tok.get_vocab_size()} tokens but the table has {rows} rows")

    def encode(text: str, max_tokens: int) -> list[int]:
        ids: list[int] = [i for i in tok.encode(text, add_special_tokens=False).ids if i != unk]
        return ids[:max_tokens]

    return encode


def _read_json(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {path} ({exc}); point model_dir at a valid model") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path} does not hold a JSON object; point model_dir at a valid model")
    return config
