"""Embedders: the offline LocalEmbedder and the JS-compatible HashEmbedder (no database needed)."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mastra_memory.embedding as embedding
from mastra_memory.embedding import AsyncEmbedder, Embedder, HashEmbedder, LocalEmbedder, _local, _model_files
from mastra_memory.embedding._hash import hashed_bow_vector
from mastra_memory.embedding._tokenizer import WordPieceTokenizer

MODEL_DIR = Path(_local.__file__).resolve().parent / "_model"

MIXED_TEXTS = [
    "I adopted a puppy",
    "",
    "Crème brûlée, naïve café — ÜBER straße.",
    "東京で寿司を食べました",
    "   \t\n ",
    "don't stop-believing... 3.14159 #hashtag @user https://example.com/x?y=1",
    "😀🎉",
    "Caroline: I went to the LGBTQ support group yesterday and it was so powerful.",
    "word " * 3000,
]


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder()


def cos(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(a @ b)


# ----------------------------------------------------------------------------- LocalEmbedder


def test_local_embedder_loads_offline_and_returns_unit_vectors_of_dim_256(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("LocalEmbedder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    embedder = LocalEmbedder()
    vectors = embedder.embed_documents(["hello world", "a second text"])
    assert embedder.dimension == 256
    assert embedder.model_id == "mastra-memory/minilm-m2v-256"
    assert vectors.shape == (2, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("hello world")
    assert query.shape == (256,)
    assert query.dtype == np.float32
    np.testing.assert_allclose(query, vectors[0], atol=1e-6)


def test_constructor_does_no_io_and_a_bad_model_dir_fails_on_first_use(tmp_path: Path) -> None:
    embedder = LocalEmbedder(tmp_path / "missing")  # nothing read yet
    with pytest.raises(ValueError, match=r"manifest\.json.*model\.safetensors"):
        embedder.embed_query("x")


def test_dimension_of_the_shipped_model_is_known_without_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(directory: Path) -> None:
        raise AssertionError("loaded the model")

    monkeypatch.setattr(_local, "load_model", fail)
    embedder = LocalEmbedder()
    assert (embedder.dimension, embedder.model_id) == (256, "mastra-memory/minilm-m2v-256")


@pytest.mark.parametrize(
    ("anchor", "related", "unrelated"),
    [
        ("I adopted a puppy", "we got a new dog", "the stock market fell"),
        (
            "She loves painting landscapes",
            "he enjoys drawing pictures of mountains",
            "the invoice is overdue",
        ),
        ("What time does the train leave?", "the railway departure schedule", "my favourite pizza topping"),
        ("I went hiking in the mountains", "we climbed a trail up the hill", "the database migration failed"),
    ],
)
def test_related_sentences_score_higher_than_unrelated(
    local: LocalEmbedder, anchor: str, related: str, unrelated: str
) -> None:
    a, r, u = local.embed_documents([anchor, related, unrelated])
    assert cos(a, r) > cos(a, u) + 0.05


def test_texts_without_known_tokens_share_one_fixed_unit_vector(local: LocalEmbedder) -> None:
    empty, blank, emoji, real = local.embed_documents(["", "   \n\t", "😀🎉", "we got a new dog"])
    np.testing.assert_array_equal(empty, blank)
    np.testing.assert_array_equal(empty, emoji)
    assert abs(float(np.linalg.norm(empty)) - 1.0) < 1e-6
    assert abs(cos(empty, real)) < 0.3  # neutral: neither matches nor repels real text
    np.testing.assert_array_equal(empty, LocalEmbedder().embed_query(""))  # same in every instance


def test_long_texts_are_cut_at_max_tokens() -> None:
    short = LocalEmbedder(max_tokens=8)
    head = "dog " * 8
    np.testing.assert_allclose(short.embed_query(head + "stock market " * 5000), short.embed_query(head), atol=1e-6)
    huge = LocalEmbedder().embed_query("memory " * 1_000_000)  # 7 MB: bounded by max_tokens * 8 characters
    assert abs(float(np.linalg.norm(huge)) - 1.0) < 1e-5


def test_max_tokens_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        LocalEmbedder(max_tokens=0)


def test_batch_equals_one_by_one(local: LocalEmbedder) -> None:
    batch = local.embed_documents(MIXED_TEXTS)
    singles = np.stack([local.embed_query(t) for t in MIXED_TEXTS])
    np.testing.assert_allclose(batch, singles, atol=1e-6)


def test_batches_larger_than_one_numpy_step_give_the_same_vectors(local: LocalEmbedder) -> None:
    texts = [f"text number {i} " + "alpha beta gamma delta " * 400 for i in range(30)]  # > 32k tokens
    batch = local.embed_documents(texts)
    np.testing.assert_allclose(batch, np.stack([local.embed_query(t) for t in texts]), atol=1e-6)


def test_empty_list_gives_an_empty_matrix(local: LocalEmbedder) -> None:
    assert local.embed_documents([]).shape == (0, 256)


@pytest.mark.parametrize("bad", ["a bare string", ["ok", 3], [None]])
def test_embed_documents_rejects_a_bare_string_or_non_strings(local: LocalEmbedder, bad: Any) -> None:
    with pytest.raises(ValueError, match="str"):
        local.embed_documents(bad)


def test_embed_query_rejects_non_strings(local: LocalEmbedder) -> None:
    with pytest.raises(ValueError, match="str"):
        local.embed_query(b"bytes")  # type: ignore[arg-type]


def test_lazy_load_happens_once_under_concurrent_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real_load = _model_files.load_model

    def counting_load(directory: Path) -> Any:
        calls.append(directory)
        return real_load(directory)

    monkeypatch.setattr(_local, "load_model", counting_load)
    embedder = LocalEmbedder()
    results: list[np.ndarray[Any, Any]] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(embedder.embed_query("concurrent first use"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 8
    assert all(np.array_equal(r, results[0]) for r in results)


def test_shipped_model_files_match_their_manifest() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    for key in ("weights", "tokenizer"):
        data = (MODEL_DIR / manifest[f"{key}_file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == manifest[f"{key}_sha256"]
    assert manifest["dimension"] == 256
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) <= 16 * 1024 * 1024


def test_vectors_do_not_drift(local: LocalEmbedder) -> None:
    """Pinned from the committed model; a rebuild or a tokenizer change that moves them fails here."""
    a, b, c = local.embed_documents(["I adopted a puppy", "we got a new dog", "the stock market fell"])
    assert cos(a, b) == pytest.approx(0.3199, abs=2e-3)
    assert cos(a, c) == pytest.approx(-0.0070, abs=2e-3)


def test_model2vec_directory_loads_with_numpy_alone(tmp_path: Path) -> None:
    """A model2vec layout (model.safetensors + tokenizer.json) is read by our safetensors parser."""
    shipped = np.load(MODEL_DIR / "embeddings.npy")[:, :8].astype(np.float32)
    header = json.dumps({"embeddings": {"dtype": "F32", "shape": list(shipped.shape),
                                        "data_offsets": [0, shipped.nbytes]}}).encode()  # fmt: skip
    model_dir = tmp_path / "tiny-m2v"
    model_dir.mkdir()
    (model_dir / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + shipped.tobytes())
    (model_dir / "tokenizer.json").write_bytes((MODEL_DIR / "tokenizer.json").read_bytes())
    tiny = LocalEmbedder(model_dir)
    assert (tiny.dimension, tiny.model_id) == (8, "model2vec/tiny-m2v")
    vec = tiny.embed_query("we got a new dog")
    ids = WordPieceTokenizer(json.loads((MODEL_DIR / "tokenizer.json").read_text())).encode("we got a new dog")
    expected = shipped[ids].sum(axis=0)
    np.testing.assert_allclose(vec, expected / np.linalg.norm(expected), atol=1e-6)


def test_pure_python_tokenizer_matches_the_tokenizers_library() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    path = MODEL_DIR / "tokenizer.json"
    reference = tokenizers.Tokenizer.from_file(str(path))
    reference.no_truncation()
    ours = WordPieceTokenizer(json.loads(path.read_text()))
    texts = [
        *MIXED_TEXTS,
        "[PAD] hello [UNK] world",
        "\u039f\u0394\u039f\u03a3 \u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2",  # Greek capitals, final sigma
        "\u0130stanbul \u212aelvin",  # dotted capital I, Kelvin sign
        "a\x00b\u200bc\x7fd",  # control and format characters
        "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28",  # full-width letters
        "x" * 150,
        "supercalifragilisticexpialidocious",
        "tab\tnew\nline\r\n",
        "\u00bfQu\u00e9?",
    ]
    for text in texts:
        expected = [i for i in reference.encode(text, add_special_tokens=False).ids if i != ours.unk_id]
        assert ours.encode(text) == expected, text


# ----------------------------------------------------------------------------- HashEmbedder

# Copied from a Node run of shared/peers/mastra/lib.mjs hashedBowEmbed (and tests/interop/embedder.mjs):
# non-zero (index, value) pairs at dimension 384.
JS_VECTORS = {
    "I adopted a puppy": [(68, -0.5), (168, 0.5), (172, -0.5), (261, 0.5)],
    "hello hello hello world": [(147, 0.31622776601683794), (171, 0.9486832980505138)],
    "naïve café crème brûlée": [(11, -0.35355339059327373), (96, 0.35355339059327373),
                                (125, -0.35355339059327373), (167, 0.35355339059327373),
                                (181, 0.35355339059327373), (196, 0.35355339059327373),
                                (224, -0.35355339059327373), (368, 0.35355339059327373)],
    "İstanbul \u212aelvin": [(68, -0.5773502691896258), (180, 0.5773502691896258), (292, 0.5773502691896258)],
    "": [(0, 1.0)],
}  # fmt: skip


@pytest.mark.parametrize(("text", "nonzero"), list(JS_VECTORS.items()))
def test_hash_embedder_matches_the_javascript_embedder(text: str, nonzero: list[tuple[int, float]]) -> None:
    expected = np.zeros(384, dtype=np.float64)
    for index, value in nonzero:
        expected[index] = value
    np.testing.assert_array_equal(hashed_bow_vector(text), expected)
    np.testing.assert_array_equal(HashEmbedder().embed_query(text), expected.astype(np.float32))


def test_hash_embedder_dimension_is_configurable() -> None:
    vec = HashEmbedder(7).embed_query("Hello, World!")  # JS: [0.7071067811865475, 0, 0.7071067811865475, 0, 0, 0, 0]
    np.testing.assert_array_equal(vec, np.array([0.7071067811865475, 0, 0.7071067811865475, 0, 0, 0, 0], np.float32))
    assert HashEmbedder(7).model_id == "hashed-bow-7"
    assert HashEmbedder().model_id == "hashed-bow-384"


def test_hash_embedder_is_deterministic_and_batch_equals_single() -> None:
    first = HashEmbedder().embed_documents(MIXED_TEXTS)
    second = HashEmbedder().embed_documents(MIXED_TEXTS)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, np.stack([HashEmbedder().embed_query(t) for t in MIXED_TEXTS]))
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-6)


async def test_hash_embedder_async_methods_match_sync() -> None:
    embedder = HashEmbedder(32)
    np.testing.assert_array_equal(await embedder.aembed_documents(["a b", "c"]), embedder.embed_documents(["a b", "c"]))
    np.testing.assert_array_equal(await embedder.aembed_query("a b"), embedder.embed_query("a b"))


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_hash_embedder_rejects_a_bad_dimension(bad: Any) -> None:
    with pytest.raises(ValueError, match="dimension"):
        HashEmbedder(bad)


# ----------------------------------------------------------------------------- protocols and exports


def test_embedders_satisfy_the_protocols() -> None:
    assert isinstance(LocalEmbedder(), Embedder)
    assert not isinstance(LocalEmbedder(), AsyncEmbedder)
    assert isinstance(HashEmbedder(), Embedder)
    assert isinstance(HashEmbedder(), AsyncEmbedder)


def test_public_names_are_exported_from_the_package() -> None:
    assert sorted(embedding.__all__) == [
        "AsyncEmbedder",
        "Embedder",
        "EmbeddingMatrix",
        "HashEmbedder",
        "LocalEmbedder",
        "OpenAIEmbedder",
    ]
    for name in embedding.__all__:
        obj = getattr(embedding, name)
        if isinstance(obj, type):
            assert obj.__module__ == "mastra_memory.embedding"
