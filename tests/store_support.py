"""Database fixtures and small stage results shared by the store, intake and flow tests."""

from __future__ import annotations

import os
import uuid

import pytest

from pipeline.code.types import CM, CodeProposal, Evidence, Reason, ReasonKind
from pipeline.store.db import get_engine
from pipeline.transcribe.types import Segment, Transcript, Word

PG_ADMIN = os.environ.get("MRT_TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def create_pg_database():
    import psycopg2

    try:
        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError as e:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({e}); CI starts it")
    conn.autocommit = True
    name = f"mrt_test_{uuid.uuid4().hex[:8]}"
    conn.cursor().execute(f"CREATE DATABASE {name}")
    return conn, name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    conn, name = create_pg_database()
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    yield url
    get_engine(url).dispose()
    conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    conn.close()


def sample_transcript() -> Transcript:
    seg = Segment(
        0, 0.0, 2.0, "No chest pain.", [Word(0.0, 0.4, "No", 0.9), Word(0.4, 1.0, "chest", 0.8), Word(1.0, 2.0, "pain.", 0.7)]
    )
    return Transcript.from_segments([seg], language="en", model="tiny.en", backend="faster-whisper", duration=2.0)


def sample_proposal(code="R07.9") -> CodeProposal:
    return CodeProposal(
        CM,
        code,
        "Chest pain, unspecified",
        0.7,
        [Evidence(3, 13, "chest pain", 0.4, 2.0)],
        (Reason(ReasonKind.INDEX_MATCH, (code,), "test"),),
    )
