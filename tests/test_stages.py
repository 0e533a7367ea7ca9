"""The stage runner (pipeline/stages.py) on the real pipeline (Whisper, spaCy, the coder) into
SQLite: the hooks run around the stages in order, the lease guard refuses a stale store, and a
failing stage records a clear failure and keeps the original file."""

from __future__ import annotations

import shutil
import wave
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text

from pipeline.errors import MediaError
from pipeline.stages import StageHooks, StageRunner, models_for
from pipeline.store import processing, repository
from pipeline.store.db import session_scope
from pipeline.store.lease import LeaseGuard, LeaseLost
from pipeline.store.models import AuditEvent, Dictation

pytestmark = pytest.mark.slow


@pytest.fixture
def dictation(settings, sample, tmp_path):
    """A registered copy of sample 05 (the shortest) and a runner for it."""
    media, _, _ = sample("05")
    copy = tmp_path / "visit copy.ogg"
    shutil.copy(media, copy)
    stages = StageRunner(settings)
    return stages, stages.register(copy), copy


class Recorder:
    """Hooks that write down when they are called."""

    def __init__(self, lost: bool = False) -> None:
        self.events: list[str] = []
        self.lost = lost

    def run_stage(self, name, fn, args):  # noqa: ANN001
        self.events.append(f"run {name}")
        return fn(*args)

    @contextmanager
    def timed(self, name: str):
        self.events.append(f"start {name}")
        yield
        self.events.append(f"end {name}")

    @contextmanager
    def heartbeat(self):
        self.events.append("beat on")
        yield self
        self.events.append("beat off")

    @contextmanager
    def slot(self):
        self.events.append("slot")
        yield

    def hooks(self, **more) -> StageHooks:
        return StageHooks(
            run_stage=self.run_stage,
            enter_stage=lambda status: self.events.append(f"enter {status}"),
            timed=self.timed,
            transcribe_slot=self.slot,
            heartbeat=self.heartbeat,
            **more,
        )


def test_hooks_run_around_the_stages_in_order_and_change_nothing(dictation):
    stages, reg, media = dictation
    rec = Recorder()
    done = stages.run(reg.dictation_id, media, setting="outpatient", hooks=rec.hooks())
    assert rec.events == [
        "beat on",
        "start load",
        "run load",
        "end load",
        "enter transcribing",
        "slot",
        "start transcribe",
        "run transcribe",
        "end transcribe",
        "enter extracting",
        "start extract",
        "run extract",
        "end extract",
        "enter coding",
        "start code",
        "run code",
        "end code",
        "start store",
        "run store",
        "end store",
        "beat off",
    ]
    # the same stages without hooks give the same transcript and codes (the hooks only watch)
    audio = stages.load(media)
    transcript = stages.transcribe(audio)
    coding = stages.code(stages.extract(transcript), "outpatient", transcript.text)
    assert done.transcript.text == transcript.text and done.transcript.text
    assert [(p.code, p.score) for p in done.coding.proposals] == [(p.code, p.score) for p in coding.proposals]
    assert [c["code"] for c in done.summary["codes"]] == [p.code for p in coding.proposals]
    with session_scope(settings=stages.settings) as s:
        d = repository.load_dictation(s, reg.dictation_id)
        assert d.status == "coded" and d.transcript.text == transcript.text and len(d.proposals) == len(coding.proposals)
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.dictation_id == d.id)).all() == ["received", "coded"]
    assert models_for(stages.settings) is stages.models  # one bundle per process for these settings


def test_a_lost_lease_stores_nothing(dictation):
    stages, reg, media = dictation
    with session_scope(settings=stages.settings) as s:
        assert processing.claim(s, reg.dictation_id, "h1:1:old", 300, 3).claimed

    beat_lost = Recorder(lost=True)  # the heartbeat found another worker holding the lease
    with pytest.raises(LeaseLost):
        stages.run(reg.dictation_id, media, setting="outpatient", hooks=beat_lost.hooks())
    assert "run code" in beat_lost.events and "run store" not in beat_lost.events

    with session_scope(settings=stages.settings) as s:  # the old worker stalled past its lease; another took over
        s.execute(
            text("UPDATE dictations SET lease_expires_at = :t WHERE id = :i"),
            {"t": datetime.now(UTC) - timedelta(seconds=1), "i": reg.dictation_id},
        )
    with session_scope(settings=stages.settings) as s:
        assert processing.claim(s, reg.dictation_id, "h2:2:new", 300, 3).claimed
    stale = Recorder()
    with pytest.raises(LeaseLost, match="another worker took it over"):
        stages.run(reg.dictation_id, media, setting="outpatient", hooks=stale.hooks(lease=lambda: LeaseGuard("h1:1:old", {})))
    assert "run store" in stale.events
    with session_scope(settings=stages.settings) as s:
        d = repository.load_dictation(s, reg.dictation_id)
        assert d.transcript is None and d.proposals == [] and d.status != "coded" and d.lease_owner == "h2:2:new"

    fresh = Recorder()  # the holder stores; the lease is released with its results
    stages.run(
        reg.dictation_id,
        media,
        setting="outpatient",
        hooks=fresh.hooks(lease=lambda: LeaseGuard("h2:2:new", {"transcribe": 1.5})),
    )
    with session_scope(settings=stages.settings) as s:
        d = repository.load_dictation(s, reg.dictation_id)
        assert (d.status, d.lease_owner, d.stage_seconds) == ("coded", None, {"transcribe": 1.5}) and d.coded_at is not None


def _silence(path, seconds: float = 4.0):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.random.default_rng(0).normal(0, 0.002, int(16000 * seconds)) * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.parametrize("stage, kind", [("load", "not_media"), ("transcribe", "no_speech")])
def test_a_failing_stage_records_why_and_keeps_the_file(settings, tmp_path, stage, kind):
    if stage == "load":
        media = tmp_path / "broken.mp3"
        media.write_text("not audio at all")
    else:
        media = _silence(tmp_path / "quiet room.wav")
    original = media.read_bytes()
    rec = Recorder()
    with pytest.raises(MediaError) as err:
        StageRunner(settings).process_file(media, hooks=StageHooks(run_stage=rec.run_stage))
    assert err.value.kind == kind
    assert rec.events[-1] == f"run {stage}"  # no stage after the failing one ran
    assert media.read_bytes() == original  # the original is kept as it was
    assert not settings.archive_path.exists() or not any(settings.archive_path.rglob("*.*"))  # nothing filed
    with session_scope(settings=settings) as s:
        d = s.scalar(select(Dictation))
        assert (d.status, d.error_kind, d.error) == ("failed", kind, err.value.reason) and d.error
        assert d.transcript is None and d.proposals == []
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.dictation_id == d.id)).all() == ["received", "failed"]
