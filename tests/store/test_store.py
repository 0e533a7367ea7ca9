"""The master database on SQLite (default) and PostgreSQL (the server on loopback)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from store_support import db_url, sample_proposal, sample_transcript  # noqa: F401  (db_url: a fixture)

from pipeline.extract.types import Entity
from pipeline.store import repository
from pipeline.store.db import get_engine, session_scope
from pipeline.store.models import AuditEvent, CodeProposalRecord, Dictation, DictationStatus


def test_register_is_idempotent_by_content(db_url, tmp_path):  # noqa: F811
    f = tmp_path / "a.wav"
    f.write_bytes(b"RIFF....same content")
    copy = tmp_path / "b copy.wav"
    copy.write_bytes(f.read_bytes())
    h = repository.sha256_file(f)
    with session_scope(db_url) as s:
        d1, created1 = repository.register_dictation(s, f, h)
    with session_scope(db_url) as s:
        d2, created2 = repository.register_dictation(s, copy, repository.sha256_file(copy))
    assert created1 and not created2 and d1.id == d2.id
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Dictation)) == 1


def test_concurrent_registration_makes_one_record(db_url, tmp_path):  # noqa: F811
    f = tmp_path / "race.wav"
    f.write_bytes(b"RIFF race")
    h = repository.sha256_file(f)
    get_engine(db_url)  # create the schema once, up front

    def reg(_):
        with session_scope(db_url) as s:
            return repository.register_dictation(s, f, h)[0].id

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(reg, range(8)))
    assert len(ids) == 1


def test_store_results_replaces_atomically(db_url, tmp_path):  # noqa: F811
    f = tmp_path / "x.wav"
    f.write_bytes(b"RIFF x")
    with session_scope(db_url) as s:
        d, _ = repository.register_dictation(s, f, repository.sha256_file(f))
    ent = Entity(3, 13, "chest pain", "SYMPTOM", negated=True, audio_start=0.4, audio_end=2.0)
    for _ in range(2):  # storing twice replaces, never duplicates
        with session_scope(db_url) as s:
            repository.store_results(
                s,
                d.id,
                transcript=sample_transcript(),
                entities=[ent],
                proposals=[sample_proposal()],
                has_video=False,
                model_version="t",
            )
    with session_scope(db_url) as s:
        stored = repository.load_dictation(s, d.id)
        assert stored.status == DictationStatus.CODED
        assert stored.transcript.text == "No chest pain."
        assert [e.negated for e in stored.entities] == [True]
        assert [p.code for p in stored.proposals] == ["R07.9"]
        assert stored.proposals[0].evidence[0]["audio_start"] == 0.4
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "coded")) == 2

    # a failure in the middle of a write leaves the earlier results in place
    with pytest.raises(RuntimeError):
        with session_scope(db_url) as s:
            repository.store_results(
                s,
                d.id,
                transcript=sample_transcript(),
                entities=[],
                proposals=[sample_proposal("I10")],
                has_video=False,
                model_version="t",
            )
            raise RuntimeError("worker crashed before commit")
    with session_scope(db_url) as s:
        assert [p.code for p in s.scalars(select(CodeProposalRecord).where(CodeProposalRecord.dictation_id == d.id))] == ["R07.9"]


def test_mark_failed_keeps_reason(db_url, tmp_path):  # noqa: F811
    f = tmp_path / "bad.mp3"
    f.write_text("not audio")
    with session_scope(db_url) as s:
        d, _ = repository.register_dictation(s, f, repository.sha256_file(f))
    with session_scope(db_url) as s:
        repository.mark_failed(s, d.id, "not_media", "not audio")
    with session_scope(db_url) as s:
        got = s.get(Dictation, d.id)
        assert (got.status, got.error_kind, got.error) == ("failed", "not_media", "not audio")
