"""One dropped dictation through :func:`pipeline.intake.runner.process_drop` (no Prefect):
real media, real Whisper, spaCy and code index, SQLite. Sidecar metadata in the database and
in coding, archive and quarantine moves, duplicates, hostile names, tries and backoff."""

from __future__ import annotations

import json
import os
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from pipeline.intake import runner
from pipeline.intake.inbox import Drop, local_day, scan
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEvent, Dictation, Encounter, Patient

pytestmark = pytest.mark.slow


@pytest.fixture
def ops(settings, tmp_path):
    """Settings with their own drop folder, archive and quarantine (files ready at once)."""
    s = settings.model_copy(update={"stable_seconds": 0.0, "inbox_dir": tmp_path / "inbox", "db_retry_wait_s": 0.05})
    s.inbox_path.mkdir()
    return s


@pytest.fixture(scope="module")
def pneumonia_wav(tmp_path_factory) -> Path:
    """A spoken uncertain diagnosis: coded for inpatients only (Guidelines II.H vs IV.H)."""
    try:
        from hibari import SAMPLE_RATE, Hibari
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"hibari-tts is not importable ({exc})")
    audio = Hibari()("Assessment: probable community acquired pneumonia. Plan: chest x-ray and antibiotics.", seed=0)
    path = tmp_path_factory.mktemp("speech") / "pneumonia.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _drops(ops) -> dict[str, Drop]:
    return {d.media.name: d for d in scan(ops.inbox_path).drops}


def test_sidecar_setting_reaches_the_coder_and_the_database(ops, pneumonia_wav):
    inbox = ops.inbox_path
    shutil.copy(pneumonia_wav, inbox / "bed 12.wav")
    (inbox / "bed 12.wav.json").write_text(
        json.dumps(
            {
                "mrn": "MRN-77",
                "patient_name": "John Roe",
                "birth_date": "1961-07-01",
                "sex": "M",
                "encounter_id": "ADM-5",
                "physician": "Dr. Ng",
                "date_of_service": "2024-03-02",
                "document_type": "progress note",
                "setting": "inpatient",
                "priority": "urgent",
            }
        )
    )
    with wave.open(str(pneumonia_wav)) as w:  # same speech, other bytes: a separate outpatient dictation
        frames, params = w.readframes(w.getnframes()), w.getparams()
    with wave.open(str(inbox / "clinic.wav"), "wb") as w:
        w.setparams(params)
        w.writeframes(frames + b"\x00\x00" * 800)
    (inbox / "clinic.json").write_text(json.dumps({"setting": "outpatient", "encounter_id": "OP-1"}))

    drops = _drops(ops)
    inpatient = runner.process_drop(drops["bed 12.wav"], ops, inbox_root=inbox)
    outpatient = runner.process_drop(drops["clinic.wav"], ops, inbox_root=inbox)
    assert inpatient.outcome == outpatient.outcome == "coded"
    assert (inpatient.setting, outpatient.setting) == ("inpatient", "outpatient")
    with session_scope(settings=ops) as s:
        d_in = s.get(Dictation, inpatient.dictation_id)
        d_out = s.get(Dictation, outpatient.dictation_id)
        codes_in = [p.code for p in d_in.proposals]
        codes_out = [p.code for p in d_out.proposals]
        assert any(c.startswith("J18") for c in codes_in), codes_in  # probable pneumonia: coded inpatient
        assert not any(c.startswith("J18") for c in codes_out), codes_out
        enc = s.get(Encounter, d_in.encounter_id)
        patient = s.get(Patient, enc.patient_id)
        assert (patient.mrn, patient.name, str(patient.birth_date), patient.sex) == ("MRN-77", "John Roe", "1961-07-01", "M")
        assert (enc.external_id, enc.setting, enc.physician, str(enc.date_of_service)) == (
            "ADM-5",
            "inpatient",
            "Dr. Ng",
            "2024-03-02",
        )
        assert (d_in.document_type, d_in.priority, d_in.status, d_in.attempts) == ("progress_note", "urgent", "coded", 1)
        assert set(d_in.stage_seconds) >= {"load", "transcribe", "extract", "code"} and d_in.lease_owner is None
    day = local_day(ops)
    archived = sorted(p.name for p in (ops.archive_path / day).iterdir())
    assert archived == ["bed 12.wav", "bed 12.wav.json", "clinic.json", "clinic.wav"]
    assert not any(inbox.iterdir())


def test_duplicate_drop_is_not_processed_twice(ops, sample):
    media, _, _ = sample("05")
    shutil.copy(media, ops.inbox_path / "first.ogg")
    first = runner.process_drop(_drops(ops)["first.ogg"], ops, inbox_root=ops.inbox_path)
    shutil.copy(media, ops.inbox_path / "again, renamed.ogg")
    again = runner.process_drop(_drops(ops)["again, renamed.ogg"], ops, inbox_root=ops.inbox_path)
    assert (first.outcome, again.outcome) == ("coded", "duplicate")
    assert again.dictation_id == first.dictation_id and "transcribe" not in again.stage_seconds
    with session_scope(settings=ops) as s:
        assert s.scalar(select(func.count()).select_from(Dictation)) == 1
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.dictation_id == first.dictation_id)).all()
        assert actions.count("coded") == 1 and "duplicate_drop" in actions
    assert sorted(p.name for p in (ops.archive_path / local_day(ops)).iterdir()) == ["again, renamed.ogg", "first.ogg"]


