"""Coders asking for the next record at the same moment get different records, on SQLite
and on PostgreSQL, through the service and through the web app."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, add_user, pg_database, run_pipeline, seed_record

from pipeline.review import worklist
from pipeline.review.auth import CurrentUser
from pipeline.store.db import session_scope

pytestmark = pytest.mark.slow
CODERS = 6


@pytest.fixture(scope="module")
def coded(sample):
    media, _, _ = sample("05")
    return run_pipeline(media)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review.db'}"
    else:
        with pg_database() as url:
            yield url


def _users(url: str) -> list[CurrentUser]:
    from sqlalchemy import select

    from pipeline.store.models import User

    for i in range(CODERS + 4):
        add_user(url, f"coder{i}")
    with session_scope(url) as s:
        return [CurrentUser(u.id, u.username, u.role, "") for u in s.scalars(select(User).order_by(User.id))]


def test_simultaneous_next_record_never_hands_out_one_record_twice(db_url, coded, settings):
    ids = {seed_record(db_url, coded, i) for i in range(CODERS + 2)}
    users = _users(db_url)
    for round_ in range(3):
        barrier = threading.Barrier(CODERS)

        def ask(user: CurrentUser) -> int | None:
            barrier.wait()  # noqa: B023  (called within this round)
            with session_scope(db_url) as s:
                return worklist.claim_next(s, user, settings)

        with ThreadPoolExecutor(CODERS) as pool:
            got = list(pool.map(ask, users[:CODERS]))
        assert None not in got and len(set(got)) == CODERS and set(got) <= ids, (round_, got)
        # everyone gives their record back for the next round
        with session_scope(db_url) as s:
            for user, rid in zip(users[:CODERS], got):
                worklist.release(s, user, rid)

    # when fewer records are free than coders ask, the others get None, never a taken record
    barrier = threading.Barrier(len(users))

    def ask_all(user: CurrentUser) -> int | None:
        barrier.wait()
        with session_scope(db_url) as s:
            return worklist.claim_next(s, user, settings)

    with ThreadPoolExecutor(len(users)) as pool:
        got = list(pool.map(ask_all, users))
    taken = [r for r in got if r is not None]
    assert len(taken) == len(set(taken)) == len(ids)
    assert got.count(None) == len(users) - len(ids)


def test_two_coders_in_the_web_app_get_different_records(db_url, coded, settings):
    for i in range(2):
        seed_record(db_url, coded, i)
    add_user(db_url, "alice")
    add_user(db_url, "bob")
    from pipeline.review.app import create_app

    app = create_app(settings.model_copy(update={"database_url": db_url}))

    def client(name: str) -> TestClient:
        c = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post(
            "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, headers={"Accept": "application/json"}
        )
        c.headers.update({"X-CSRF-Token": r.json()["csrf_token"], "Accept": "application/json"})
        return c

    clients = [client("alice"), client("bob")]
    barrier = threading.Barrier(2)

    def ask(c: TestClient) -> int:
        barrier.wait()
        r = c.post("/worklist/next")
        assert r.status_code == 200, r.text
        return r.json()["id"]

    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(ask, clients))
    assert len(set(got)) == 2
