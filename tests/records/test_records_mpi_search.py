"""Master patient index (duplicates, merge, unmerge, link) and search (code prefix, text,
MRN, dates, physician, status) on a known database, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from records_support import seed_fixture
from review_support import pg_database
from sqlalchemy import select
from typer.testing import CliRunner

from pipeline.records import mpi
from pipeline.records.records import RecordError
from pipeline.records.search import RecordQuery, search_records
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEvent, Dictation, Encounter, Patient, PatientMerge


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, settings):
    """(url, ids) of the known database on each engine."""
    if request.param == "sqlite":
        url = settings.resolved_database_url
        yield url, seed_fixture(url)
    else:
        with pg_database() as url:
            yield url, seed_fixture(url)


def _ids(url: str, **kw) -> list[int]:
    with session_scope(url) as s:
        return sorted(r.id for r in search_records(s, RecordQuery(**kw)))


def test_search_by_code_prefix_exact_and_text(db):
    url, ids = db
    r = {k: ids[k] for k in ("r1", "r2", "r3", "r4", "r5")}
    assert _ids(url, code="E11") == sorted([r["r1"], r["r2"], r["r3"]])  # E11.22, E11.9, E11.65 (proposed)
    assert _ids(url, code="e11.2") == [r["r1"]]
    assert _ids(url, code="E1122") == [r["r1"]]  # typed without the dot
    assert _ids(url, code="E11", code_exact=True) == []
    assert _ids(url, code="E11.9", code_exact=True) == [r["r2"]]
    assert _ids(url, code="I10") == []  # rejected codes are not the record's codes
    assert _ids(url, code="0BTC") == [r["r2"]]  # PCS prefix
    assert _ids(url, code="C") == sorted([r["r2"], r["r5"]])
    assert _ids(url, text="metformin") == sorted([r["r1"], r["r2"]])
    assert _ids(url, text="METFORMIN kidney") == [r["r1"]]  # every word, any case
    assert _ids(url, text="100%") == []  # LIKE wildcards are literal
    assert _ids(url, text="lobectomy", code="C34") == [r["r2"]]


def test_search_by_patient_mrn_dates_physician_status(db):
    url, ids = db
    assert _ids(url, patient="doe") == sorted([ids["r1"], ids["r4"]])
    assert _ids(url, mrn="a1002") == sorted([ids["r2"], ids["r5"]])  # '0A-1002' is the same MRN written otherwise
    assert _ids(url, date_from=date(2026, 11, 3), date_to=date(2026, 11, 10)) == sorted([ids["r2"], ids["r3"]])
    assert _ids(url, physician="okafor") == sorted([ids["r2"], ids["r5"]])
    assert _ids(url, status="finalized", physician="lee") == [ids["r1"]]
    with session_scope(url) as s, pytest.raises(RecordError, match="status must be"):
        search_records(s, RecordQuery(status="bogus"))
    with session_scope(url) as s, pytest.raises(RecordError, match="ends before"):
        search_records(s, RecordQuery(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))


def test_duplicates_found_with_reasons(db):
    url, ids = db
    with session_scope(url) as s:
        pairs = {(p.patient_a, p.patient_b): p for p in mpi.find_duplicates(s)}
    same_mrn = pairs[(ids["p2"], ids["p4"])]
    assert same_mrn.score == 1.0 and "same MRN" in same_mrn.reasons[0]
    alike = pairs[(ids["p1"], ids["p3"])]  # 'Jane Doe' / 'DOE, Jane', 1950-02-03 / 1950-03-02
    assert 0.6 < alike.score < 1.0 and "birth date month/day swapped" in alike.reasons and "same sex" in alike.reasons
    assert set(pairs) == {(ids["p2"], ids["p4"]), (ids["p1"], ids["p3"])}  # Maria Garcia has no double


def test_birth_date_relations_and_sex_conflict():
    assert mpi.birth_date_relation(date(1950, 2, 3), date(1950, 2, 3)) == "equal"
    assert mpi.birth_date_relation(date(1956, 4, 12), date(1965, 4, 12)) == "transposed digits"
    assert mpi.birth_date_relation(date(1956, 4, 12), date(1956, 4, 21)) == "transposed digits"
    assert mpi.birth_date_relation(date(1956, 4, 12), date(1957, 4, 12)) == "one field differs"
    assert mpi.birth_date_relation(date(1956, 4, 12), date(1971, 9, 30)) is None
    a = Patient(id=1, mrn="X1", name="Chris Park", birth_date=date(1980, 1, 2), sex="M")
    b = Patient(id=2, mrn="X2", name="Chris Park", birth_date=date(1980, 1, 2), sex="F")
    assert mpi.compare(a, b) == (0.0, [])


def test_merge_moves_records_keeps_patient_audits_and_undoes(db):
    url, ids = db
    with session_scope(url) as s:
        m = mpi.merge(s, ids["p1"], ids["p3"], "sue", "same person, birth date typo")
        merge_id = m.id
    with session_scope(url) as s:
        assert s.get(Patient, ids["p3"]) is not None  # kept, marked merged
        assert mpi.merged_ids(s) == {ids["p3"]: ids["p1"]}
        assert s.get(Dictation, ids["r4"]).encounter.patient_id == ids["p1"]
        actions = [(e.action, e.dictation_id) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "patient_merge"))]
        assert ("patient_merge", None) in actions and ("patient_merge", ids["r4"]) in actions
        # the old MRN still finds the record, now under the survivor; the merged pair is no longer a candidate
        assert sorted(r.id for r in search_records(s, RecordQuery(mrn="B2001"))) == sorted([ids["r1"], ids["r4"]])
        assert all(ids["p3"] not in (p.patient_a, p.patient_b) for p in mpi.find_duplicates(s))
        with pytest.raises(RecordError, match="already merged"):
            mpi.merge(s, ids["p5"], ids["p3"], "sue")
        with pytest.raises(RecordError, match="itself"):
            mpi.merge(s, ids["p1"], ids["p1"], "sue")
    with session_scope(url) as s:
        mpi.unmerge(s, merge_id, "sue")
    with session_scope(url) as s:
        assert s.get(Dictation, ids["r4"]).encounter.patient_id == ids["p3"]
        assert s.get(PatientMerge, merge_id).undone_by == "sue" and mpi.merged_ids(s) == {}
        assert (
            s.scalar(select(AuditEvent).where(AuditEvent.action == "patient_unmerge", AuditEvent.dictation_id == ids["r4"]))
            is not None
        )


def test_new_dictation_for_a_merged_mrn_files_under_the_survivor(db, tmp_path):
    from pipeline.intake.sidecar import parse_sidecar
    from pipeline.store import processing

    url, ids = db
    with session_scope(url) as s:
        mpi.merge(s, ids["p1"], ids["p3"], "sue", "same person")
        merged_mrn = s.get(Patient, ids["p3"]).mrn
        enc = Encounter(setting="outpatient")
        d = Dictation(
            source_path=str(tmp_path / "new.wav"), file_name="new.wav", content_hash="f" * 64, size_bytes=1, encounter=enc
        )
        s.add_all([enc, d])
        s.flush()
        processing.attach_metadata(s, d, parse_sidecar(b'{"mrn": "%s"}' % merged_mrn.encode()), {}, "outpatient")
        s.flush()
        assert d.encounter.patient_id == ids["p1"]


def test_link_record_to_patient(db):
    url, ids = db
    with session_scope(url) as s:
        mpi.link_record(s, ids["r3"], ids["p1"], "alice")
    with session_scope(url) as s:
        assert s.get(Dictation, ids["r3"]).encounter.patient_id == ids["p1"]
        with pytest.raises(RecordError, match="no patient"):
            mpi.link_record(s, ids["r3"], 99999, "alice")


@pytest.fixture
def cli_db(settings, monkeypatch):
    """The known database as the CLI's database (MRT_DATABASE_URL)."""
    from pipeline.settings import get_settings

    url = settings.resolved_database_url
    monkeypatch.setenv("MRT_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url, seed_fixture(url)
    get_settings.cache_clear()


def test_cli_search_and_patients(cli_db):
    from pipeline.cli import app

    url, ids = cli_db
    runner = CliRunner()
    res = runner.invoke(app, ["search", "--code", "E11", "--json"])
    assert res.exit_code == 0, res.output
    import json

    assert sorted(r["id"] for r in json.loads(res.stdout)["records"]) == sorted([ids["r1"], ids["r2"], ids["r3"]])
    res = runner.invoke(app, ["patients", "duplicates", "--json"])
    assert len(json.loads(res.stdout)["pairs"]) == 2
    res = runner.invoke(app, ["patients", "merge", str(ids["p1"]), str(ids["p3"]), "--by", "alice"])
    assert res.exit_code == 2 and "not an active supervisor" in res.output  # coders cannot merge
    res = runner.invoke(app, ["patients", "merge", str(ids["p1"]), str(ids["p3"]), "--by", "sue", "--reason", "typo"])
    assert res.exit_code == 0, res.output
    with session_scope(url) as s:
        moved = (
            select(Encounter.patient_id).join(Dictation, Dictation.encounter_id == Encounter.id).where(Dictation.id == ids["r4"])
        )
        assert s.scalar(moved) == ids["p1"]
    res = runner.invoke(app, ["search", "--from", "2026-13-01"])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output


def test_duplicates_across_birth_years_and_transposed_days(settings):
    url = settings.resolved_database_url
    with session_scope(url) as s:
        people = [
            Patient(mrn="T1", name="Peter Novak", birth_date=date(1956, 4, 12), sex="M"),
            Patient(mrn="T2", name="Petr Novak", birth_date=date(1965, 4, 12), sex="M"),  # year digits transposed
            Patient(mrn="T3", name="Novak, Peter", birth_date=date(1956, 4, 21), sex=None),  # day digits transposed
            Patient(mrn="T4", name="Peter Novak", birth_date=date(1980, 9, 30), sex="M"),
        ]  # another man
        s.add_all(people)
        s.flush()
        ids = [p.id for p in people]
        pairs = {(p.patient_a, p.patient_b): p.reasons for p in mpi.find_duplicates(s)}
    assert set(pairs) == {(ids[0], ids[1]), (ids[0], ids[2])}  # 1965-04-12 / 1956-04-21: two fields off, not a pair
    assert "birth date transposed digits" in pairs[(ids[0], ids[1])] and "birth date transposed digits" in pairs[(ids[0], ids[2])]
