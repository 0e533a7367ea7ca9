"""The drop-folder and nightly flows through Prefect (test harness API) on a real local Dask
cluster of 2 worker processes: a 50-file batch with a corrupt file, a worker killed with
SIGKILL mid-transcription, Prefect retries of transient failures, the daily summary, the
transcription concurrency limit, and the deployments with their schedules."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    from flows import _prefect_env  # noqa: F401

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def cluster(prefect_api):
    """Two warm local worker processes, as `mrt watch` / `mrt deploy` keep them."""
    from flows.scaleout import start_shared_cluster
    from pipeline.settings import get_settings

    saved = {k: os.environ.get(k) for k in ("MRT_DASK_ADDRESS", "MRT_CPU_THREADS")}
    c = start_shared_cluster(get_settings(), 2)
    yield c
    c.close()
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    get_settings.cache_clear()


@pytest.fixture
def ops(tmp_path, cluster):
    """Settings for one test: own database and folders, files ready at once, short backoff."""
    from pipeline.settings import get_settings

    # MRT_MIN_WORDS=0: the batches are clips of a few seconds cut from the samples, not whole dictations
    values = {
        "MRT_DATA_DIR": str(tmp_path / "data"),
        "MRT_STABLE_SECONDS": "0",
        "MRT_RETRY_BACKOFF_S": "1",
        "MRT_ORPHAN_SIDECAR_MINUTES": "0",
        "MRT_TASK_RETRIES": "2",
        "MRT_MIN_WORDS": "0",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    s = get_settings()
    s.inbox_path.mkdir(parents=True)

    def configure(**extra):
        for k, v in extra.items():
            saved.setdefault(k, os.environ.get(k))
            os.environ[k] = str(v)
        get_settings.cache_clear()
        return get_settings()

    yield s, configure
    for k, v in saved.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    get_settings.cache_clear()


def _task_runs(flow_run_id):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


def _reopen_after_a_retry(conn, name: str, earlier: frozenset, limit_s: float = 90.0) -> None:
    """Let connections to database ``name`` in again once a task run of this run (not one of the
    ``earlier`` ones, which other tests on the same Prefect server left) has failed on it and waits for,
    or runs, its retry (or after ``limit_s``)."""
    from prefect import get_client

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = [r for r in client.read_task_runs() if r.id not in earlier]
        if any(r.run_count >= 2 or (r.state is not None and r.state.name in ("AwaitingRetry", "Retrying")) for r in runs):
            break
        time.sleep(0.2)
    conn.cursor().execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


def test_batch_of_50_with_one_corrupt_file(ops, cluster, tmp_path):
    from distributed import Client

    from flows import scaleout
    from flows.dropfolder import drop_folder
    from pipeline.intake.inbox import local_day
    from pipeline.intake.synth import short_clips
    from pipeline.store.db import session_scope
    from pipeline.store.models import Dictation

    s, _ = ops
    short_clips(s.inbox_path, 49, seconds=2.5)
    (s.inbox_path / "clip 025 (broken).mp3").write_bytes(b"\xff\xfb" + b"\x00garbage" * 500)
    report = drop_folder(str(s.inbox_path))
    c = report["counts"]
    assert (c["coded"], c["quarantined"], c["deferred"], c["error"]) == (49, 1, 0, 0), report["counts"]
    bad = next(o for o in report["outcomes"] if o["outcome"] == "quarantined")
    assert bad["file"] == "clip 025 (broken).mp3" and bad["kind"] in ("not_media", "unreadable")
    assert len({o["worker"] for o in report["outcomes"]}) == 2  # both workers took dictations
    with session_scope(settings=s) as sess:
        statuses = sess.execute(select(Dictation.status, func.count()).group_by(Dictation.status)).all()
        assert dict(statuses) == {"coded": 49, "failed": 1}
    assert len(list((s.archive_path / local_day(s)).glob("*.mp3"))) == 49
    assert sorted(p.name for p in s.quarantine_path.iterdir()) == ["clip 025 (broken).mp3", "clip 025 (broken).mp3.error.txt"]
    assert not any(s.inbox_path.iterdir())
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        loads = client.run(scaleout.model_loads)
        memory = client.run(_worker_memory)
    assert all(v["whisper"] == 1 and v["spacy"] == 1 for v in loads.values()), loads  # once per worker, not per dictation
    # the models are the workers' memory: a worker never pauses (that would stall the batch for good);
    # over 95% of its limit its nanny restarts it. With the models loaded it stays well under the limit.
    assert all(m["pause"] is False and m["terminate"] == 0.95 for m in memory.values()), memory
    assert all(m["peak"] < 0.75 * m["limit"] for m in memory.values()), memory


def _worker_memory(dask_worker) -> dict:  # noqa: ANN001  (run on each worker by Client.run)
    import dask

    from flows.scaleout import peak_rss_bytes

    mm = dask_worker.memory_manager
    return {
        "pause": mm.memory_pause_fraction,
        "terminate": dask.config.get("distributed.worker.memory.terminate"),
        "peak": peak_rss_bytes(),
        "limit": mm.memory_limit,
    }


def test_worker_killed_mid_transcription_resumes_with_one_record(ops, sample):
    """SIGKILL the worker process that holds the dictation while it transcribes: the nanny
    starts a new worker, Dask reruns the task, the new worker takes the dead one's lease."""
    from flows.dropfolder import drop_folder
    from pipeline.store.db import session_scope
    from pipeline.store.models import AuditEvent, Dictation, TranscriptRecord

    s, _ = ops
    media, _, _ = sample("02")  # 57 s: several seconds of transcription
    shutil.copy(media, s.inbox_path / "long visit.mp3")
    killed: list[int] = []

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            try:
                with session_scope(settings=s) as sess:
                    d = sess.scalar(select(Dictation))
                    state = (d.status, d.lease_owner) if d else (None, None)
            except Exception:  # noqa: BLE001  (schema not there yet)
                state = (None, None)
            if state[0] == "transcribing":
                pid = int(state[1].split(":")[1])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.1)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    state = drop_folder(str(s.inbox_path), return_state=True)
    t.join(timeout=5)
    report = state.result()
    assert killed, "the worker was never seen transcribing"
    assert report["counts"]["coded"] == 1, report
    outcome = report["outcomes"][0]
    assert outcome["attempts"] == 2 and int(outcome["worker"].split(":")[1]) != killed[0]
    with session_scope(settings=s) as sess:
        assert sess.scalar(select(func.count()).select_from(Dictation)) == 1
        assert sess.scalar(select(func.count()).select_from(TranscriptRecord)) == 1
        d = sess.scalar(select(Dictation))
        assert (d.status, d.attempts, d.lease_owner) == ("coded", 2, None)
        resumed = sess.scalars(select(AuditEvent).where(AuditEvent.action == "resumed")).all()
        assert len(resumed) == 1 and resumed[0].after["stage"] == "transcribing"
        assert f":{killed[0]}:" in resumed[0].after["previous_worker"]


