"""The claim panel in a real browser (Playwright driving Debian's Chromium, headless): from the
record screen, read the DRG and HCCs, run a what-if, fill the inpatient abstract, send a CDI
query and record its answer, accept the codes and finalize; then the claims report.

With MRT_UPDATE_SCREENSHOTS=1 the record screenshot replaces docs/screenshots/claim-panel.png
(the README shows it)."""

from __future__ import annotations

import pytest
from conftest import screenshot
from playwright.sync_api import expect
from review_support import PASSWORD, add_user, serve_app
from test_claim import seed_stay

pytestmark = pytest.mark.slow  # a real browser


def _settle(page) -> None:
    """Wait for the record screen's last action: a page load, or its in-place post and swap."""
    page.wait_for_load_state()
    page.wait_for_function("() => !document.querySelector('.record.busy')", timeout=15_000)


def test_record_screen_drg_query_to_finalize(browser, settings, tmp_path):
    url = settings.resolved_database_url
    add_user(url, "alice")
    add_user(url, "sue", "supervisor")
    rid = seed_stay(url, code_status="proposed")
    with serve_app(settings) as base:
        page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/records/{rid}")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/records/{rid}")
        page.click("[data-testid=claim]")
        page.wait_for_load_state()

        # the DRG, what drives it, the HCCs
        assert page.inner_text("[data-testid=drg-code]") == "193"
        assert "J9601 (MCC)" in page.inner_text("[data-testid=drg-drivers]")
        assert page.locator("[data-testid=hccs] li[data-hcc='226']").count() == 1
        assert page.locator("[data-testid=hcc-flag]").count() == 2  # J96.01 (HCC 213) and I50.9 (HCC 226)

        # what if the MCC were not there
        page.select_option("[data-testid=whatif-remove]", "J96.01")
        page.click("[data-testid=whatif-run]")
        page.wait_for_load_state()
        assert "→ 195" in page.inner_text("[data-testid=whatif-result]")

        # the abstract: dates, UB-04 codes, POA (I25.2 is exempt: 1)
        page.fill("input[name=admission_date]", "2026-11-18")
        page.fill("[data-testid=discharge-date]", "2026-11-21")
        page.select_option("select[name=admission_type]", "1")
        page.select_option("select[name=admission_source]", "1")
        page.select_option("[data-testid=discharge-status]", "01")
        for code in ("J18.9", "J96.01", "I50.9"):
            page.select_option(f"tr[data-code='{code}'] [data-testid=poa-select]", "Y")
        assert page.inner_text("tr[data-code='I25.2'] [data-testid=poa-value]") == "1"
        page.fill("input[name=date_BW03ZZZ]", "2026-11-18")
        page.click("[data-testid=abstract-save]")
        _settle(page)
        expect(page.locator("body")).to_contain_text("Abstract saved")

        # a CDI query: each answer's codes and DRG are shown; send it, record the answer
        sug = page.locator("[data-testid=cdi-suggestion][data-kind=heart_failure_specificity]")
        assert "I50.23" in sug.inner_text() and "193" in sug.inner_text()
        sug.locator("[data-testid=cdi-ask]").click()
        _settle(page)
        screenshot(page, tmp_path, "claim-panel.png")
        page.select_option("[data-testid=cdi-answer-option]", "2")
        page.click("[data-testid=cdi-answer]")
        _settle(page)
        assert "answered “Acute on chronic systolic (HFrEF) heart failure”" in page.inner_text("[data-testid=cdi-asked]")

        # accept the codes, finalize
        while page.locator("[data-testid=accept]").count():
            page.locator("[data-testid=accept]").first.click()
            _settle(page)
        page.click("[data-testid=finalize]")
        expect(page.locator("[data-testid=record-status]")).to_have_text("finalized")
        assert page.inner_text("[data-testid=drg-code]") == "193"

        # the supervisor's report counts it
        page.context.clear_cookies()
        page.goto(f"{base}/reports/claims")
        page.fill("input[name=username]", "sue")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/reports/claims")
        assert page.inner_text("[data-testid=cmi]") == "1.3144"
        assert errors == []
