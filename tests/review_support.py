"""Helpers for the review-queue tests: real pipeline output for sample dictations, stored
as records with patient and encounter metadata, and throw-away PostgreSQL databases."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from pipeline.code.coder import MODEL_VERSION
from pipeline.settings import get_settings
from pipeline.stages import StageRunner
from pipeline.store import repository
from pipeline.store.db import get_engine, session_scope
from pipeline.store.models import Encounter, Patient

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class PipelineOutput:
    media: Path
    audio: object
    transcript: object
    entities: list
    coding: object


def run_pipeline(media: Path, setting: str = "outpatient") -> PipelineOutput:
    """The real stages (Whisper, spaCy, coder) on one sample, without the database."""
    stages = StageRunner(get_settings())
    audio = stages.load(media)
    transcript = stages.transcribe(audio)
    entities = stages.extract(transcript)
    return PipelineOutput(media, audio, transcript, entities, stages.code(entities, setting=setting, text=transcript.text))


def seed_record(
    url: str,
    out: PipelineOutput,
    copy: int = 0,
    *,
    priority: str | None = "routine",
    document_type: str | None = "office_note",
    physician: str | None = "Dr. Ana Reyes",
    sex: str | None = None,
    birth_date: date | None = None,
    setting: str = "outpatient",
    archive: Path | None = None,
) -> int:
    """Store the pipeline's output as a coded record (copy N of the same dictation gets its
    own record: the content key is the media hash salted with N). With ``archive``, the media is
    filed there as the pipeline files it (copy N: the file plus N trailing bytes, so each record
    has its own real content hash) and the review app can play it."""
    media = out.media
    if archive is not None:
        media = archive / f"seed-{copy}" / out.media.name
        media.parent.mkdir(parents=True, exist_ok=True)
        media.write_bytes(out.media.read_bytes() + b"\0" * copy)
        content_hash = repository.sha256_file(media)
    else:
        content_hash = hashlib.sha256(repository.sha256_file(out.media).encode() + f"#{copy}".encode()).hexdigest()
    with session_scope(url) as s:
        d, _ = repository.register_dictation(s, media.resolve(), content_hash)
        patient = Patient(mrn=f"MRN{uuid.uuid4().hex[:8]}", name=f"Test Patient {copy}", sex=sex, birth_date=birth_date)
        d.encounter = Encounter(patient=patient, setting=setting, physician=physician, date_of_service=date(2026, 11, 20))
        d.priority, d.document_type = priority, document_type
        s.flush()
        repository.store_results(
            s,
            d.id,
            transcript=out.transcript,
            entities=out.entities,
            proposals=out.coding.proposals,
            has_video=out.audio.has_video,
            model_version=f"{out.transcript.backend}:{out.transcript.model}|{MODEL_VERSION}",
        )
        return d.id


def login_client(app, name: str, password: str = PASSWORD):
    """A TestClient logged in as ``name`` through the login form, sending JSON ``Accept`` and the
    session's CSRF token on every request (also kept as ``client.csrf``)."""
    import re

    from fastapi.testclient import TestClient

    c = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post(
        "/login", data={"username": name, "password": password, "csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    c.csrf = r.json()["csrf_token"]
    c.headers.update({"X-CSRF-Token": c.csrf, "Accept": "application/json"})
    return c


def add_user(url: str, username: str, role: str = "coder", password: str = PASSWORD) -> None:
    from pipeline.review import auth

    with session_scope(url) as s:
        auth.add_user(s, username, password, role)


@contextmanager
def serve_app(settings) -> Iterator[str]:
    """The review app on a free loopback port in a background thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from pipeline.review.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started:
        assert time.time() < deadline, "the review server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the loopback server, dropped afterwards."""
    import psycopg2

    try:
        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({e}); CI starts it")
    conn.autocommit = True
    name = f"mrt_test_{uuid.uuid4().hex[:8]}"
    conn.cursor().execute(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