def test_nightly_batch_retries_and_writes_the_summary(ops, sample, tmp_path):
    from flows.nightly import nightly_batch
    from pipeline.store import processing, repository
    from pipeline.store.db import session_scope
    from pipeline.store.models import Dictation

    s, configure = ops
    s = configure(MRT_TASK_RETRIES=4, MRT_MAX_ATTEMPTS=3)
    inbox = s.inbox_path
    media05, _, _ = sample("05")
    media01, _, _ = sample("01")
    media06, _, _ = sample("06")
    media04, _, _ = sample("04")
    held = inbox / "held by a dead host.ogg"
    shutil.copy(media05, held)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    retry_me = elsewhere / "failed last night.wav"
    shutil.copy(media01, retry_me)
    waiting = inbox / "in backoff.mp4"
    shutil.copy(media06, waiting)
    stuck = elsewhere / "killed three times.flac"
    shutil.copy(media04, stuck)
    (inbox / "broken.wav").write_bytes(b"RIFF" + b"\x00" * 3000)
    now = datetime.now(UTC)

    def register(sess, path):
        d, _ = repository.register_dictation(sess, path.resolve(), repository.sha256_file(path))
        sess.flush()
        return d.id

    with session_scope(settings=s) as sess:
        held_id, retry_id, waiting_id, stuck_id = (register(sess, p) for p in (held, retry_me, waiting, stuck))
    other = "other-host:4242:alive"
    with session_scope(settings=s) as sess:  # a worker on another host is working on `held`
        assert processing.claim(sess, held_id, other, 30, 3).claimed
        for did, nxt in ((retry_id, now - timedelta(minutes=1)), (waiting_id, now + timedelta(hours=2))):
            sess.execute(
                text(
                    "UPDATE dictations SET status='failed', error_kind='transient', error='disk error', attempts=1, "
                    "next_attempt_at=:n WHERE id=:i"
                ),
                {"n": nxt, "i": did},
            )
        sess.execute(
            text(
                "UPDATE dictations SET status='transcribing', lease_owner='other-host:1:x', attempts=3, "
                "lease_expires_at=:t WHERE id=:i"
            ),
            {"t": now - timedelta(hours=1), "i": stuck_id},
        )

    started = datetime.now(UTC)

    def other_host_dies_after_our_first_try():
        """Keeps its lease alive until our task has been turned away once (Prefect schedules a
        retry), then the other host dies: its lease lapses."""
        from prefect import get_client

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                waiting = [r for r in client.read_task_runs() if r.created >= started and r.state_name == "AwaitingRetry"]
            if waiting:
                with session_scope(settings=s) as sess:
                    sess.execute(
                        text("UPDATE dictations SET lease_expires_at=:t WHERE id=:i"),
                        {"t": datetime.now(UTC) - timedelta(seconds=1), "i": held_id},
                    )
                return
            time.sleep(0.3)

    other_host = threading.Thread(target=other_host_dies_after_our_first_try, daemon=True)
    other_host.start()
    state = nightly_batch(str(inbox), return_state=True)
    other_host.join(timeout=5)
    report = state.result()
    by_id = {o["dictation_id"]: o for o in report["outcomes"]}
    assert by_id[held_id]["outcome"] == "coded" and by_id[held_id]["attempts"] == 2
    assert by_id[retry_id]["outcome"] == "coded" and retry_me.exists()  # processed where it lies, not moved
    assert by_id[stuck_id]["outcome"] == "quarantined" and by_id[stuck_id]["kind"] == "gave_up" and stuck.exists()
    assert waiting.exists() and report["counts"]["deferred_backoff"] == 1
    runs = _task_runs(state.state_details.flow_run_id)
    assert max(r.run_count for r in runs) >= 2  # Prefect retried the held dictation until its lease ran out
    assert all(r.state.is_completed() for r in runs)

    summary = report["summary"]
    assert summary["processed"] == 2 and summary["audio_hours"] > 0.02 and summary["codes_proposed"] > 0
    assert {f["kind"] for f in summary["failed"]} == {"not_media", "gave_up"}
    assert any("gave up after 3 tries" in f["reason"] for f in summary["failed"])
    day_file = Path(report["summary_files"][0])
    assert json.loads(day_file.read_text())["processed"] == 2 and day_file.parent == s.summary_path
    assert "| dictations coded | 2 |" in Path(report["summary_files"][1]).read_text()
    with session_scope(settings=s) as sess:
        assert sess.get(Dictation, waiting_id).status == "failed"  # untouched until its backoff is over

    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["mrt-daily-summary"])))
    assert arts and "dictations coded | 2" in arts[0].data and ".wav" not in arts[0].data


