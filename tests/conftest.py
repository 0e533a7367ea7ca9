"""Shared fixtures. Every test run gets its own data directory (database, archive);
converted models and code indexes are cached across runs in the user cache (or
``MRT_CACHE_DIR``), since building them is the slow part and not what is under test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED_DATA = ROOT.parent / "shared" / "data"

_DATA_DIR = Path(tempfile.mkdtemp(prefix="mrt-test-data-"))
os.environ["MRT_DATA_DIR"] = str(_DATA_DIR)
os.environ.pop("MRT_DATABASE_URL", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# the product's Prefect defaults (flows/_prefect_env.py: a 120 s ephemeral-server start, no background
# services) before any test imports Prefect, whose settings are read once at its import: a test that
# imported Prefect first left later flow runs with Prefect's 20 s start, which a loaded machine can miss
import flows  # noqa: E402, F401


def pytest_sessionstart(session):
    """CTranslate2 reads its kernel pins once per process, at its first use: pin them before any test
    can load a model directly (tests/transcribe/test_convert.py does), so every test decodes as the
    product does whatever order the tests run in."""
    from pipeline.settings import get_settings
    from pipeline.transcribe.cpu_kernels import CpuKernels, pin

    settings = get_settings()
    pin(CpuKernels(settings.cpu_kernels), settings.device)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


def load_manifest() -> list[dict]:
    return json.loads((SAMPLES / "manifest.json").read_text())["samples"]


@pytest.fixture(scope="session")
def manifest() -> list[dict]:
    return load_manifest()


@pytest.fixture(scope="session")
def sample():
    """Look a sample up by name prefix: sample("06") -> (media path, reference text, expected dict)."""
    entries = load_manifest()

    def get(prefix: str):
        e = next(e for e in entries if e["name"].startswith(prefix))
        return (
            SAMPLES / e["file"],
            (SAMPLES / e["reference"]).read_text().strip(),
            json.loads((SAMPLES / e["expected"]).read_text()),
        )

    return get


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    from pipeline.transcribe.audio import ffmpeg_exe

    return ffmpeg_exe()


def make_media(ffmpeg: str, out: Path, *args: str) -> Path:
    subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, str(out)], check=True)
    return out


@pytest.fixture
def settings(tmp_path):
    from pipeline.settings import get_settings

    return get_settings().model_copy(update={"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'mrt.db'}"})


CHROMIUM = os.environ.get("MRT_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (it cannot download browsers here); one per test module."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-gpu",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield b
        b.close()


def screenshot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot; with MRT_UPDATE_SCREENSHOTS=1 it also refreshes docs/screenshots/NAME."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("MRT_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)


@pytest.fixture(scope="module")
def coded(sample):
    """The real pipeline's output (Whisper, spaCy, coder) for sample 01, once per test module."""
    from review_support import run_pipeline

    media, _, _ = sample("01")
    return run_pipeline(media)
