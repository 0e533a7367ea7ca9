"""Same input, same codes on every install: two fresh installs (each its own empty cache, so each
builds its own code indexes), with different hash seeds and thread counts, write byte-identical
``mrt code --input-dir --json`` output and byte-identical index files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

CODIESP_DEV_DOCS = 6  # a handful of CodiEsp dev case reports, when ../shared is beside the repo


def _inputs(folder: Path) -> list[str]:
    folder.mkdir()
    names = []
    for txt in sorted(SAMPLES.glob("*.txt")):
        shutil.copy(txt, folder / txt.name)
        names.append(txt.stem)
    from mrt_eval.coding.codiesp import codiesp_dir, load_split

    if (codiesp_dir() / "dev").is_dir():
        for doc in load_split("dev", CODIESP_DEV_DOCS):
            (folder / f"codiesp-{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
            names.append(f"codiesp-{doc.doc_id}")
    return names


def _install(tmp: Path, name: str, seed: str, threads: str, inputs: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "MRT_CACHE_DIR": str(tmp / name / "cache"),
        "MRT_DATA_DIR": str(tmp / name / "data"),
        "PYTHONHASHSEED": seed,
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    out = tmp / name / "codes.jsonl"
    out.parent.mkdir(parents=True)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "code",
            "--input-dir",
            str(inputs),
            "--json",
            "--setting",
            "inpatient",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_two_fresh_installs_code_the_same_texts_byte_for_byte(tmp_path: Path) -> None:
    import json

    names = _inputs(tmp_path / "texts")
    runs = [_install(tmp_path, "a", "0", "1", tmp_path / "texts"), _install(tmp_path, "b", "4242", "2", tmp_path / "texts")]
    for run in runs:
        log, _ = run.communicate(timeout=1500)
        assert run.returncode == 0, log[-3000:]
    a, b = ((tmp_path / n / "codes.jsonl").read_bytes() for n in ("a", "b"))
    assert a == b
    lines = [json.loads(line) for line in a.decode().splitlines()]
    assert [line["id"] for line in lines] == sorted(names)
    assert all({"codes", "skipped", "alternatives"} <= set(line) for line in lines)
    assert sum(len(line["codes"]) for line in lines) >= len(names)  # not identical because empty
    # the indexes each install built are the same files, byte for byte
    dirs = [sorted((tmp_path / n / "cache" / "code-index").iterdir()) for n in ("a", "b")]
    assert [d.name for d in dirs[0]] == [d.name for d in dirs[1]] and len(dirs[0]) == 2
    for da, db in zip(*dirs):
        for f in sorted(da.iterdir()):
            assert f.read_bytes() == (db / f.name).read_bytes(), f.name
