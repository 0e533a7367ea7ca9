"""End to end through Prefect (ephemeral test API) into SQLite: real media, real Whisper,
real spaCy pipeline, real code index."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    from flows import _prefect_env  # noqa: F401

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_process_dictation_end_to_end_and_idempotent(prefect_api, sample, tmp_path):
    from flows.dictation import process_dictation
    from pipeline.store.db import session_scope
    from pipeline.store.models import Dictation

    media, _, expected = sample("06")  # the video sample
    copy = tmp_path / "dictation copy.mp4"
    shutil.copy(media, copy)

    with session_scope() as s:  # the test session's database: other tests' records may be there
        before = s.scalar(select(func.count()).select_from(Dictation))
    first = process_dictation(str(copy))
    assert first["status"] == "coded" and first["has_video"] is True
    codes = [c["code"] for c in first["codes"]]
    assert "Z80.0" in codes[:5]  # family history of colon cancer, not the cancer itself
    assert not any(c.startswith("C18") for c in codes)
    assert not any(c.startswith("J18") for c in codes)  # "no evidence of pneumonia"
    ev = next(c for c in first["codes"] if c["code"] == "Z80.0")["evidence"][0]
    assert ev["audio_start"] is not None and 0 < ev["audio_start"] < 45

    again = process_dictation(str(media))  # same content, other path
    assert again["id"] == first["id"] and again.get("duplicate")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Dictation)) == before + 1


def test_process_folder_goes_on_past_a_bad_file(prefect_api, sample, tmp_path):
    from flows.dictation import process_folder
    from pipeline.store.db import session_scope
    from pipeline.store.models import Dictation

    media, _, _ = sample("05")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(media, inbox / media.name)
    (inbox / "broken.mp3").write_text("not audio at all")
    results = process_folder(str(inbox))
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in results}
    assert by_name[media.name]["ok"] and by_name[media.name]["codes"]
    assert not by_name["broken.mp3"]["ok"] and "not audio or video" in by_name["broken.mp3"]["error"]
    assert (inbox / "broken.mp3").read_text() == "not audio at all"  # original kept
    with session_scope() as s:
        failed = s.scalars(select(Dictation).where(Dictation.status == "failed")).all()
        assert [d.error_kind for d in failed] == ["not_media"]
