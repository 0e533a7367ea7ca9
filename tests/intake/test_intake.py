"""Drop-folder building blocks without models: sidecars, stable-file detection, hostile file
names, archive/quarantine moves, leases and tries on SQLite and PostgreSQL, database retry,
the daily summary. Real files, real databases, real clocks (short waits)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from store_support import db_url  # noqa: F401  (SQLite and PostgreSQL)

from pipeline.intake import inbox as box
from pipeline.intake.sidecar import SidecarError, parse_sidecar, read_sidecar
from pipeline.store import processing, repository
from pipeline.store.db import session_scope
from pipeline.store.lease import LeaseGuard, LeaseLost
from pipeline.store.models import AuditEvent, Dictation, Encounter, Patient

GOOD = {
    "mrn": "A123456",
    "patient_name": "Jane Q. Doe",
    "birth_date": "1950-02-03",
    "sex": "female",
    "encounter_id": "E-2024/0042",
    "physician": "Dr. Ada Smith",
    "date_of_service": "2024-05-06",
    "document_type": "Discharge Summary",
    "setting": "Inpatient",
    "priority": "STAT",
}


# -- sidecar ------------------------------------------------------------------------------


def test_sidecar_parsed_and_normalized():
    s = parse_sidecar(json.dumps(GOOD).encode("utf-8-sig"))
    assert (s.mrn, s.sex, s.setting, s.priority, s.document_type) == ("A123456", "F", "inpatient", "stat", "discharge_summary")
    assert s.birth_date == date(1950, 2, 3) and s.date_of_service == date(2024, 5, 6)
    assert s.has_patient and s.has_encounter
    empty = parse_sidecar(b"{}")
    assert not empty.has_patient and not empty.has_encounter


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"birth_date": "1950-13-45"}, "birth_date", "not a valid date"),
        ({"date_of_service": "2999-01-01"}, "date_of_service", "future"),
        ({"date_of_service": "1949-01-01"}, "date_of_service", "before birth_date"),
        ({"sex": "yes"}, "sex", "must be F, M, X or U"),
        ({"setting": "icu"}, "setting", "inpatient or outpatient"),
        ({"priority": 5}, "priority", "allowed value"),
        ({"mrn": "A 1; DROP TABLE"}, "mrn", "letters, digits"),
        ({"mrn": "x" * 65}, "mrn", "too long"),
        ({"pateint_name": "typo"}, "pateint_name", "unknown field"),
        ({"physician": "Dr.\nEvil"}, "physician", "control characters"),
        ({"mrn": None, "patient_name": "No Number"}, "mrn", "required when patient_name"),
    ],
)
def test_sidecar_errors_name_field_and_rule_not_the_value(change, field, words):
    data = {**GOOD, **change}
    with pytest.raises(SidecarError) as e:
        parse_sidecar(json.dumps(data).encode(), "visit.json")
    reason = e.value.reason
    assert reason.startswith("sidecar visit.json: ") and field in reason and words in reason, reason
    for value in change.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in reason  # patient data stays out of error texts


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"{" + b" " * 70000 + b"}", "larger than"),
    ],
)
def test_sidecar_that_is_not_a_sidecar(raw, words):
    with pytest.raises(SidecarError, match=words):
        parse_sidecar(raw)


def test_sidecar_link_is_not_followed(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(GOOD))
    link = tmp_path / "visit.json"
    link.symlink_to(secret)
    with pytest.raises(SidecarError, match="links are not followed"):
        read_sidecar(link)


# -- scanning and stability ---------------------------------------------------------------


def test_scan_pairs_sidecars_and_sorts_out_the_rest(tmp_path):
    (tmp_path / "a.mp3").write_bytes(b"x")
    (tmp_path / "a.mp3.json").write_text("{}")
    (tmp_path / "b visit.wav").write_bytes(b"x")
    (tmp_path / "b visit.json").write_text("{}")
    (tmp_path / "c.wav").write_bytes(b"x")
    (tmp_path / "c.ogg").write_bytes(b"x")
    (tmp_path / "c.json").write_text("{}")  # fits both c.wav and c.ogg
    (tmp_path / "lonely.json").write_text("{}")
    (tmp_path / "notes.docx").write_bytes(b"x")
    (tmp_path / ".hidden.wav").write_bytes(b"x")
    (tmp_path / "copying.wav.part").write_bytes(b"x")
    sub = tmp_path / "ward 3"
    sub.mkdir()
    (sub / "d.m4a").write_bytes(b"x")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "e.wav").write_bytes(b"x")
    (tmp_path / "linked dir").symlink_to(outside, target_is_directory=True)
    (tmp_path / "link.wav").symlink_to(outside / "e.wav")

    found = box.scan(tmp_path)
    drops = {d.media.name: d for d in found.drops}
    assert set(drops) == {"a.mp3", "b visit.wav", "c.wav", "c.ogg", "d.m4a", "link.wav"}  # not e.wav via the dir link
    assert drops["a.mp3"].sidecar.name == "a.mp3.json" and drops["a.mp3"].problem is None
    assert drops["b visit.wav"].sidecar.name == "b visit.json"
    assert drops["c.wav"].problem_kind == "sidecar" and "fits more than one" in drops["c.wav"].problem
    assert drops["link.wav"].problem_kind == "link"
    assert drops["d.m4a"].sidecar is None
    assert [p.name for p in found.orphan_sidecars] == ["lonely.json"]
    assert [p.name for p in found.unsupported] == ["notes.docx"]


def test_partial_file_is_not_picked_early(tmp_path):
    f = tmp_path / "dictation.wav"
    tracker = box.StabilityTracker(stable_seconds=1.0)
    stop = threading.Event()

    def writer():  # a slow copy: a chunk every 0.3 s for about 2 s
        with open(f, "wb") as out:
            for _ in range(7):
                out.write(os.urandom(4096))
                out.flush()
                time.sleep(0.3)
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    seen_ready_while_writing = False
    while not stop.is_set():
        if f.exists() and (tracker.ready(f) or box.is_settled(f, 1.0)):
            seen_ready_while_writing = True
        time.sleep(0.1)
    t.join()
    assert not seen_ready_while_writing
    size = f.stat().st_size
    assert size == 7 * 4096 and not tracker.ready(f) and not box.is_settled(f, 1.0)
    deadline = time.monotonic() + 5
    while not tracker.ready(f):
        assert time.monotonic() < deadline, "a finished file never became ready"
        time.sleep(0.2)
    assert box.is_settled(f, 1.0)


def test_tracker_does_not_trust_an_old_mtime(tmp_path):
    """A copy that preserves the original's old mtime (cp -p, robocopy) is still watched."""
    f = tmp_path / "old.wav"
    f.write_bytes(b"x" * 100)
    old = time.time() - 3600
    os.utime(f, (old, old))  # mtime says "an hour ago"; ctime says now
    assert not box.is_settled(f, 1.0)
    assert not box.StabilityTracker(1.0).ready(f)