def test_transcriptions_respect_the_global_concurrency_limit(ops):
    from prefect import get_client

    from flows.dropfolder import TRANSCRIBE_LIMIT, drop_folder
    from pipeline.intake.synth import short_clips

    s, configure = ops
    s = configure(MRT_TRANSCRIBE_CONCURRENCY=1)
    short_clips(s.inbox_path, 4, seconds=6.0)
    report = drop_folder(str(s.inbox_path))
    assert report["counts"]["coded"] == 4
    windows = sorted(o["transcribe_window"] for o in report["outcomes"])
    for (_, end), (start, _) in zip(windows, windows[1:]):
        assert start >= end - 0.05, windows  # never two transcriptions at once, across both workers
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(TRANSCRIBE_LIMIT).limit == 1


def test_deployments_carry_the_schedules(ops):
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows import deployments

    s, configure = ops
    s = configure(MRT_NIGHTLY_CRON="30 1 * * 1-5", MRT_TIMEZONE="America/Chicago", MRT_SCAN_INTERVAL_S=45)
    specs = deployments.deployment_specs(s)
    assert specs["nightly"]["schedules"][0].cron == "30 1 * * 1-5"
    assert specs["nightly"]["schedules"][0].timezone == "America/Chicago"
    ids = [d.apply() for d in deployments.runner_deployments(s)]
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("nightly-batch/nightly")
        drop = client.read_deployment_by_name("drop-folder/drop-folder")
        assert {nightly.id, drop.id} == set(ids)
        cron = nightly.schedules[0].schedule
        assert (cron.cron, cron.timezone) == ("30 1 * * 1-5", "America/Chicago")
        assert drop.schedules[0].schedule.interval == timedelta(seconds=45)
        assert nightly.global_concurrency_limit.limit == 1 and drop.concurrency_options.collision_strategy == "CANCEL_NEW"
        client.create_work_pool(WorkPoolCreate(name="mrt-test-pool", type="process"))
    pool_ids = deployments.deploy_to_work_pool("mrt-test-pool", s)
    with get_client(sync_client=True) as client:
        pooled = [client.read_deployment(i) for i in pool_ids]
    assert {d.work_pool_name for d in pooled} == {"mrt-test-pool"}
    assert {d.entrypoint for d in pooled} == set(deployments.ENTRYPOINTS.values())
    # a deployment run loads the flow from its entrypoint: it must be the importable module (the
    # Dask workers unpickle its tasks by module name), not a file loaded under a made-up name
    from prefect.flows import load_flow_from_entrypoint

    for d in (nightly, drop):
        loaded = load_flow_from_entrypoint(d.entrypoint)
        assert loaded.fn.__module__ in ("flows.dropfolder", "flows.nightly"), d.entrypoint


