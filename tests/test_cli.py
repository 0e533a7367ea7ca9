"""The ``mrt`` command line: JSON contracts other tools depend on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

MRT = [sys.executable, "-m", "pipeline.cli"]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*MRT, *args], capture_output=True, text=True, check=check, env={**os.environ, "COLUMNS": "200"})


def test_extract_json_contract(sample):
    media, _, _ = sample("06")
    out = json.loads(run("extract", "--text-file", str(media.with_suffix(".txt")), "--json").stdout)
    assert out["entities"]
    for e in out["entities"]:
        assert {"start", "end", "text", "label", "section", "negated", "uncertain", "historical", "family"} <= e.keys()
        assert isinstance(e["start"], int) and e["end"] > e["start"]
    assert any(e["negated"] for e in out["entities"]) and any(e["family"] for e in out["entities"])


@pytest.mark.slow
def test_code_json_contract_and_ranking(sample):
    media, text, expected = sample("01")
    out = json.loads(run("code", "--text-file", str(media.with_suffix(".txt")), "--json").stdout)
    codes = out["codes"]
    assert codes and all({"system", "code", "description", "score", "evidence"} <= c.keys() for c in codes)
    # the principal (first-listed) diagnosis first, then the rest best first
    assert "suggested first-listed" in codes[0]["rationale"] or "suggested principal" in codes[0]["rationale"]
    assert [c["score"] for c in codes[1:]] == sorted((c["score"] for c in codes[1:]), reverse=True)
    assert all(0.0 <= c["score"] <= 1.0 and c["system"] in ("ICD-10-CM", "ICD-10-PCS") for c in codes)
    for c in codes:
        for ev in c["evidence"]:
            assert text[ev["start"] : ev["end"]] == ev["text"]
    top5 = [c["code"] for c in codes[:5]]
    assert "E11.9" in top5 or "I10" in top5


@pytest.mark.slow
def test_batch_modes_write_json_lines(tmp_path, sample):
    docs = tmp_path / "notes"
    docs.mkdir()
    for prefix in ("03", "06"):
        media, text, _ = sample(prefix)
        (docs / f"{prefix}.txt").write_text(text)
    target = tmp_path / "codes.jsonl"
    run("code", "--input-dir", str(docs), "--output", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["03", "06"] and all("codes" in line for line in lines)
    ex = [json.loads(line) for line in run("extract", "--input-dir", str(docs)).stdout.splitlines()]
    assert [line["id"] for line in ex] == ["03", "06"] and all("entities" in line for line in ex)


@pytest.mark.slow
def test_transcribe_json_contract(sample):
    media, _, _ = sample("04")
    out = json.loads(run("transcribe", str(media), "--json").stdout)
    assert {"text", "segments", "duration", "model", "backend"} <= out.keys()
    assert out["backend"] == "faster-whisper" and out["model"] == "tiny.en"
    assert all({"start", "end", "text"} <= s.keys() for s in out["segments"])
    assert "pneumonia" in out["text"].lower()


def test_transcribe_bad_file_exits_with_reason(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"")
    r = run("transcribe", str(bad), "--json", check=False)
    assert r.returncode == 2 and "empty" in r.stderr


@pytest.mark.slow
def test_process_and_show(tmp_path, sample):
    media, _, _ = sample("05")
    bad = tmp_path / "corrupt.ogg"
    bad.write_bytes(b"OggS" + b"\x00" * 100)
    env_db = tmp_path / "cli.db"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"}  # the CLI's own default
    env.update({"MRT_DATABASE_URL": f"sqlite:///{env_db}", "COLUMNS": "200"})
    r = subprocess.run([*MRT, "process", str(media), str(bad)], capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr  # one failed
    assert "S52.502A" in r.stdout and "FAILED" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr and "database is locked" not in r.stdout + r.stderr
    shown = subprocess.run([*MRT, "show", "1", "--json"], capture_output=True, text=True, env=env, check=True)
    assert json.loads(shown.stdout)["codes"]


@pytest.mark.slow
def test_code_json_carries_the_ranked_alternatives(sample):
    media, _, _ = sample("04")
    out = json.loads(run("code", "--text-file", str(media.with_suffix(".txt")), "--json", "--setting", "inpatient").stdout)
    alternatives = out["alternatives"]  # an added field: "codes" and "skipped" unchanged
    assert {"codes", "skipped"} <= out.keys() and alternatives
    assert all({"system", "code", "description", "score", "evidence", "rationale"} <= a.keys() for a in alternatives)
    assert all(a["rationale"] and 0.0 <= a["score"] <= 1.0 for a in alternatives)
    for system in ("ICD-10-CM", "ICD-10-PCS"):
        scores = [a["score"] for a in alternatives if a["system"] == system]
        assert scores == sorted(scores, reverse=True)
    assert not {a["code"] for a in alternatives} & {c["code"] for c in out["codes"]}


def test_code_setting_is_documented_and_checked():
    help_text = " ".join(run("code", "--help").stdout.split())
    assert "IV.H" in help_text and "inpatient" in help_text and "PCS" in help_text
    bad = run("code", "--text-file", "x.txt", "--setting", "hospital", check=False)
    assert bad.returncode == 2 and "outpatient or inpatient" in bad.stdout + bad.stderr
