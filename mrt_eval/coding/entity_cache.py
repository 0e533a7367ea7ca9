"""Extracted entities of evaluation texts, cached on disk so the coding stage can be re-measured
without re-running extraction.

The cache key (the *extraction version*) covers every file of ``pipeline/extract`` (code and data)
and of the shipped NER models (``models/``), so any change to extraction invalidates it; entries
are keyed by the SHA-256 of the text. ``MRT_EVAL_EXTRACTION=<version>`` pins one stored version
(to compare coders while extraction is being changed); a pinned version is never extended with
entities of another extraction. Only evaluation and benchmarks use this: texts are public corpora
(CodiEsp), never dictations.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipeline.extract.types import Entity

_REPO = Path(__file__).resolve().parents[2]
EXTRACT_DIR = _REPO / "pipeline" / "extract"
MODELS_DIR = _REPO / "models"
# what extraction reads of the coder: the linker's candidates (the code indexes and their query), and the
# diagnosis list reader's Alphabetic Index reading
LOOKUP_DIR = _REPO / "pipeline" / "code" / "lookup"
LOOKUP_FILES = (_REPO / "pipeline" / "code" / "rules" / "specificity.py",)
CODE_DATA_DIR = _REPO / "pipeline" / "code" / "data"


def extraction_fingerprint() -> str:
    """The extraction version: a hash of extraction's code, data and models, and of the code lookup
    and code set files extraction reads."""
    h = hashlib.sha256()
    for base in (EXTRACT_DIR, MODELS_DIR, LOOKUP_DIR):
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"{base.name}/{path.relative_to(base)}".encode())
            h.update(path.read_bytes())
    for path in (*LOOKUP_FILES, *sorted(CODE_DATA_DIR.glob("*.tsv.gz"))):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _load(path: Path) -> dict[str, list[dict]]:
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _save(path: Path, data: dict[str, list[dict]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".entities-", dir=path.parent)
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def cached_entities(texts: Sequence[str], cache_dir: Path) -> list[list[Entity]]:
    """Entities for each text: from the cache where present, extracted (and stored) otherwise."""
    pinned = os.environ.get("MRT_EVAL_EXTRACTION")
    path = Path(cache_dir) / "eval-entities" / f"{pinned or extraction_fingerprint()}.json.gz"
    data = _load(path)
    keys = [_text_key(t) for t in texts]
    missing = [i for i, k in enumerate(keys) if k not in data]
    if missing and pinned:
        raise FileNotFoundError(f"MRT_EVAL_EXTRACTION={pinned}: {len(missing)} of {len(texts)} texts not in {path}")
    if missing:
        from pipeline.extract.pipeline import extract_many

        for i, ents in zip(missing, extract_many([texts[i] for i in missing])):
            data[keys[i]] = [e.to_dict() for e in ents]
        _save(path, {**_load(path), **data})  # keep what another process stored meanwhile
    return [[Entity(**d) for d in data[k]] for k in keys]
