"""The probes of issue 18, each a test that failed on the code before it: media served only from
the record's own checked file, no file name read by ffmpeg as a protocol, one guard for every
change to a record (link to another patient included), no reprocessing over a coder's work,
the sidecar stored by `mrt process`, the Prefect server dying with its parent, and bad input
(NUL searches, huge ids, noise and fragments) refused with a reason. Real media, real Whisper,
real SQLite, the real web app."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, make_media
from fastapi.testclient import TestClient
from review_support import PASSWORD
from sqlalchemy import select
from test_review_api import site  # noqa: F401  (three coded records, a user per role)

from pipeline.store.db import session_scope
from pipeline.store.models import AuditEvent, Dictation, DictationStatus, Patient, User, utcnow

JSON = {"Accept": "application/json"}


# ------------------------------------------------------------------ ffmpeg never sees a protocol
def test_a_file_name_is_never_read_by_ffmpeg_as_a_protocol(tmp_path, ffmpeg, monkeypatch):
    """`mrt process 'concat:a.wav|b.wav'` decoded a.wav + b.wav; now it decodes the file of that name."""
    from pipeline.transcribe.audio import load_media

    make_media(ffmpeg, tmp_path / "a.wav", "-f", "lavfi", "-i", "sine=frequency=440:duration=3")
    make_media(ffmpeg, tmp_path / "b.wav", "-f", "lavfi", "-i", "sine=frequency=660:duration=3")
    make_media(ffmpeg, tmp_path / "concat:a.wav|b.wav", "-f", "lavfi", "-i", "sine=frequency=550:duration=1.5", "-f", "wav")
    monkeypatch.chdir(tmp_path)
    audio = load_media("concat:a.wav|b.wav")  # relative, as `mrt process .` passes it
    assert abs(audio.duration - 1.5) < 0.1, audio.duration  # the named file, not 6 s of a + b


def test_ffmpeg_gets_absolute_regular_files_only(tmp_path, ffmpeg, monkeypatch):
    from pipeline.errors import MediaError
    from pipeline.transcribe.audio import ffmpeg_input

    wav = make_media(ffmpeg, tmp_path / "x.wav", "-f", "lavfi", "-i", "sine=duration=1")
    monkeypatch.chdir(tmp_path)
    with ffmpeg_input("x.wav") as arg:
        assert arg == "file:" + str(wav.resolve())
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(MediaError) as e:
        with ffmpeg_input("dir.wav"):
            pass
    assert e.value.kind == "not_media"


# ------------------------------------------------------------------ the web app's probes
pytestmark = pytest.mark.slow


def _stored(site, rid: int) -> Path:
    with session_scope(site.url) as s:
        return Path(s.get(Dictation, rid).source_path)


def test_media_is_served_only_from_the_records_own_checked_file(site, tmp_path):
    alice = site.login("alice")
    rid, other = site.ids[0], site.ids[1]
    ok = alice.get(f"/records/{rid}/media")
    assert ok.status_code == 200 and ok.content == _stored(site, rid).read_bytes()

    # a link swapped in at the stored path is not followed
    path = _stored(site, rid)
    kept = tmp_path / "kept"
    shutil.move(path, kept)
    path.symlink_to("/etc/passwd")
    r = alice.get(f"/records/{rid}/media")
    assert r.status_code == 404 and "root:" not in r.text
    assert "link" in r.json()["error"]

    # another dictation copied over it is not served: its hash is not the record's
    path.unlink()
    shutil.copy(_stored(site, other), path)
    r = alice.get(f"/records/{rid}/media")
    assert r.status_code == 404 and "content changed" in r.json()["error"]

    # a record whose path points outside the archive is not served, even to a real file
    shutil.copy(kept, path)
    assert alice.get(f"/records/{rid}/media").status_code == 200
    with session_scope(site.url) as s:
        s.get(Dictation, rid).source_path = str(kept)
    r = alice.get(f"/records/{rid}/media")
    assert r.status_code == 404 and "not filed in the archive" in r.json()["error"]


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(site):
    alice = site.login("alice")
    for path in ("/records/99999999999999999999999/media", "/records/99999999999999999999999", "/api/records/-1"):
        r = alice.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text)


def test_a_nul_in_a_search_matches_nothing_and_says_why(site):
    alice = site.login("alice")
    r = alice.get("/api/search", params={"text": "\x00"})
    assert r.status_code == 400 and "control character" in r.json()["error"]
    assert alice.get("/api/search", params={"text": "diabetes"}).status_code == 200


def test_a_file_posted_as_a_form_field_is_refused_not_a_500(site):
    """A multipart POST with a file where the form expects text (the CSRF token, the login's next page,
    the patients to merge) is refused like a missing field."""
    alice = site.login("alice")
    token = alice.headers.pop("X-CSRF-Token")
    file = {"csrf_token": ("token.txt", token.encode(), "text/plain")}
    r = alice.post(f"/records/{site.ids[0]}/claim", files=file)
    assert r.status_code == 403 and "CSRF" in r.text
    anonymous = TestClient(alice.app)
    r = anonymous.post("/login", data={"username": "alice", "password": PASSWORD}, files=file)
    assert r.status_code < 500 and "expired" in anonymous.get(r.headers.get("location", "/login")).text + r.text


def _claim(c: TestClient, rid: int) -> None:
    assert c.post(f"/records/{rid}/claim").status_code == 200


def _patient(site, mrn: str) -> int:
    with session_scope(site.url) as s:
        p = Patient(mrn=mrn, name="Other Patient")
        s.add(p)
        s.flush()
        return p.id


def test_linking_to_another_patient_needs_the_claim_or_a_supervisor_and_is_audited_per_record(site):
    alice, bob, sue = site.login("alice"), site.login("bob"), site.login("sue")
    rid, sibling = site.ids[0], site.ids[1]
    with session_scope(site.url) as s:  # two records of one encounter (two dictations of one visit)
        s.get(Dictation, sibling).encounter_id = s.get(Dictation, rid).encounter_id
    target = _patient(site, "MRN-TARGET")
    _claim(alice, rid)

    r = bob.post(f"/records/{rid}/link", data={"mrn": "MRN-TARGET"})  # not bob's claim
    assert r.status_code == 409 and "alice" in r.json()["error"]
    r = bob.post(f"/records/{rid}/link", data={"mrn": "MRN-TARGET"}, headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and "error=" in r.headers["location"]

    _claim(bob, sibling)  # the sibling is bob's now: alice may not move it with hers
    r = alice.post(f"/records/{rid}/link", data={"mrn": "MRN-TARGET"})
    assert r.status_code == 409 and f"record {sibling}" in r.json()["error"]
    with session_scope(site.url) as s:
        assert s.get(Dictation, rid).encounter.patient_id != target

    r = sue.post(f"/records/{rid}/link", data={"mrn": "MRN-TARGET"})  # a supervisor may
    assert r.status_code == 200, r.text
    with session_scope(site.url) as s:
        assert s.get(Dictation, rid).encounter.patient_id == target
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "patient_link")).all()
        assert {e.dictation_id for e in events} == {rid, sibling}
        assert all(e.actor == "sue" and e.after["patient_id"] == target for e in events)


def test_a_finalized_record_changes_only_through_an_audited_reopen(site):
    alice, sue = site.login("alice"), site.login("sue")
    rid = site.ids[2]
    _claim(alice, rid)
    with session_scope(site.url) as s:  # its codes accepted, then finalized by alice
        d = s.get(Dictation, rid)
        for p in d.proposals:
            p.status = "accepted"
        d.status, d.finalized_at = DictationStatus.FINALIZED, utcnow()
        d.finalized_by = s.scalar(select(User.id).where(User.username == "alice"))
        d.claimed_by = d.claim_expires_at = None
    _patient(site, "MRN-ELSE")
    for who in (alice, sue):
        r = who.post(f"/records/{rid}/link", data={"mrn": "MRN-ELSE"})
        assert r.status_code == 409 and "finalized" in r.json()["error"], r.text
    pid = alice.get(f"/api/records/{rid}").json()["codes"][0]["id"]
    assert alice.post(f"/records/{rid}/codes/{pid}/reject", data={"reason": "x"}).status_code == 409
    assert alice.post(f"/records/{rid}/note", data={"note": "x"}).status_code == 409

    assert alice.post(f"/records/{rid}/reopen", data={"reason": "late pathology"}).status_code == 403  # coders cannot
    assert sue.post(f"/records/{rid}/reopen", data={"reason": ""}).status_code == 409  # a reason is required
    r = sue.post(f"/records/{rid}/reopen", data={"reason": "late pathology report"})
    assert r.status_code == 200, r.text
    with session_scope(site.url) as s:
        d = s.get(Dictation, rid)
        assert d.status == DictationStatus.CODED and d.finalized_by is None and d.finalized_at is None
        assert {p.status for p in d.proposals} == {"accepted"}  # the coder's decisions stay
        e = s.scalars(select(AuditEvent).where(AuditEvent.action == "reopen")).one()
        assert e.actor == "sue" and e.after["reason"] == "late pathology report" and e.before["status"] == "finalized"


def test_login_hashing_runs_off_the_event_loop(site, monkeypatch):
    """Argon2 inside the async handler stalled every other request (10 logins: /healthz 33 ms -> 1.2 s)."""
    from pipeline.review import auth

    real, on_loop = auth.login, []

    def login(*a, **kw):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real(*a, **kw)

    monkeypatch.setattr(auth, "login", login)
    site.login("alice")
    assert on_loop == [False]


def test_secure_cookies_over_plain_http_say_what_is_wrong(site):
    from pipeline.review.app import create_app

    app = create_app(site.settings.model_copy(update={"secure_cookies": True}))
    c = TestClient(app)  # http://testserver
    page = c.get("/login")
    assert "MRT_SECURE_COOKIES" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    c.cookies.clear()  # the browser drops a Secure cookie on plain HTTP
    r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}, follow_redirects=True)
    assert "MRT_SECURE_COOKIES" in r.text and "expired" not in r.text


# ------------------------------------------------------------------ `mrt process`: sidecar, reprocess, archive
def test_mrt_process_stores_the_sidecar_files_the_media_and_never_reprocesses_a_finalized_record(
    settings, sample, tmp_path, monkeypatch
):
    from flows.dictation import run_dictation
    from pipeline.errors import RecordLocked

    for key, value in {"MRT_DATA_DIR": str(settings.data_dir), "MRT_DATABASE_URL": settings.resolved_database_url}.items():
        monkeypatch.setenv(key, value)
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    try:
        media, _, _ = sample("04")
        work = tmp_path / "in"
        work.mkdir()
        local = work / media.name
        shutil.copy(media, local)
        (work / (media.stem + ".json")).write_text(
            json.dumps(
                {
                    "mrn": "MRN-4",
                    "patient_name": "Pat Doe",
                    "physician": "Dr. Ng",
                    "document_type": "discharge summary",
                    "setting": "inpatient",
                    "priority": "stat",
                    "encounter_id": "ADM-4",
                    "date_of_service": "2026-11-02",
                }
            )
        )
        summary, error = run_dictation(local)
        assert error is None, error
        rid = summary["id"]
        with session_scope(settings=settings) as s:
            d = s.get(Dictation, rid)
            assert (d.document_type, d.priority) == ("discharge_summary", "stat")
            assert (d.encounter.setting, d.encounter.physician, d.encounter.external_id) == ("inpatient", "Dr. Ng", "ADM-4")
            assert d.encounter.patient.mrn == "MRN-4"
            stored = Path(d.source_path)
            assert stored.is_relative_to(settings.archive_path.resolve()) and stored.read_bytes() == media.read_bytes()
            assert local.exists()  # the user's file stays where it was
            codes = sorted(p.code for p in d.proposals)
            for p in d.proposals:  # the coder accepts everything and finalizes
                p.status = "accepted"
            d.status, d.finalized_at, d.finalized_by = DictationStatus.FINALIZED, utcnow(), None

        summary, error = run_dictation(local, reprocess=True)
        assert isinstance(error, RecordLocked) and "finalized" in error.reason
        with session_scope(settings=settings) as s:
            d = s.get(Dictation, rid)
            assert d.status == DictationStatus.FINALIZED and d.finalized_at is not None
            assert sorted(p.code for p in d.proposals) == codes and {p.status for p in d.proposals} == {"accepted"}
            assert not s.scalars(
                select(AuditEvent).where(AuditEvent.dictation_id == rid, AuditEvent.action == "coded").offset(1)
            ).first()  # coded once, never again
    finally:
        get_settings.cache_clear()


# ------------------------------------------------------------------ drop folder: media path, bad input, `..wav`
@pytest.fixture
def ops(settings, tmp_path):
    s = settings.model_copy(update={"stable_seconds": 0.0, "inbox_dir": tmp_path / "inbox", "db_retry_wait_s": 0.05})
    s.inbox_path.mkdir()
    return s


def test_a_drop_folder_records_media_is_playable_after_archiving(ops, sample):
    from pipeline.intake import runner
    from pipeline.intake.inbox import scan
    from pipeline.review.media import stored_media

    media, _, _ = sample("01")
    shutil.copy(media, ops.inbox_path / "..wav")  # a name of dots was skipped as hidden, unreported
    drops = scan(ops.inbox_path).drops
    assert [d.media.name for d in drops] == ["..wav"]
    out = runner.process_drop(drops[0], ops, inbox_root=ops.inbox_path)
    assert out.outcome == "coded", out
    with session_scope(settings=ops) as s:
        d = s.get(Dictation, out.dictation_id)
        assert Path(d.source_path) == Path(out.moved_to).resolve()
        assert stored_media(d, ops).path.read_bytes() == media.read_bytes()


def test_noise_fragments_and_cut_off_files_are_quarantined_with_a_reason(ops, sample, ffmpeg):
    from pipeline.intake import runner
    from pipeline.intake.inbox import scan

    inbox = ops.inbox_path
    mp3, _, _ = sample("02")
    (inbox / "truncated.mp3").write_bytes(mp3.read_bytes()[:10240])
    make_media(ffmpeg, inbox / "noise.wav", "-f", "lavfi", "-i", "anoisesrc=d=10:c=white:a=0.3", "-ar", "16000")
    wav, _, _ = sample("01")
    make_media(ffmpeg, inbox / "clip.wav", "-ss", "3", "-t", "0.2", "-i", str(wav))
    outcomes = {d.media.name: runner.process_drop(d, ops, inbox_root=inbox) for d in scan(inbox).drops}
    assert {k: o.outcome for k, o in outcomes.items()} == dict.fromkeys(["clip.wav", "noise.wav", "truncated.mp3"], "quarantined")
    assert outcomes["clip.wav"].kind == "too_short"
    assert outcomes["noise.wav"].kind == "no_speech" and "no words" in outcomes["noise.wav"].reason
    assert outcomes["truncated.mp3"].kind == "no_speech" and "fragment" in outcomes["truncated.mp3"].reason
    for name in outcomes:
        assert (ops.quarantine_path / name).exists() or any(ops.quarantine_path.rglob(name))
    with session_scope(settings=ops) as s:
        assert not s.scalars(select(Dictation).where(Dictation.status == DictationStatus.CODED)).all()


# ------------------------------------------------------------------ the Prefect server dies with its parent
def test_the_ephemeral_prefect_server_dies_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        "import time\n"
        "from flows import _prefect_env  # noqa: F401\n"
        "from prefect import flow\n"
        "@flow\n"
        "def ping():\n"
        "    return 1\n"
        "ping()\n"
        "print('READY', flush=True)\n"
        "time.sleep(300)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    parent = subprocess.Popen(
        [sys.executable, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        deadline = time.time() + 180
        line = ""
        while "READY" not in line and time.time() < deadline and parent.poll() is None:
            line = parent.stdout.readline()
        assert "READY" in line, "the flow did not run"
        children = _children(parent.pid)
        server = [pid for pid in children if b"uvicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert server, f"no ephemeral server among the children {children}"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(pid) for pid in server):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in server), "the Prefect server outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended between the listing and the read
            continue
        out += [int(c) for c in text]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