@pytest.mark.postgres
def test_database_outage_is_ridden_out_by_prefect_retries(ops, ffmpeg, sample):
    """PostgreSQL refuses connections at the start of a run until a task has failed on it and Prefect
    has scheduled its retry (at most 90 s): the flow goes on, each dictation's task fails transiently and
    Prefect retries it with backoff until the database is back; one record each. (A fixed 4 s outage
    could end before a loaded machine's flow first touched the database, and then nothing was retried.)"""
    from prefect import get_client
    from store_support import create_pg_database

    from flows.dropfolder import drop_folder
    from pipeline.intake.synth import short_clips
    from pipeline.store.db import get_engine, session_scope
    from pipeline.store.models import Dictation

    conn, name = create_pg_database()
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    s, configure = ops
    s = configure(MRT_DATABASE_URL=url, MRT_DB_RETRY_ATTEMPTS=2, MRT_DB_RETRY_WAIT_S=0.2, MRT_TASK_RETRIES=4)
    try:
        with session_scope(settings=s) as sess:  # schema
            sess.execute(select(1))
        short_clips(s.inbox_path, 2, seconds=3.0)
        cur = conn.cursor()
        cur.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        with get_client(sync_client=True) as client:
            earlier = frozenset(r.id for r in client.read_task_runs())
        reopen = threading.Thread(target=_reopen_after_a_retry, args=(conn, name, earlier), daemon=True)
        reopen.start()
        state = drop_folder(str(s.inbox_path), return_state=True)
        reopen.join(timeout=5)
        report = state.result()
        assert report["counts"]["coded"] == 2, report
        assert max(r.run_count for r in _task_runs(state.state_details.flow_run_id)) >= 2
        with session_scope(settings=s) as sess:
            assert sess.scalar(select(func.count()).select_from(Dictation)) == 2
    finally:
        conn.cursor().execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        get_engine(url).dispose()
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