def test_hostile_names_are_processed_and_archived_safely(ops, sample, ffmpeg):
    from conftest import make_media

    media, _, _ = sample("01")
    names = {
        "x..\\..\\etc\\passwd.wav": "x.._.._etc_passwd.wav",
        "-rf --help.wav": "rf --help.wav",
        "Zoë Müller 診察.wav": "Zoë Müller 診察.wav",
        "line\nbreak.wav": "line_break.wav",
    }
    raw = os.fsdecode(b"caf\xe9.wav")  # not UTF-8
    names[raw] = "caf_.wav"
    for i, name in enumerate(names):  # distinct content: 6-second cuts (a sentence or more) at different offsets
        make_media(ffmpeg, ops.inbox_path / name, "-ss", str(2 + 6 * i), "-t", "6", "-i", str(media))
    (ops.inbox_path / "..\\..\\hidden.wav").write_bytes(b"a dot-file: a copy tool's temporary, left alone")
    outcomes = [runner.process_drop(d, ops, inbox_root=ops.inbox_path) for d in scan(ops.inbox_path).drops]
    assert [o.outcome for o in outcomes] == ["coded"] * len(names), [(o.outcome, o.reason) for o in outcomes]
    day_dir = ops.archive_path / local_day(ops)
    assert sorted(p.name for p in day_dir.iterdir()) == sorted(names.values())
    assert all(Path(o.moved_to).parent == day_dir for o in outcomes)
    assert [p.name for p in ops.inbox_path.iterdir()] == ["..\\..\\hidden.wav"] and not (ops.data_dir / "etc").exists()
    with session_scope(settings=ops) as s:
        stored = s.scalars(select(Dictation.file_name)).all()
        assert len(stored) == len(names)
        assert all(o.file.isprintable() for o in outcomes)


def test_corrupt_media_and_bad_sidecar_are_quarantined_with_reasons(ops, sample):
    inbox = ops.inbox_path
    (inbox / "broken.mp3").write_bytes(b"ID3 but not really an mp3" * 10)
    media, _, _ = sample("05")
    shutil.copy(media, inbox / "visit.ogg")
    (inbox / "visit.json").write_text(json.dumps({"mrn": "A1", "birth_date": "1990-02-30", "settting": "inpatient"}))
    drops = _drops(ops)
    broken = runner.process_drop(drops["broken.mp3"], ops, inbox_root=inbox)
    visit = runner.process_drop(drops["visit.ogg"], ops, inbox_root=inbox)
    assert (broken.outcome, broken.kind) == ("quarantined", "not_media")
    assert (visit.outcome, visit.kind) == ("quarantined", "sidecar")
    q = ops.quarantine_path
    assert sorted(p.name for p in q.iterdir()) == [
        "broken.mp3",
        "broken.mp3.error.txt",
        "visit.ogg",
        "visit.ogg.error.txt",
        "visit.ogg.json",
    ]
    assert (q / "broken.mp3").read_bytes() == b"ID3 but not really an mp3" * 10  # moved, never altered
    note = (q / "visit.ogg.error.txt").read_text()
    assert "birth_date: not a valid date" in note and "settting: unknown field" in note and "1990-02-30" not in note
    with session_scope(settings=ops) as s:
        kinds = dict(s.execute(select(Dictation.file_name, Dictation.error_kind)).all())
        assert kinds == {"broken.mp3": "not_media", "visit.ogg": "sidecar"}

    # the site fixes the sidecar and drops both again: processed, its tries start over
    shutil.move(q / "visit.ogg", inbox / "visit.ogg")
    (inbox / "visit.ogg.json").write_text(json.dumps({"mrn": "A1", "birth_date": "1990-02-28", "setting": "inpatient"}))
    fixed = runner.process_drop(_drops(ops)["visit.ogg"], ops, inbox_root=inbox)
    assert (fixed.outcome, fixed.attempts, fixed.setting, fixed.dictation_id) == ("coded", 1, "inpatient", visit.dictation_id)


def test_transient_failures_back_off_then_give_up(ops, sample, tmp_path):
    """A worker whose Whisper model files are missing (a new host set up halfway) fails each
    try: the try is recorded, the file waits out its backoff in the inbox, and the last
    allowed try quarantines it with the last error."""
    media, _, _ = sample("05")
    shutil.copy(media, ops.inbox_path / "visit.ogg")
    broken_model = tmp_path / "whisper-model-not-copied"
    broken_model.mkdir()
    s = ops.model_copy(update={"whisper_model": str(broken_model), "max_attempts": 2, "retry_backoff_s": 3600.0})
    drop = _drops(s)["visit.ogg"]

    with pytest.raises(runner.TransientFailure, match="model.bin"):
        runner.process_drop(drop, s, inbox_root=s.inbox_path)
    with session_scope(settings=s) as sess:
        d = sess.scalar(select(Dictation))
        assert (d.status, d.error_kind, d.attempts, d.lease_owner) == ("failed", "transient", 1, None)
        assert "model.bin" in d.error and d.next_attempt_at is not None
    assert (s.inbox_path / "visit.ogg").exists()
    plan = runner.plan_inbox(s)
    assert plan.deferred == [drop.media] and plan.ready == []  # backoff: not even hashed again
    assert runner.process_drop(drop, s, inbox_root=s.inbox_path).outcome == "backoff"

    last = runner.process_drop(drop, s, inbox_root=s.inbox_path, respect_backoff=False)  # a retry after the delay
    assert (last.outcome, last.kind, last.attempts) == ("quarantined", "gave_up", 2)
    assert last.reason.startswith("gave up after 2 tries; last error: RuntimeError") and "model.bin" in last.reason
    assert not (s.inbox_path / "visit.ogg").exists()
    assert "gave up after 2 tries" in (s.quarantine_path / "visit.ogg.error.txt").read_text()
