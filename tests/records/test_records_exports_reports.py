"""Exports (JSON, CSV, FHIR R4 validated and round-tripped), the statistical report against
the known database, its files (CSV, XLSX, chart, daily report), completeness and registry."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import date

import pytest
from records_support import COUGH_NOTE, FULL_NOTE, seed_fixture
from typer.testing import CliRunner

from pipeline.records import completeness, export, fhir, registry
from pipeline.records.report_files import report_csv, report_xlsx, write_daily_report
from pipeline.records.reports import build_report
from pipeline.store.db import session_scope


@pytest.fixture
def known(settings):
    url = settings.resolved_database_url
    return url, seed_fixture(url)


def test_fhir_bundle_validates_and_round_trips_codes(known):
    from fhir.resources.R4B.bundle import Bundle

    url, ids = known
    with session_scope(url) as s:
        bundle = fhir.build_bundle(s, [ids["r1"], ids["r2"], ids["r3"]])
    parsed = Bundle.model_validate_json(fhir.bundle_json(bundle))  # the text that leaves validates too
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert {"Patient", "Encounter", "Condition", "Procedure", "DocumentReference"} <= set(kinds)
    assert kinds.count("Patient") == 3 and kinds.count("DocumentReference") == 3
    assert fhir.bundle_codes(bundle) == {
        (fhir.ICD10CM, "E11.22", "confirmed"),
        (fhir.ICD10CM, "N18.30", "confirmed"),  # r1: I10 was rejected: absent
        (fhir.ICD10CM, "C34.90", "confirmed"),
        (fhir.ICD10CM, "E11.9", "confirmed"),
        (fhir.ICD10CM, "Z87.891", "confirmed"),
        (fhir.ICD10PCS, "0BTC4ZZ", "completed"),
        (fhir.ICD10CM, "E11.65", "provisional"),
        (fhir.ICD10CM, "J20.9", "provisional"),  # r3 is not finalized
    }
    docs = {e["resource"]["id"]: e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"}
    r1_doc = docs[f"document-{ids['r1']}"]
    assert base64.b64decode(r1_doc["content"][0]["attachment"]["data"]).decode() == FULL_NOTE and r1_doc["docStatus"] == "final"
    assert docs[f"document-{ids['r3']}"]["docStatus"] == "preliminary"
    # every reference points at an entry of the bundle
    urls = {e["fullUrl"] for e in bundle["entry"]}
    refs = [r["subject"]["reference"] for r in (e["resource"] for e in bundle["entry"]) if "reference" in r.get("subject", {})]
    assert refs and set(refs) <= urls
    patient = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Patient" and e["resource"]["identifier"][0]["value"] == "A1001"
    )
    assert patient["name"][0]["family"] == "Doe" and patient["gender"] == "female" and patient["birthDate"] == "1950-02-03"
    with session_scope(url) as s:
        final_only = fhir.build_bundle(s, [ids["r1"], ids["r3"]], final_only=True)
    assert {c for _, c, _ in fhir.bundle_codes(final_only)} == {"E11.22", "N18.30"}


def test_fhir_validation_refuses_a_broken_bundle():
    with pytest.raises(fhir.FhirValidationError):
        fhir.validate(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Condition",
                            "subject": {"reference": "Patient/1"},
                            "onsetDateTime": "yesterday",
                        }
                    }
                ],
            }
        )


def test_json_and_csv_exports_mark_final_codes(known):
    url, ids = known
    with session_scope(url) as s:
        data = json.loads(export.export(s, [ids["r1"], ids["r3"]], "json")[0])["records"]
        rows = list(csv.DictReader(io.StringIO(export.export(s, [ids["r2"]], "csv")[0])))
    r1, r3 = data
    assert r1["patient"]["mrn"] == "A1001" and r1["finalized_by"] == "alice" and r1["transcript"] == FULL_NOTE
    assert [(c["code"], c["final"]) for c in r1["codes"]] == [("E11.22", True), ("N18.30", True)]
    assert {(c["code"], c["final"]) for c in r3["codes"]} == {("E11.65", False), ("J20.9", False)} and r3[
        "transcript"
    ] == COUGH_NOTE
    assert {r["code"] for r in rows} == {"C34.90", "E11.9", "Z87.891", "0BTC4ZZ"} and {r["final"] for r in rows} == {"True"}
    assert rows[0]["physician"] == "Dr. Okafor" and rows[0]["setting"] == "inpatient"


def test_report_counts_match_the_known_database(known):
    url, ids = known
    with session_scope(url) as s:
        rep = build_report(s, period="month", top=3)
    t = {x.name: x.rows for x in rep.tables}
    assert (rep.records, rep.finalized) == (5, 3)
    assert {r[0]: r[2] for r in t["chapters"]} == {"2": 2, "4": 2, "14": 1, "18": 1, "21": 1}
    assert {r[0]: r[2] for r in t["categories"]} == {"E11": 2, "C34": 1, "D32": 1, "N18": 1, "R51": 1, "Z87": 1}
    assert len(t["codes"]) == 3 and all(r[2] == 1 for r in t["codes"])  # top 3 of seven codes, each in one record
    assert t["procedures"] == [["0BTC4ZZ", "Resection of Right Upper Lung Lobe, Percutaneous Endoscopic Approach", 1]]
    assert t["physicians"] == [["Dr. Lee", 2, 1, 2], ["Dr. Okafor", 2, 1, 4], ["Dr. Reyes", 1, 1, 2]]
    assert t["settings"] == [["outpatient", 4], ["inpatient", 1]]
    assert t["periods"] == [["2026-10", 1, 1, 2], ["2026-11", 4, 2, 6]]
    assert t["turnaround"] == [[3, 6.0, 20.4, 10.67]]  # 2 h, 24 h, 6 h
    assert t["productivity"] == [["alice", 2, 1.5, 1.33, 4, 1, 1, 1, 0.667], ["sue", 1, 1.0, 1.0, 2, 0, 0, 0, 1.0]]
    with session_scope(url) as s:
        nov = build_report(s, date(2026, 11, 1), date(2026, 11, 30), period="week", include_provisional=True)
    t = {x.name: x.rows for x in nov.tables}
    assert nov.records == 4 and {r[0]: r[2] for r in t["categories"]}["E11"] == 3  # E11.65 of r3 counts when provisional
    assert [r[0] for r in t["periods"]] == ["2026-W45", "2026-W46", "2026-W47"]
    with session_scope(url) as s, pytest.raises(ValueError):
        build_report(s, period="year")


def test_report_files_csv_xlsx_chart_and_daily(known, tmp_path):
    from openpyxl import load_workbook

    url, _ = known
    with session_scope(url) as s:
        rep = build_report(s)
        text = report_csv(rep)
        path = report_xlsx(rep, tmp_path / "r.xlsx")
        daily = write_daily_report(s, date(2026, 11, 3), tmp_path / "summaries")
    assert "# chapters" in text and "Dr. Okafor,2,1,4" in text
    wb = load_workbook(path)
    assert [list(r) for r in wb["settings"].iter_rows(values_only=True)] == [
        ["setting", "records"],
        ["outpatient", 4],
        ["inpatient", 1],
    ]
    names = sorted(p.name for p in daily)
    assert names == ["2026-11-03-report-chapters.png", "2026-11-03-report.csv", "2026-11-03-report.xlsx"]
    png = (tmp_path / "summaries" / "2026-11-03-report-chapters.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 3000
    assert "records=1" in (tmp_path / "summaries" / "2026-11-03-report.csv").read_text()


def test_completeness_flags_missing_assessment_and_edits(known):
    url, ids = known
    with session_scope(url) as s:
        checks = {c.id: c for c in completeness.check_records(s)}
    assert checks[ids["r1"]].complete and checks[ids["r2"]].complete and checks[ids["r4"]].complete
    r3 = checks[ids["r3"]]
    assert r3.missing == ["assessment", "authentication", "coding_edits"]
    assert "no assessment section" in r3.details["assessment"] and "E11.65" in r3.details["coding_edits"]
    r5 = checks[ids["r5"]]
    assert "assessment" not in r5.missing and "coding_edits" in r5.missing and "female-only" in r5.details["coding_edits"]
    groups = completeness.deviations_by_physician(list(checks.values()))
    assert list(groups) == ["Dr. Lee", "Dr. Okafor"]
    assert completeness.element_counts(list(checks.values()))["assessment"] == 1


def test_completeness_sees_identity_and_metadata_gaps(known):
    from pipeline.store.models import Dictation

    url, ids = known
    with session_scope(url) as s:
        d = s.get(Dictation, ids["r1"])
        d.encounter.patient.birth_date = None
        d.encounter.physician = None
        d.document_type = None
    with session_scope(url) as s:
        c = completeness.check_record(s, s.get(Dictation, ids["r1"]))
    assert c.missing == ["patient_identity", "author_physician", "document_type"]
    assert c.details["patient_identity"] == "patient has no birth date"


def test_registry_case_finding(known):
    url, ids = known
    with session_scope(url) as s:
        cases = registry.find_cases(s)
    got = {(c.record_id, c.code, c.kind, c.final) for c in cases}
    assert got == {
        (ids["r2"], "C34.90", "malignant", True),
        (ids["r4"], "D32.9", "benign CNS", True),
        (ids["r5"], "C50.911", "malignant", False),
    }
    assert next(c for c in cases if c.code == "D32.9").evidence == "benign meningioma"
    rows = list(csv.DictReader(io.StringIO(registry.cases_csv(cases))))
    assert {r["mrn"] for r in rows} == {"A1002", "B2001", "0A-1002"}
    for code, kind in [
        ("C44.91", "review"),
        ("C78.00", "secondary"),
        ("D05.10", "in situ"),
        ("D35.2", "benign CNS"),
        ("D44.4", "uncertain CNS"),
        ("D43.2", "uncertain CNS"),
        ("D46.9", "hematopoietic"),
    ]:
        assert registry.classify(code)[0] == kind
    for code in ("D35.0", "D44.0", "D12.6", "E11.9", "Z85.3", "D3A.00"):
        assert registry.classify(code) is None


def test_cli_report_export_check_registry(settings, monkeypatch, tmp_path):
    from pipeline.cli import app
    from pipeline.settings import get_settings

    url = settings.resolved_database_url
    monkeypatch.setenv("MRT_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        ids = seed_fixture(url)
        runner = CliRunner()
        res = runner.invoke(
            app,
            [
                "report",
                "--table",
                "chapters",
                "--table",
                "productivity",
                "--csv",
                str(tmp_path / "r.csv"),
                "--xlsx",
                str(tmp_path / "r.xlsx"),
                "--chart",
                str(tmp_path / "c.png"),
            ],
        )
        assert res.exit_code == 0, res.output
        assert "Neoplasms (C00-D49)" in res.stdout and "alice" in res.stdout and "By physician" not in res.stdout
        assert (tmp_path / "r.xlsx").stat().st_size > 0 and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
        res = runner.invoke(app, ["export", "--code", "C34", "--format", "fhir", "-o", str(tmp_path / "b.json")])
        assert res.exit_code == 0, res.output
        assert (fhir.ICD10PCS, "0BTC4ZZ", "completed") in fhir.bundle_codes(json.loads((tmp_path / "b.json").read_text()))
        res = runner.invoke(app, ["export"])
        assert res.exit_code == 2 and "give record IDs" in res.output
        res = runner.invoke(app, ["export", "999999"])
        assert res.exit_code == 2 and "no record with ID 999999" in res.output
        res = runner.invoke(app, ["check", "--json"])
        assert json.loads(res.stdout)["missing"]["assessment"] == 1
        res = runner.invoke(app, ["registry", "--csv", str(tmp_path / "reg.csv")])
        assert res.exit_code == 0 and "C34.90" in (tmp_path / "reg.csv").read_text()
        assert ids
    finally:
        get_settings.cache_clear()


def test_csv_cells_never_run_as_formulas(known):
    from pipeline.store.models import Dictation

    url, ids = known
    with session_scope(url) as s:
        s.get(Dictation, ids["r2"]).encounter.physician = '=HYPERLINK("http://x","y")'
    with session_scope(url) as s:
        row = next(csv.DictReader(io.StringIO(export.export(s, [ids["r2"]], "csv")[0])))
        assert row["physician"] == '\'=HYPERLINK("http://x","y")' and "'=HYPERLINK" in report_csv(build_report(s))


def test_nightly_flow_writes_the_daily_report_next_to_the_summary(known, settings, tmp_path):
    from flows.nightly import _daily_report

    site = settings.model_copy(update={"summary_dir": tmp_path / "summaries"})
    paths = _daily_report("2026-11-02", site)
    assert sorted(p.name for p in paths) == ["2026-11-02-report-chapters.png", "2026-11-02-report.csv", "2026-11-02-report.xlsx"]
    assert all(p.parent == site.summary_path and p.stat().st_size > 0 for p in paths)


def test_report_fhir_registry_and_release_on_postgresql(tmp_path):
    """The same known database on PostgreSQL (time zones, JSON columns) gives the same figures."""
    from review_support import pg_database

    from pipeline.records import release

    with pg_database() as url:
        ids = seed_fixture(url)
        with session_scope(url) as s:
            rep = build_report(s)
            bundle = fhir.build_bundle(s, [ids["r2"]])
            cases = registry.find_cases(s)
            checks = {c.id: c.missing for c in completeness.check_records(s)}
            r = release.release(
                s, [ids["r1"]], actor="sue", recipient="Registry", purpose="reporting", fmt="csv", archive=tmp_path
            )
        t = {x.name: x.rows for x in rep.tables}
        assert t["turnaround"] == [[3, 6.0, 20.4, 10.67]] and t["productivity"][0] == ["alice", 2, 1.5, 1.33, 4, 1, 1, 1, 0.667]
        assert (fhir.ICD10CM, "C34.90", "confirmed") in fhir.bundle_codes(bundle)
        assert len(cases) == 3 and checks[ids["r3"]] == ["assessment", "authentication", "coding_edits"]
        with session_scope(url) as s:
            from pipeline.store.models import ReleaseOfInformation

            assert s.get(ReleaseOfInformation, r.row.id).dictation_ids == [ids["r1"]] and "Jane" not in r.content


def test_completeness_requirements_follow_the_kind_of_note(known):
    from pipeline.store.models import Dictation

    url, ids = known
    op_note = (
        "Operative note. Preoperative diagnosis: acute cholecystitis. Postoperative diagnosis: same. "
        "Procedure: laparoscopic cholecystectomy. Estimated blood loss minimal."
    )
    with session_scope(url) as s:
        d = s.get(Dictation, ids["r1"])
        d.transcript.text, d.document_type = op_note, "operative_note"
    with session_scope(url) as s:
        assert completeness.check_record(s, s.get(Dictation, ids["r1"])).missing == []  # no plan required of an operative note
        d = s.get(Dictation, ids["r1"])
        d.transcript.text = "Operative note. Postoperative diagnosis: same. The patient tolerated it well."
        c = completeness.check_record(s, d)
        assert c.missing == ["chief_complaint", "procedure"] and "operative note" in c.details["procedure"]
        d.document_type, d.transcript.text = (
            "consult",
            "Reason for consultation: palpitations. Assessment: atrial fibrillation. Recommendations: diltiazem.",
        )
        assert completeness.check_record(s, d).missing == []  # "Recommendations:" is a plan
        s.rollback()
