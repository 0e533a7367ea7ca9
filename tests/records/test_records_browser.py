"""The records pages in a real browser (Playwright driving Debian's Chromium, headless): a
supervisor searches by code prefix and transcript words, opens the report page and sees its
chart images load under the strict CSP, merges a duplicate patient and releases records
through the release form.

With MRT_UPDATE_SCREENSHOTS=1 the report and search screenshots replace the ones in
docs/screenshots/ that the README shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import screenshot
from records_support import seed_fixture
from review_support import PASSWORD, serve_app

pytestmark = pytest.mark.slow


@pytest.fixture
def records_server(settings):
    ids = seed_fixture(settings.resolved_database_url)
    with serve_app(settings) as url:
        yield url, ids


def test_search_report_merge_and_release_in_the_browser(browser, records_server, tmp_path):  # noqa: F811
    server, ids = records_server
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None
    )  # CSP refusals
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 and not r.url.endswith("/favicon.ico") else None,
    )

    page.goto(server + "/login")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/worklist")

    # search: code prefix, then words of the transcript
    page.click("nav >> text=Search")
    page.fill("input[name=code]", "E11")
    page.click("[data-testid=search-submit]")
    page.wait_for_url("**/search?*")
    assert page.locator("[data-testid=search-results] tbody tr").count() == 3
    page.fill("input[name=code]", "")
    page.fill("input[name=text]", "metformin kidney")
    page.click("[data-testid=search-submit]")
    page.wait_for_load_state()
    rows = page.locator("[data-testid=search-results] tbody tr")
    assert rows.count() == 1 and "Jane Doe" in rows.first.inner_text()
    screenshot(page, tmp_path, "records-search.png")

    # the report page: tables and server-drawn chart images that load under the CSP
    page.click("nav >> text=Reports")
    page.wait_for_url("**/reports")
    assert "5 record(s), 3 finalized" in page.inner_text("[data-testid=report-summary]")
    chart = page.locator("[data-testid=chart-chapters]")
    chart.wait_for()
    page.wait_for_function("document.querySelector('[data-testid=chart-chapters]').complete", timeout=15_000)
    assert page.evaluate("document.querySelector('[data-testid=chart-chapters]').naturalWidth") > 300
    assert "Neoplasms (C00-D49)" in page.inner_text("[data-testid=table-chapters]")
    screenshot(page, tmp_path, "records-report.png")

    # patient index: merge the duplicate 'DOE, Jane' into 'Jane Doe'
    page.click("nav >> text=Patients")
    page.click(f"[data-testid=merge-{ids['p3']}-into-{ids['p1']}]")
    page.wait_for_url(f"**/patients/{ids['p1']}*")
    assert "merged into" in page.inner_text(".flash.ok")
    assert page.locator("[data-testid=patient-records] tbody tr").count() == 2

    # release of information through the form
    page.click("nav >> text=Releases")
    page.fill("input[name=ids]", f"{ids['r1']} {ids['r4']}")
    page.fill("input[name=recipient]", "University research group")
    page.fill("input[name=purpose]", "research, IRB 2026-114")
    page.select_option("select[name=format]", "fhir")
    page.click("[data-testid=release-submit]")
    page.wait_for_url("**/releases?*")
    assert "Release 1 recorded" in page.inner_text(".flash.ok")
    assert "University research group" in page.inner_text("[data-testid=releases]")
    with page.expect_download() as dl:
        page.click("[data-testid=release-file-1]")
    body = Path(dl.value.path()).read_text()
    assert '"resourceType": "Bundle"' in body and "Jane" not in body and "A1001" not in body
    assert not problems, problems
    ctx.close()
