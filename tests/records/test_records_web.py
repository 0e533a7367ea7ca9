"""The records pages of the review app through its HTTP API: search, exports, patient index
and merges (supervisors only), report with chart and downloads, deviations, registry and
release of information; roles and CSRF enforced."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from records_support import seed_fixture
from review_support import PASSWORD

from pipeline.records.fhir import bundle_codes
from pipeline.review.app import create_app
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEvent, Dictation

JSON = {"Accept": "application/json"}


@pytest.fixture
def site(settings):
    url = settings.resolved_database_url
    ids = seed_fixture(url)
    app = create_app(settings)

    def login(name: str) -> TestClient:
        c = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, headers=JSON)
        assert r.status_code == 200, r.text
        c.csrf = r.json()["csrf_token"]
        return c

    return url, ids, login


def test_search_page_and_api(site):
    url, ids, login = site
    c = login("alice")
    r = c.get("/search", params={"code": "E11"}, headers=JSON)
    assert sorted(x["id"] for x in r.json()["records"]) == sorted([ids["r1"], ids["r2"], ids["r3"]])
    page = c.get("/search", params={"text": "lobectomy"})
    assert page.status_code == 200 and 'data-testid="search-results"' in page.text and "John Smith" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert c.get("/api/search", params={"status": "nope"}).status_code == 400


def test_record_and_query_exports(site):
    url, ids, login = site
    c = login("alice")
    r = c.get(f"/records/{ids['r2']}/export", params={"format": "fhir"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    assert 'filename="record-' in r.headers["content-disposition"]
    assert ("http://www.cms.gov/Medicare/Coding/ICD10", "0BTC4ZZ", "completed") in bundle_codes(r.json())
    rows = list(csv.DictReader(io.StringIO(c.get("/search/export", params={"code": "E11", "format": "csv"}).text)))
    assert {int(x["record_id"]) for x in rows} == {ids["r1"], ids["r2"], ids["r3"]}
    assert c.get(f"/records/{ids['r1']}/export", params={"format": "xml"}).status_code == 400
    assert c.get("/records/999999/export").status_code == 409
    with session_scope(url) as s:
        assert (
            s.query(AuditEvent).filter_by(action="export", dictation_id=ids["r2"], actor="alice").count() == 2
        )  # record + query
    record_page = c.get(f"/records/{ids['r1']}")
    assert f"/records/{ids['r1']}/export?format=fhir" in record_page.text and f"/patients/{ids['p1']}" in record_page.text


def test_patients_merge_needs_a_supervisor_and_csrf(site):
    url, ids, login = site
    coder, sup = login("alice"), login("sue")
    assert coder.get("/patients").status_code == 403
    pairs = sup.get("/patients", headers=JSON).json()["pairs"]
    assert {(p["patient_a"], p["patient_b"]) for p in pairs} == {(ids["p1"], ids["p3"]), (ids["p2"], ids["p4"])}
    form = {"survivor": ids["p1"], "duplicate": ids["p3"], "reason": "typo"}
    assert coder.post("/patients/merge", data={**form, "csrf_token": coder.csrf}).status_code == 403
    assert sup.post("/patients/merge", data=form, headers=JSON).status_code == 403  # no CSRF token
    r = sup.post("/patients/merge", data=form, headers={**JSON, "X-CSRF-Token": sup.csrf})
    assert r.status_code == 200 and r.json()["ok"], r.text
    merged = sup.get(f"/patients/{ids['p3']}", headers=JSON).json()
    assert merged["merged_into"] == ids["p1"] and merged["records"] == []
    assert sorted(x["id"] for x in sup.get(f"/patients/{ids['p1']}", headers=JSON).json()["records"]) == sorted(
        [ids["r1"], ids["r4"]]
    )
    again = sup.post("/patients/merge", data=form, headers={**JSON, "X-CSRF-Token": sup.csrf})
    assert again.status_code == 409 and "already merged" in again.json()["error"]
    r = sup.post(f"/patients/merges/{r.json()['merge_id']}/undo", headers={**JSON, "X-CSRF-Token": sup.csrf})
    assert r.status_code == 200
    with session_scope(url) as s:
        assert s.get(Dictation, ids["r4"]).encounter.patient_id == ids["p3"]


def test_link_record_from_the_review_app(site):
    url, ids, login = site
    c = login("alice")
    r = c.post(f"/records/{ids['r3']}/link", data={"mrn": "a-1001"}, headers={**JSON, "X-CSRF-Token": c.csrf})
    assert r.status_code == 409 and "claim record" in r.json()["error"]  # only the claim holder (or a supervisor)
    assert c.post(f"/records/{ids['r3']}/claim", headers={**JSON, "X-CSRF-Token": c.csrf}).status_code == 200
    r = c.post(f"/records/{ids['r3']}/link", data={"mrn": "a-1001"}, headers={**JSON, "X-CSRF-Token": c.csrf})
    assert r.status_code == 200, r.text
    with session_scope(url) as s:
        assert s.get(Dictation, ids["r3"]).encounter.patient_id == ids["p1"]
    r = c.post(f"/records/{ids['r3']}/link", data={"mrn": "nobody"}, headers={**JSON, "X-CSRF-Token": c.csrf})
    assert r.status_code == 409 and "no patient with MRN" in r.json()["error"]


def test_report_page_chart_and_downloads(site):
    url, ids, login = site
    coder, sup = login("alice"), login("sue")
    assert coder.get("/reports").status_code == 403
    rep = sup.get("/reports", params={"period": "month"}, headers=JSON).json()
    assert rep["records"] == 5 and rep["finalized"] == 3
    page = sup.get("/reports", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200 and 'src="/reports/chart/chapters.png?from=2026-11-01&amp;to=2026-11-30"' in page.text
    png = sup.get("/reports/chart/chapters.png", params={"from": "2026-11-01"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert sup.get("/reports/chart/nothing.png").status_code == 404
    assert "# productivity" in sup.get("/reports/report.csv").text
    x = sup.get("/reports/report.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert sup.get("/reports", params={"from": "2026-1-1x"}).status_code == 400


def test_deviations_and_registry_pages(site):
    url, ids, login = site
    c = login("alice")
    dev = c.get("/reports/deviations", headers=JSON).json()
    r3 = next(r for r in dev["records"] if r["id"] == ids["r3"])
    assert "assessment" in r3["missing"] and dev["missing"]["assessment"] == 1
    page = c.get("/reports/deviations")
    assert "Dr. Lee" in page.text and "no assessment section in the transcript" in page.text
    cases = c.get("/registry", headers=JSON).json()["cases"]
    assert {x["code"] for x in cases} == {"C34.90", "D32.9", "C50.911"}
    r = c.get("/registry", params={"format": "csv"})
    assert r.headers["content-disposition"].endswith('registry-cases.csv"') and "D32.9" in r.text


def test_release_of_information_form(site, settings):
    url, ids, login = site
    coder, sup = login("alice"), login("sue")
    assert coder.get("/releases").status_code == 403
    h = {**JSON, "X-CSRF-Token": sup.csrf}
    bad = sup.post("/releases", data={"ids": f"{ids['r1']}", "recipient": "", "purpose": "research"}, headers=h)
    assert bad.status_code == 409 and "to whom" in bad.json()["error"]
    r = sup.post(
        "/releases",
        data={
            "ids": f"{ids['r1']}, {ids['r2']}",
            "recipient": "University research group",
            "purpose": "research, IRB 2026-114",
            "format": "json",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    f = sup.get(r.json()["file"])
    assert f.status_code == 200
    body = f.text
    assert "Jane" not in body and "A1001" not in body and "Okafor" not in body and "E11.22" in body
    assert len(json.loads(body)["records"]) == 2
    listed = sup.get("/releases", headers=JSON).json()["releases"]
    assert listed[0]["to"] == "University research group" and listed[0]["deidentified"] is True
    page = sup.get("/releases")
    assert "University research group" in page.text and 'data-testid="release-form"' in page.text