# -- hostile names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.wav",
        "..\\..\\Windows\\evil.wav",
        "-rf --no-preserve-root.mp3",
        "new\nline\r.wav",
        "tab\tand\x1b[31mred.wav",
        "Zoë Müller 診察 ✓.m4a",
        "...",
        ".",
        "  .wav",
        "a" * 300 + ".wav",
        'ok?*:<>|".wav',
    ],
)
def test_safe_name_is_one_harmless_component(name):
    safe = box.safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and safe not in (".", "..")
    assert not safe.startswith(("-", ".", " "))
    assert safe.isprintable()
    assert len((safe + " (999)" + box.ERROR_SUFFIX).encode()) <= 255
    if name.endswith(".wav"):
        assert safe.endswith(".wav")


def test_safe_name_keeps_unicode_and_fixes_bytes():
    assert box.safe_name("Zoë Müller 診察.m4a") == "Zoë Müller 診察.m4a"
    raw = os.fsdecode(b"caf\xe9 \xff.wav")  # Latin-1 bytes from an old scanner: not UTF-8
    assert box.safe_name(raw) == "caf_ _.wav"
    assert "\ufffd" in box.display_name(raw)


def test_moves_never_overwrite_or_leave_the_folder(tmp_path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    first = inbox / "visit.wav"
    first.write_bytes(b"first")
    d1 = box.archive_drop(box.Drop(first), archive, "2024-05-06")["media"]
    second = inbox / "visit.wav"
    second.write_bytes(b"second")
    (inbox / "visit.wav.json").write_text("{}")
    moved = box.archive_drop(box.Drop(second, inbox / "visit.wav.json"), archive, "2024-05-06")
    assert d1.read_bytes() == b"first" and moved["media"].read_bytes() == b"second"
    assert moved["media"].name == "visit (2).wav" and moved["sidecar"].name == "visit (2).wav.json"
    hostile = inbox / "..\\..\\x.wav"
    hostile.write_bytes(b"h")
    dest = box.archive_drop(box.Drop(hostile), archive, "2024-05-06")["media"]
    assert dest.parent == archive / "2024-05-06" and dest.read_bytes() == b"h"
    assert not any(inbox.iterdir())


def test_a_link_is_moved_as_a_link_and_its_target_untouched(tmp_path):
    target = tmp_path / "precious.wav"
    target.write_bytes(b"keep me")
    link = tmp_path / "inbox.wav"
    link.symlink_to(target)
    moved = box.quarantine_files([link], tmp_path / "q", "why\n")
    assert moved["media"].is_symlink() and target.read_bytes() == b"keep me"
    assert moved["note"].name == "inbox.wav.error.txt"


def test_move_across_file_systems(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system to move across")
    src_dir = shm / f"mrt-test-{os.getpid()}"
    src_dir.mkdir(exist_ok=True)
    try:
        src = src_dir / "far away.wav"
        src.write_bytes(b"data" * 1000)
        dest = box.move_no_clobber(src, tmp_path / "archive", "far away.wav")
        assert dest.read_bytes() == b"data" * 1000 and not src.exists()
        assert not [p for p in (tmp_path / "archive").iterdir() if p.name.startswith(".")]
    finally:
        for p in src_dir.iterdir():
            p.unlink()
        src_dir.rmdir()


def test_quarantine_note_explains(tmp_path):
    media = tmp_path / "broken.mp3"
    media.write_bytes(b"junk")
    side = tmp_path / "broken.json"
    side.write_text("{}")
    report = box.error_report(
        kind="not_media",
        reason="this file is not audio or video",
        original=media,
        inbox=tmp_path,
        sidecar=side,
        content_hash="ab" * 32,
        dictation_id=7,
        attempts=1,
        details=["one", "two"],
    )
    moved = box.quarantine_drop(box.Drop(media, side), tmp_path / "quarantine", report)
    note = moved["note"].read_text()
    assert moved["media"].read_bytes() == b"junk" and moved["sidecar"].name == "broken.mp3.json"
    for words in ("not audio or video", "not_media", "broken.mp3", "Dictation ID:   7", "- two", "move the media file"):
        assert words in note


# -- leases, tries, metadata --------------------------------------------------------------


def _dictation(s, tmp_path, content=b"RIFF-test") -> int:
    f = tmp_path / f"d{len(content)}-{time.monotonic_ns()}.wav"
    f.write_bytes(content + os.urandom(8))
    d, _ = repository.register_dictation(s, f, repository.sha256_file(f))
    s.flush()
    return d.id


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_claims_leases_and_takeover(db_url, tmp_path):  # noqa: F811
    import socket

    with session_scope(db_url) as s:
        did = _dictation(s, tmp_path)
    with session_scope(db_url) as s:
        c1 = processing.claim(s, did, "other-host:123:aaaa", 300, 3)
    assert c1.claimed and c1.attempts == 1
    with session_scope(db_url) as s:  # another host holds a live lease
        busy = processing.claim(s, did, processing.new_owner(), 300, 3)
    assert busy.outcome == "busy" and busy.until is not None
    with session_scope(db_url) as s:  # its lease ran out: the host is presumed dead
        s.execute(
            text("UPDATE dictations SET lease_expires_at = :t WHERE id = :i"),
            {"t": datetime.now(UTC) - timedelta(seconds=1), "i": did},
        )
    me = processing.new_owner()
    with session_scope(db_url) as s:
        c2 = processing.claim(s, did, me, 300, 3)
    assert c2.claimed and c2.attempts == 2
    with session_scope(db_url) as s:  # a worker on this host that died: taken over at once
        s.execute(
            text("UPDATE dictations SET lease_owner = :o, status = 'transcribing' WHERE id = :i"),
            {"o": f"{socket.gethostname()}:{_dead_pid()}:dead", "i": did},
        )
    with session_scope(db_url) as s:
        c3 = processing.claim(s, did, me, 300, 3)
        resumed = s.scalars(select(AuditEvent).where(AuditEvent.dictation_id == did, AuditEvent.action == "resumed")).all()
    assert c3.claimed and c3.attempts == 3 and len(resumed) == 2  # both takeovers are on the audit trail
    with session_scope(db_url) as s:  # tries used up
        processing.record_failure(s, did, me, "transient", "boom", retry_in_s=0)
    with session_scope(db_url) as s:
        assert processing.claim(s, did, processing.new_owner(), 300, 3).outcome == "exhausted"
        assert processing.give_up(s, did, "gave up after 3 tries")
    with session_scope(db_url) as s:
        d = s.get(Dictation, did)
        assert (d.status, d.error_kind, d.lease_owner) == ("failed", "gave_up", None)
    with session_scope(db_url) as s:  # a person drops it again: tries start over
        again = processing.claim(s, did, processing.new_owner(), 300, 3)
    assert again.claimed and again.attempts == 1


def test_only_the_holder_stores_and_backoff_is_respected(db_url, tmp_path):  # noqa: F811
    from store_support import sample_proposal, sample_transcript

    with session_scope(db_url) as s:
        did = _dictation(s, tmp_path)
    old, new = "h1:1:old", "h2:2:new"
    with session_scope(db_url) as s:
        assert processing.claim(s, did, old, 300, 3).claimed
    with session_scope(db_url) as s:  # the old worker stalls past its lease; another takes over
        s.execute(
            text("UPDATE dictations SET lease_expires_at = :t WHERE id = :i"),
            {"t": datetime.now(UTC) - timedelta(seconds=1), "i": did},
        )
    with session_scope(db_url) as s:
        assert processing.claim(s, did, new, 300, 3).claimed
    results = dict(transcript=sample_transcript(), entities=[], proposals=[sample_proposal()], has_video=False, model_version="t")
    with pytest.raises(LeaseLost):
        with session_scope(db_url) as s:
            repository.store_results(s, did, **results, lease=LeaseGuard(old, {"transcribe": 1.0}))
    with session_scope(db_url) as s:
        assert s.get(Dictation, did).transcript is None  # the stale worker wrote nothing
        processing.record_failure(s, did, new, "transient", "disk error", retry_in_s=3600)
    with session_scope(db_url) as s:
        c = processing.claim(s, did, "h3:3:x", 300, 3)
        assert c.outcome == "backoff" and c.until > datetime.now(UTC) + timedelta(minutes=59)
        assert processing.claim(s, did, "h3:3:x", 300, 3, respect_backoff=False).claimed
    with session_scope(db_url) as s:
        repository.store_results(s, did, **results, lease=LeaseGuard("h3:3:x", {"transcribe": 1.0}))
    with session_scope(db_url) as s:
        d = repository.load_dictation(s, did)
        assert d.status == "coded" and d.lease_owner is None and d.coded_at is not None and len(d.proposals) == 1
        assert processing.claim(s, did, "h4:4:y", 300, 3).outcome == "done"


def test_sidecar_metadata_links_patient_and_encounter(db_url, tmp_path):  # noqa: F811
    side = parse_sidecar(json.dumps(GOOD).encode())
    with session_scope(db_url) as s:
        d1 = s.get(Dictation, _dictation(s, tmp_path))
        processing.attach_metadata(s, d1, side, {"dropped_as": "a.wav"}, "outpatient")
        assert processing.care_setting(s, d1.id, "outpatient") == "inpatient"
    other = parse_sidecar(json.dumps({**GOOD, "birth_date": "1951-01-01", "encounter_id": "E-2"}).encode())
    with session_scope(db_url) as s:
        d2 = s.get(Dictation, _dictation(s, tmp_path, b"RIFF-other"))
        processing.attach_metadata(s, d2, other, {}, "outpatient")
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 1  # matched by MRN
        p = s.scalar(select(Patient))
        assert (p.mrn, p.name, p.birth_date, p.sex) == ("A123456", "Jane Q. Doe", date(1950, 2, 3), "F")
        encs = s.scalars(select(Encounter).order_by(Encounter.id)).all()
        assert [(e.external_id, e.setting, e.physician, e.patient_id) for e in encs] == [
            ("E-2024/0042", "inpatient", "Dr. Ada Smith", p.id),
            ("E-2", "inpatient", "Dr. Ada Smith", p.id),
        ]
        d1 = s.scalar(select(Dictation).order_by(Dictation.id))
        assert (d1.document_type, d1.priority, d1.source_meta["sidecar"]["mrn"]) == ("discharge_summary", "stat", "A123456")
        mismatch = s.scalars(select(AuditEvent).where(AuditEvent.action == "patient_mismatch")).one()
        assert mismatch.after == {"birth_date": {"stored": "1950-02-03", "sidecar": "1951-01-01"}}


def test_retry_candidates(db_url, tmp_path):  # noqa: F811
    now = datetime.now(UTC)
    with session_scope(db_url) as s:
        due, later, spent, bad, stuck = (_dictation(s, tmp_path, b"x" * i) for i in range(1, 6))
    with session_scope(db_url) as s:
        for did, kind, nxt, attempts in (
            (due, "transient", now - timedelta(seconds=1), 1),
            (later, "transient", now + timedelta(hours=1), 1),
            (spent, "transient", None, 3),
            (bad, "not_media", None, 1),
        ):
            s.execute(
                text("UPDATE dictations SET status='failed', error_kind=:k, next_attempt_at=:n, attempts=:a WHERE id=:i"),
                {"k": kind, "n": nxt, "a": attempts, "i": did},
            )
        s.execute(
            text(
                "UPDATE dictations SET status='transcribing', lease_owner='gone:1:x', lease_expires_at=:t, attempts=1 WHERE id=:i"
            ),
            {"t": now - timedelta(minutes=1), "i": stuck},
        )
    with session_scope(db_url) as s:
        assert [d.id for d in processing.retry_candidates(s, 3)] == [due, stuck]
        assert {d.id for d in processing.retry_candidates(s, None)} == {due, spent, stuck}


# -- database briefly unavailable -----------------------------------------------------------


def test_db_retry_rides_out_a_locked_sqlite_database(tmp_path):
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the whole database
    threading.Timer(1.5, holder.rollback).start()
    tries = []

    def write():
        tries.append(time.monotonic())
        with engine.begin() as c:
            c.execute(text("INSERT INTO t VALUES (1)"))
        return "ok"

    t0 = time.monotonic()
    assert processing.with_db_retry(write, attempts=6, wait_s=0.25) == "ok"
    assert len(tries) >= 2 and time.monotonic() - t0 >= 1.0
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM t")).scalar() == 1
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(OperationalError):  # longer than the retries allow: the error surfaces
        processing.with_db_retry(write, attempts=2, wait_s=0.1)
    holder.rollback()
    holder.close()
    engine.dispose()


@pytest.mark.postgres
def test_db_retry_rides_out_a_postgres_outage():
    from store_support import create_pg_database

    from pipeline.store.db import get_engine

    conn, name = create_pg_database()
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        with session_scope(url) as s:
            s.execute(text("SELECT 1"))
        cur = conn.cursor()
        cur.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

        def reopen():
            conn.cursor().execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")

        threading.Timer(2.0, reopen).start()
        tries = []

        def count():
            tries.append(1)
            with session_scope(url) as s:
                return s.scalar(select(func.count()).select_from(Dictation))

        assert processing.with_db_retry(count, attempts=6, wait_s=0.5) == 0
        assert len(tries) >= 2
    finally:
        get_engine(url).dispose()
        conn.cursor().execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()


# -- daily summary --------------------------------------------------------------------------


def test_daily_summary_counts_what_happened(tmp_path):
    from store_support import sample_proposal, sample_transcript

    from pipeline.intake import summary

    url = f"sqlite:///{tmp_path / 'sum.db'}"
    with session_scope(url) as s:
        a, b, c = (_dictation(s, tmp_path, b"y" * i) for i in range(1, 4))
    for did in (a, b):
        with session_scope(url) as s:
            processing.claim(s, did, "h:1:t", 300, 3)
            repository.store_results(
                s,
                did,
                transcript=sample_transcript(),
                entities=[],
                proposals=[sample_proposal("R07.9"), sample_proposal("R51.9")],
                has_video=False,
                model_version="t",
                lease=LeaseGuard("h:1:t", {"load": 0.5, "transcribe": 2.0}),
            )
    with session_scope(url) as s:
        processing.claim(s, c, "h:1:t", 300, 3)
        processing.record_failure(s, c, "h:1:t", "not_media", "this file is not audio or video", retry_in_s=None)
    with session_scope(url) as s:
        daily = summary.build_summary(s, datetime.now(UTC) + timedelta(seconds=1), "Europe/Berlin", run={"coded": 2})
    assert (daily.processed, daily.codes_proposed, daily.failed_count) == (2, 4, 1)
    assert daily.audio_hours == round(4.0 / 3600, 3) and daily.codes_by_system == {"ICD-10-CM": 4}
    assert daily.failures_by_kind == {"not_media": 1} and daily.failed[0]["reason"] == "this file is not audio or video"
    assert daily.mean_stage_seconds == {"load": 0.5, "transcribe": 2.0}
    js, md = summary.write_summary(daily, tmp_path / "summaries")
    assert json.loads(js.read_text())["processed"] == 2 and js.name == f"{daily.day}.json"
    text_md = md.read_text()
    assert "| dictations coded | 2 |" in text_md and "not audio or video" in text_md
    assert ".wav" in text_md and ".wav" not in summary.render_markdown(daily, with_names=False)
    with session_scope(url) as s:  # a window before any of it: nothing
        empty = summary.build_summary(s, datetime.now(UTC) - timedelta(days=2), "UTC")
    assert (empty.processed, empty.failed_count) == (0, 0)


# -- settings -------------------------------------------------------------------------------


def test_operations_settings_defaults(settings, monkeypatch):
    assert settings.inbox_path == settings.data_dir / "inbox"
    assert settings.archive_path == settings.data_dir / "archive"
    assert settings.quarantine_path == settings.data_dir / "quarantine"
    assert settings.nightly_cron == "0 2 * * *" and settings.resolved_timezone
    monkeypatch.setenv("TZ", "America/Chicago")
    from pipeline.settings import local_timezone_name

    assert local_timezone_name() == "America/Chicago"
    assert settings.model_copy(update={"timezone": "Asia/Tokyo"}).resolved_timezone == "Asia/Tokyo"


def test_auto_workers_respects_cores_and_memory():
    from flows.scaleout import GIB, auto_workers

    assert auto_workers(cores=2, available=24 * GIB) == 2
    assert auto_workers(cores=16, available=9 * GIB) == 3  # 2.5 GiB each
    assert auto_workers(cores=4, available=1 * GIB) == 1


_GATE = threading.Event()


def _hang_until_released() -> None:  # a dictation task that hangs (in-process workers share the event)
    _GATE.wait(30)


def test_a_stalled_batch_stops_waiting_and_leaves_the_rest():
    """No dictation finished for the stall time: the batch ends; what is left is cancelled
    (it stays in the inbox for the next run) instead of holding the run forever."""
    from distributed import Client, LocalCluster

    from flows.dropfolder import _wait_for_progress

    class Future:  # the face of a Prefect Dask future that the batch uses
        def __init__(self, f):
            self.wrapped_future = f

    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        quick = [Future(client.submit(time.sleep, 0.2, pure=False)) for _ in range(2)]
        assert _wait_for_progress(quick, stall_s=5) is False
        _GATE.clear()
        stuck = [Future(client.submit(time.sleep, 0.2, pure=False)), Future(client.submit(_hang_until_released, pure=False))]
        t0 = time.monotonic()
        try:
            assert _wait_for_progress(stuck, stall_s=1.0) is True
            assert time.monotonic() - t0 < 5
            assert [f.wrapped_future.status for f in stuck] == ["finished", "cancelled"]
        finally:
            _GATE.set()


def test_machine_settings_come_from_the_worker_machine(settings, monkeypatch):
    """A task carries the flow's settings; a worker machine's own MRT_CPU_THREADS (and device,
    compute type, cache) win there, the rest (database, folders, model) stays the flow's."""
    from flows.scaleout import on_this_host
    from pipeline.settings import get_settings

    sent = settings.model_copy(update={"cpu_threads": 0, "database_url": "postgresql+psycopg2://db/mrt"})
    monkeypatch.delenv("MRT_CPU_THREADS", raising=False)
    get_settings.cache_clear()
    assert on_this_host(sent) is sent
    monkeypatch.setenv("MRT_CPU_THREADS", "1")
    get_settings.cache_clear()
    try:
        here = on_this_host(sent)
        assert here.cpu_threads == 1 and here.database_url == sent.database_url and here.whisper_model == sent.whisper_model
    finally:
        monkeypatch.delenv("MRT_CPU_THREADS")
        get_settings.cache_clear()
