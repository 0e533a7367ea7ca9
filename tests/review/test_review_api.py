"""The review queue's routes: login and roles, claims, every code decision, validation,
pending, physician queries, finalizing, audit and measures; on real pipeline output."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, add_user, seed_record
from sqlalchemy import select, update
from typer.testing import CliRunner

from pipeline.review.app import create_app
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEvent, Dictation, ReviewDecision, User, utcnow

pytestmark = pytest.mark.slow
JSON = {"Accept": "application/json"}


@pytest.fixture
def site(settings, coded):
    """A database with three coded records and one user per role; login(name) -> client."""
    url = settings.resolved_database_url
    ids = [
        seed_record(url, coded, i, priority=p, document_type=t, archive=settings.archive_path)
        for i, (p, t) in enumerate([("routine", "office_note"), ("stat", "office_note"), ("routine", "consult")])
    ]
    for name, role in [("alice", "coder"), ("bob", "coder"), ("sue", "supervisor"), ("ada", "admin")]:
        add_user(url, name, role)
    app = create_app(settings)

    def login(name: str, password: str = PASSWORD) -> TestClient:
        c = TestClient(app)
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post("/login", data={"username": name, "password": password, "csrf_token": token}, headers=JSON)
        assert r.status_code == 200, r.text
        c.headers.update({"X-CSRF-Token": r.json()["csrf_token"], **JSON})
        return c

    class Site:
        pass

    site = Site()
    site.url, site.ids, site.app, site.login, site.settings = url, ids, app, login, settings
    return site


def _codes(c: TestClient, rid: int) -> list[dict]:
    return c.get(f"/api/records/{rid}").json()["codes"]


def _decide_all(c: TestClient, rid: int) -> None:
    """Accept every proposal, except type 1 diabetes: the sample dictates type 2."""
    for code in _codes(c, rid):
        if code["code"].startswith("E10"):
            r = c.post(f"/records/{rid}/codes/{code['id']}/reject", data={"reason": "documented as type 2"})
        else:
            r = c.post(f"/records/{rid}/codes/{code['id']}/accept")
        assert r.status_code == 200, r.text


def _claim_next(c: TestClient) -> int:
    r = c.post("/worklist/next")
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_nothing_without_login(site):
    anon = TestClient(site.app)
    r = anon.get("/worklist", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert anon.get("/api/worklist").status_code == 401
    assert anon.get(f"/api/records/{site.ids[0]}").status_code == 401
    assert anon.get(f"/records/{site.ids[0]}/media", headers=JSON).status_code == 401
    assert anon.get("/api/codes/search?q=diabetes").status_code == 401


def test_passwords_are_argon2_and_failed_logins_lock_the_account(site):
    with session_scope(site.url) as s:
        assert s.scalar(select(User.password_hash).where(User.username == "bob")).startswith("$argon2id$")
    anon = TestClient(site.app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', anon.get("/login").text).group(1)
    for _ in range(site.settings.max_failed_logins):
        r = anon.post("/login", data={"username": "bob", "password": "wrong password!", "csrf_token": token}, headers=JSON)
        assert r.status_code == 401 and "Wrong user name or password" in r.json()["error"]
    r = anon.post("/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token}, headers=JSON)
    assert r.status_code == 401 and "locked" in r.json()["error"]
    # an admin's password reset unlocks it
    ada = site.login("ada")
    assert ada.post("/admin/users/bob/reset", data={"password": "a new long password"}).status_code == 200
    site.login("bob", "a new long password")
    with session_scope(site.url) as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "bob"))]
    assert actions.count("login_failed") == site.settings.max_failed_logins + 1 and "login" in actions


def test_unknown_user_and_login_form_without_its_csrf_cookie_are_refused(site):
    anon = TestClient(site.app)
    r = anon.post("/login", data={"username": "bob", "password": PASSWORD, "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 303 and "expired" in r.headers["location"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', anon.get("/login").text).group(1)
    r = anon.post("/login", data={"username": "nobody", "password": PASSWORD, "csrf_token": token}, headers=JSON)
    assert r.status_code == 401


def test_changes_need_the_csrf_token(site):
    alice = site.login("alice")
    good = alice.headers.pop("X-CSRF-Token")
    assert alice.post("/worklist/next").status_code == 403
    assert alice.post("/worklist/next", headers={"X-CSRF-Token": "x" * 43}).status_code == 403
    assert alice.post("/worklist/next", headers={"X-CSRF-Token": good}).status_code == 200


def test_every_role_sees_only_its_pages(site):
    alice, sue, ada = site.login("alice"), site.login("sue"), site.login("ada")
    for path in ("/measures", "/api/measures", "/admin/users"):
        assert alice.get(path).status_code == 403
    assert sue.get("/api/measures").status_code == 200 and sue.get("/admin/users").status_code == 403
    assert ada.get("/admin/users").status_code == 200 and ada.get("/api/measures").status_code == 200
    assert alice.post(f"/records/{site.ids[0]}/reassign", data={"to": "bob"}).status_code == 403
    assert alice.post("/admin/users", data={"username": "eve", "password": "x" * 12, "role": "admin"}).status_code == 403
    r = ada.post("/admin/users", data={"username": "carol", "password": "long enough pw", "role": "coder"})
    assert r.status_code == 200
    site.login("carol", "long enough pw")


def test_next_record_claims_by_priority_and_locks_it_to_its_coder(site):
    alice, bob, sue = site.login("alice"), site.login("bob"), site.login("sue")
    first = _claim_next(alice)
    assert first == site.ids[1]  # the stat record comes first
    assert _claim_next(alice) == first  # asking again resumes one's own claim
    second = _claim_next(bob)
    assert second != first
    r = bob.post(f"/records/{first}/claim")
    assert r.status_code == 409 and "alice" in r.json()["error"]
    pid = _codes(bob, first)[0]["id"]
    r = bob.post(f"/records/{first}/codes/{pid}/accept")
    assert r.status_code == 409 and "alice" in r.json()["error"]
    rows = {r["id"]: r for r in bob.get("/api/worklist").json()["records"]}
    assert rows[first]["claimed_by"] == "alice" and rows[second]["claimed_by"] == "bob"
    # a claim times out
    with session_scope(site.url) as s:
        s.execute(update(Dictation).where(Dictation.id == first).values(claim_expires_at=utcnow() - timedelta(seconds=1)))
    assert bob.post(f"/records/{first}/claim").status_code == 200
    # a supervisor reassigns
    assert sue.post(f"/records/{first}/reassign", data={"to": "alice"}).status_code == 200
    assert bob.post(f"/records/{first}/codes/{pid}/accept").status_code == 409
    assert alice.post(f"/records/{first}/codes/{pid}/accept").status_code == 200


def test_accept_reject_edit_add_undo_principal_and_order(site):
    alice = site.login("alice")
    rid = _claim_next(alice)
    codes = _codes(alice, rid)
    cm = [c for c in codes if c["system"] == "ICD-10-CM"]
    assert len(cm) >= 3 and cm[0]["principal"]
    a, b, c = cm[0], cm[1], cm[2]

    assert alice.post(f"/records/{rid}/codes/{a['id']}/accept").status_code == 200
    r = alice.post(f"/records/{rid}/codes/{b['id']}/reject", data={"reason": ""})
    assert r.status_code == 409 and "reason" in r.json()["error"]
    assert alice.post(f"/records/{rid}/codes/{b['id']}/reject", data={"reason": "Not documented"}).status_code == 200
    r = alice.post(f"/records/{rid}/codes/{c['id']}/edit", data={"code": "Q99.99"})
    assert r.status_code == 409 and "not an ICD-10-CM code" in r.json()["error"]
    r = alice.post(f"/records/{rid}/codes/{c['id']}/edit", data={"code": "e1165", "reason": "documented as uncontrolled"})
    assert r.status_code == 200
    r = alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-CM", "code": "Z79.4"})
    assert r.status_code == 200
    r = alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-CM", "code": "Z79.4"})
    assert r.status_code == 409 and "already" in r.json()["error"]
    r = alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-PCS", "code": "0DTJ4ZZ"})
    assert r.status_code == 200

    after = {x["id"]: x for x in _codes(alice, rid)}
    assert after[a["id"]]["status"] == "accepted"
    assert after[b["id"]]["status"] == "rejected" and after[b["id"]]["reject_reason"] == "Not documented"
    assert after[c["id"]]["status"] == "edited" and after[c["id"]]["code"] == "E11.65"
    assert after[c["id"]]["proposed_code"] == c["code"]
    added = [x for x in after.values() if x["source"] == "coder"]
    assert {x["code"] for x in added} == {"Z79.4", "0DTJ4ZZ"} and all(
        x["status"] == "added" and x["score"] is None for x in added
    )

    assert alice.post(f"/records/{rid}/codes/{b['id']}/undo").status_code == 200
    assert {x["id"]: x for x in _codes(alice, rid)}[b["id"]]["status"] == "proposed"
    assert alice.post(f"/records/{rid}/codes/{c['id']}/principal").status_code == 200
    now = [x for x in _codes(alice, rid) if x["system"] == "ICD-10-CM"]
    assert now[0]["id"] == c["id"] and now[0]["principal"] and sum(x["principal"] for x in now) == 1
    assert alice.post(f"/records/{rid}/codes/{c['id']}/down").status_code == 200
    assert [x for x in _codes(alice, rid) if x["system"] == "ICD-10-CM"][1]["id"] == c["id"]

    with session_scope(site.url) as s:
        decided = s.scalars(select(ReviewDecision).where(ReviewDecision.dictation_id == rid)).all()
        audit = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.dictation_id == rid))]
    assert {d.action for d in decided} == {"accept", "reject", "edit", "add"}
    edit_row = next(d for d in decided if d.action == "edit")
    assert edit_row.code_before == c["code"] and edit_row.code_after == "E11.65" and "faster-whisper" in edit_row.model_version
    for action in ("claim", "view", "accept", "reject", "edit", "add", "undo", "principal", "reorder"):
        assert action in audit, action


def test_edits_block_finalizing_until_resolved_then_measures_count_outcomes(site):
    alice, sue = site.login("alice"), site.login("sue")
    rid = _claim_next(alice)
    r = alice.post(f"/records/{rid}/finalize")
    assert r.status_code == 409 and "not yet accepted" in r.json()["error"]
    # accept everything; with type 1 diabetes (E10.9) beside type 2 (E11.-) Excludes1 must block
    codes = _codes(alice, rid)
    assert any(c["code"].startswith("E11") for c in codes)
    e10_proposed = any(c["code"] == "E10.9" for c in codes)
    for c in codes:
        assert alice.post(f"/records/{rid}/codes/{c['id']}/accept").status_code == 200
    if not e10_proposed:
        assert alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-CM", "code": "E10.9"}).status_code == 200
    v = alice.get(f"/api/records/{rid}/validation").json()
    assert not v["can_finalize"] and any(f["kind"] == "excludes1" and f["severity"] == "error" for f in v["findings"])
    r = alice.post(f"/records/{rid}/finalize")
    assert r.status_code == 409 and "E10.9" in r.json()["error"]
    rows = {x["id"]: x for x in alice.get("/api/worklist?edits=yes").json()["records"]}
    assert rid in rows
    assert rid not in {x["id"] for x in alice.get("/api/worklist?edits=no").json()["records"]}
    # a documented exception overrides it (Guidelines I.A.12.a: unrelated conditions) ...
    f = next(f for f in v["findings"] if f["kind"] == "excludes1")
    assert (
        alice.post(
            f"/records/{rid}/override", data={"kind": "excludes1", "codes": ",".join(f["codes"]), "reason": ""}
        ).status_code
        == 409
    )
    assert alice.post(f"/records/{rid}/override", data={"kind": "no_principal", "codes": "", "reason": "x"}).status_code == 409
    r = alice.post(
        f"/records/{rid}/override", data={"kind": "excludes1", "codes": ",".join(f["codes"]), "reason": "test of override"}
    )
    assert r.status_code == 200
    v = alice.get(f"/api/records/{rid}/validation").json()
    assert v["can_finalize"] and any(
        f["kind"] == "excludes1" and f["severity"] == "warning" and "test of override" in f["message"] for f in v["findings"]
    )
    # ... but here the dictation says type 2, so the coder rejects type 1 instead
    e10 = next(c for c in _codes(alice, rid) if c["code"] == "E10.9")
    assert alice.post(f"/records/{rid}/codes/{e10['id']}/reject", data={"reason": "documented as type 2"}).status_code == 200
    assert alice.get(f"/api/records/{rid}/validation").json()["can_finalize"]
    r = alice.post(f"/records/{rid}/finalize")
    assert r.status_code == 200
    rec = alice.get(f"/api/records/{rid}").json()
    assert rec["status"] == "finalized" and rec["claimed_by"] is None
    assert rec["history"][-2]["action"] == "finalize" or any(h["action"] == "finalize" for h in rec["history"])
    # a finalized record cannot be changed
    assert alice.post(f"/records/{rid}/codes/{rec['codes'][0]['id']}/reject", data={"reason": "x"}).status_code == 409
    assert rid not in {x["id"] for x in alice.get("/api/worklist").json()["records"]}
    m = sue.get("/api/measures").json()["measures"]
    cm = next(x for x in m if x["system"] == "ICD-10-CM")
    n_cm = sum(1 for c in rec["codes"] if c["system"] == "ICD-10-CM" and c["source"] == "pipeline")
    rejected = 1 if e10_proposed else 0
    assert cm["records"] == 1 and cm["proposed"] == n_cm and cm["rejected"] == rejected
    assert cm["accepted"] == n_cm - rejected and cm["added"] == 0
    assert cm["acceptance_rate"] == pytest.approx((n_cm - rejected) / n_cm)
    # the report's per-coder counts agree with the measures: a code added and removed again counts nowhere
    prod = next(t for t in sue.get("/reports", headers=JSON).json()["tables"] if t["name"] == "productivity")
    row = next(r for r in prod["rows"] if r[0] == "alice")
    assert row[prod["columns"].index("added")] == cm["added"] == 0
    assert row[prod["columns"].index("rejected")] == cm["rejected"]


def test_a_header_code_is_refused_with_its_choices_and_an_own_addition_goes_without_a_reason(site):
    alice = site.login("alice")
    rid = _claim_next(alice)
    r = alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-CM", "code": "J44"})
    assert r.status_code == 409 and "header code" in r.json()["error"]
    assert {c["code"] for c in r.json()["choices"]} == {"J44.0", "J44.1", "J44.81", "J44.89", "J44.9"}
    assert alice.post(f"/records/{rid}/codes/add", data={"system": "ICD-10-CM", "code": "Z79.4"}).status_code == 200
    z = next(c for c in _codes(alice, rid) if c["code"] == "Z79.4")
    assert alice.post(f"/records/{rid}/codes/{z['id']}/reject", data={}).status_code == 200
    assert all(c["code"] != "Z79.4" for c in _codes(alice, rid))
    p = next(c for c in _codes(alice, rid) if c["source"] == "pipeline")
    r = alice.post(f"/records/{rid}/codes/{p['id']}/reject", data={})
    assert r.status_code == 409 and "reason" in r.json()["error"]  # the pipeline's codes still need one


def test_pending_and_physician_queries(site):
    alice = site.login("alice")
    rid = _claim_next(alice)
    r = alice.post(f"/records/{rid}/queries", data={"template": "specificity", "finding": "diabetes"})
    assert r.status_code == 200
    q = alice.get(f"/api/records/{rid}").json()["queries"][0]
    assert q["status"] == "open" and "diabetes" in q["question"]
    r = alice.post(f"/records/{rid}/pending", data={"reason": "Awaiting physician query", "note": "asked Dr Reyes"})
    assert r.status_code == 200
    rec = alice.get(f"/api/records/{rid}").json()
    assert rec["status"] == "pending" and rec["claimed_by"] is None and rec["note"] == "asked Dr Reyes"
    assert rid in {x["id"] for x in alice.get("/api/worklist?status=pending").json()["records"]}
    assert _claim_next(alice) != rid  # "next" does not hand out parked records
    assert alice.post(f"/records/{rid}/claim").status_code == 200
    _decide_all(alice, rid)
    r = alice.post(f"/records/{rid}/finalize")
    assert r.status_code == 409 and "query" in r.json()["error"]
    assert alice.post(f"/records/{rid}/queries/{q['id']}/answer", data={"answer": ""}).status_code == 409
    assert alice.post(f"/records/{rid}/queries/{q['id']}/answer", data={"answer": "Type 2 with hyperglycemia"}).status_code == 200
    assert alice.post(f"/records/{rid}/queries/{q['id']}/close").status_code == 200
    assert alice.post(f"/records/{rid}/resume").status_code == 200
    assert alice.post(f"/records/{rid}/finalize").status_code == 200
    actions = [h["action"] for h in alice.get(f"/api/records/{rid}").json()["history"]]
    for a in ("query_create", "pending", "claim", "query_answer", "query_close", "resume", "finalize"):
        assert a in actions, a


def test_audit_rows_cannot_be_changed(site):
    with session_scope(site.url) as s:
        e = s.scalars(select(AuditEvent)).first()
        e.action = "tampered"
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()
    with session_scope(site.url) as s:
        e = s.scalars(select(AuditEvent)).first()
        s.delete(e)
        with pytest.raises(PermissionError):
            s.flush()
        s.rollback()


def test_transcript_and_user_text_are_escaped(site, coded):
    from dataclasses import replace

    from pipeline.transcribe.types import Segment, Transcript

    evil = "Patient says <script>alert('x')</script> and <img src=x onerror=alert(1)> hurts."
    t = Transcript.from_segments(
        [Segment(0, 0.0, 3.0, evil, [])], language="en", model="tiny.en", backend="faster-whisper", duration=3.0
    )
    rid = seed_record(site.url, replace(coded, transcript=t, entities=[]), 99)
    alice = site.login("alice")
    alice.post(f"/records/{rid}/claim")
    alice.post(f"/records/{rid}/note", data={"note": "<b onmouseover=alert(2)>x</b>"})
    page = alice.get(f"/records/{rid}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b onmouseover" not in page.text
    assert "&lt;script&gt;alert" in page.text and "&lt;b onmouseover=alert(2)&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_worklist_filters_sort_and_search(site):
    alice = site.login("alice")
    assert [r["id"] for r in alice.get("/api/worklist").json()["records"]][0] == site.ids[1]
    assert {r["id"] for r in alice.get("/api/worklist?priority=stat").json()["records"]} == {site.ids[1]}
    assert {r["id"] for r in alice.get("/api/worklist?document_type=consult").json()["records"]} == {site.ids[2]}
    assert len(alice.get("/api/worklist?physician=reyes").json()["records"]) == 3
    assert alice.get("/api/worklist?physician=nobody").json()["records"] == []
    ids = [r["id"] for r in alice.get("/api/worklist?sort=received_desc").json()["records"]]
    assert ids == sorted(ids, reverse=True)
    html = alice.get("/worklist", headers={"Accept": "text/html"}).text
    assert "Next record" in html and all(f'href="/records/{i}"' in html for i in site.ids)
    hits = alice.get("/api/codes/search", params={"q": "E11.2", "system": "ICD-10-CM"}).json()["results"]
    assert {"E11.21", "E11.22", "E11.29"} <= {h["code"] for h in hits}
    hits = alice.get("/api/codes/search", params={"q": "laparoscopic appendectomy", "system": "ICD-10-PCS"}).json()["results"]
    assert "0DTJ4ZZ" in {h["code"] for h in hits}


def test_media_is_served_with_ranges_for_seeking(site):
    alice = site.login("alice")
    r = alice.get(f"/records/{site.ids[0]}/media", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and len(r.content) == 100
    assert r.headers["content-type"].startswith("audio/")


def test_users_command_line(site, monkeypatch):
    from pipeline.cli import app

    monkeypatch.setenv("MRT_DATABASE_URL", site.url)
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["users", "add", "dave", "--role", "supervisor", "--password", "dave's long pw"])
        assert r.exit_code == 0, r.output
        assert runner.invoke(app, ["users", "add", "dave", "--password", "another long pw"]).exit_code == 2
        assert runner.invoke(app, ["users", "add", "eve", "--password", "short"]).exit_code == 2
        assert "dave" in runner.invoke(app, ["users", "list"]).output
        site.login("dave", "dave's long pw")
        assert runner.invoke(app, ["users", "disable", "dave"]).exit_code == 0
        anon = TestClient(site.app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', anon.get("/login").text).group(1)
        r = anon.post("/login", data={"username": "dave", "password": "dave's long pw", "csrf_token": token}, headers=JSON)
        assert r.status_code == 401 and "disabled" in r.json()["error"]
        assert runner.invoke(app, ["users", "enable", "dave"]).exit_code == 0
        assert runner.invoke(app, ["users", "reset-password", "dave", "--password", "brand new password"]).exit_code == 0
        site.login("dave", "brand new password")
    finally:
        get_settings.cache_clear()


def test_no_patient_text_in_logs(site, caplog):
    caplog.set_level(logging.DEBUG)
    alice = site.login("alice")
    rid = _claim_next(alice)
    text = alice.get(f"/api/records/{rid}").json()["transcript"]
    for c in _codes(alice, rid):
        alice.post(f"/records/{rid}/codes/{c['id']}/accept")
    words = [w for w in re.findall(r"[A-Za-z]{6,}", text)][:20]
    assert words
    assert not [w for w in words if w in caplog.text]
