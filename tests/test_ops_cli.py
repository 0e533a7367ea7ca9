"""The operations commands as an operator types them: `mrt watch --once`, `mrt deploy`, `mrt bench`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

MRT = [sys.executable, "-m", "pipeline.cli"]


def run(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*MRT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200", **(env or {})}
    )


def test_commands_are_registered():
    out = run("--help").stdout
    for command in ("watch", "nightly", "deploy", "bench"):
        assert command in out
    bench = run("bench", "--help").stdout
    assert "pipeline" in bench


def test_build_kb_reports_both_code_indexes():
    r = run("build-kb")  # the indexes of this machine's cache (built once)
    assert r.returncode == 0, r.stderr[-2000:]
    for system in ("ICD-10-CM", "ICD-10-PCS"):
        assert re.search(rf"{system}: \d+ codes, \d+ aliases \(exact cosine", r.stdout), r.stdout


def test_deploy_without_a_prefect_server_says_how_to_start_one(tmp_path):
    r = run("deploy", env={"PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect-home")})
    assert r.returncode == 2 and "prefect server start" in r.stderr


@pytest.mark.slow
def test_watch_once_codes_archives_and_quarantines(tmp_path, sample):
    """What the README's first steps do: drop a dictation (and a broken file), run the watcher."""
    data = tmp_path / "data"
    inbox = tmp_path / "drop folder"
    inbox.mkdir(parents=True)
    media, _, _ = sample("05")
    shutil.copy(media, inbox / "er visit.ogg")
    (inbox / "er visit.json").write_text(json.dumps({"mrn": "Q-1", "setting": "outpatient", "priority": "stat"}))
    (inbox / "not audio.mp3").write_text("this is a text file")
    env = {"MRT_DATA_DIR": str(data), "MRT_SCAN_INTERVAL_S": "1", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    r = run("watch", str(inbox), "--once", "--workers", "1", "--stable-seconds", "1", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "coded" in r.stderr and "quarantined" in r.stderr and "not audio or video" in r.stderr
    assert not any(inbox.iterdir())
    archived = [p.name for day in (data / "archive").iterdir() for p in day.iterdir()]
    assert sorted(archived) == ["er visit.json", "er visit.ogg"]
    assert sorted(p.name for p in (data / "quarantine").iterdir()) == ["not audio.mp3", "not audio.mp3.error.txt"]
    dictation_id = re.search(r"coded\s+#(\d+) er visit\.ogg", r.stderr).group(1)
    shown = json.loads(run("show", dictation_id, "--json", env=env).stdout)
    assert shown["status"] == "coded" and shown["codes"] and shown["file"] == "er visit.ogg"
