"""The review queue in a real browser (Playwright driving Debian's Chromium, headless):
log in, claim, play from a segment, accept / edit / add codes, see an edit block
finalizing, resolve it, finalize, and read the audit timeline.

Screenshots go to the test's temporary folder; with MRT_UPDATE_SCREENSHOTS=1 they also
replace the ones in docs/screenshots/ that the README shows.
"""

from __future__ import annotations

import pytest
from conftest import screenshot
from playwright.sync_api import expect
from review_support import PASSWORD, add_user, run_pipeline, seed_record, serve_app

pytestmark = pytest.mark.slow


@pytest.fixture
def server(settings, sample):
    url = settings.resolved_database_url
    media, _, _ = sample("01")
    out = run_pipeline(media)
    seed_record(url, out, 0, priority="stat", document_type="office_note", sex="M", archive=settings.archive_path)
    for i, (prio, doc, doctor) in enumerate(
        [
            ("routine", "office_note", "Dr. Lee"),
            ("urgent", "consult", "Dr. Okafor"),
            ("routine", "follow_up", "Dr. Lee"),
            (None, "office_note", "Dr. Ana Reyes"),
        ],
        start=1,
    ):
        seed_record(url, out, i, priority=prio, document_type=doc, physician=doctor, archive=settings.archive_path)
    add_user(url, "alice")
    with serve_app(settings) as base:
        yield base


def _pick(page, input_sel: str, text: str, code: str) -> None:
    """Type into a type-ahead box and choose ``code`` from the suggestions."""
    page.fill(input_sel, "")
    page.type(input_sel, text, delay=30)
    option = page.locator(f".ta-list li[data-code='{code}']")
    option.wait_for(timeout=10_000)
    option.dispatch_event("mousedown")
    assert page.input_value(input_sel) == code


def _row(page, code: str):
    return page.locator(f"tr[data-testid=code-row][data-code='{code}']")


def test_coder_finalizes_a_dictation_in_the_browser(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # log in
    page.goto(server + "/worklist")
    assert "/login" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/worklist")
    assert page.locator("[data-testid=worklist] tbody tr").count() == 5
    screenshot(page, tmp_path, "worklist.png")

    # claim the next record (the stat one)
    page.click("[data-testid=next-record]")
    page.wait_for_url("**/records/*")
    assert page.inner_text("[data-testid=holder]") == "alice"

    # play from a segment: the player seeks to the segment's start and plays
    segs = page.locator("[data-testid=segment]")
    assert segs.count() >= 3
    seg = segs.nth(2)
    start = float(seg.get_attribute("data-start"))
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=10_000)
    seg.locator("button.ts").click()
    page.wait_for_function(f"document.getElementById('player').currentTime >= {start - 0.05}", timeout=10_000)
    assert "playing" in (seg.get_attribute("class") or "")

    # evidence of a code (in its expanded line) highlights its words in the transcript
    row0 = page.locator("tr[data-testid=code-row]:has([data-testid=evidence])").first
    row0.locator("details.more > summary").click()
    row0.locator("[data-testid=evidence]").first.click()
    assert page.locator(".transcript .r.hl").count() >= 1

    codes = [r.get_attribute("data-code") for r in page.locator("tr[data-testid=code-row]").all()]
    assert "E11.9" in codes, codes
    first = next(c for c in codes if c != "E11.9")

    # accept one
    _row(page, first).locator("[data-testid=accept]").click()
    expect(_row(page, first).locator("[data-testid=code-status]")).to_have_text("accepted")

    # edit one, choosing the new code by type-ahead
    row = _row(page, "E11.9")
    row.locator("[data-testid=edit-open]").click()
    _pick(page, "tr[data-code='E11.9'] [data-testid=edit-code]", "E11.6", "E11.65")
    row.locator("[data-testid=edit-save]").click()
    expect(_row(page, "E11.65").locator("[data-testid=code-status]")).to_have_text("edited")

    # add one by searching words
    _pick(page, "[data-testid=add-code]", "long term insulin", "Z79.4")
    page.click("[data-testid=add]")
    expect(_row(page, "Z79.4").locator("[data-testid=code-status]")).to_have_text("added")

    # a code that takes a 7th character is one suggestion; choosing it lists the characters to pick from
    page.fill("[data-testid=add-code]", "")
    page.type("[data-testid=add-code]", "fracture distal radius left", delay=30)
    stem = page.locator(".ta-list li[data-code='S52.502']")
    stem.wait_for(timeout=10_000)
    assert page.locator(".ta-list li[data-code^='S52.502']").count() == 1  # not one row per 7th character
    stem.dispatch_event("mousedown")
    later = page.locator(".ta-list li[data-code='S52.502D']")
    later.wait_for(timeout=5_000)
    assert "subsequent encounter" in later.inner_text()
    assert page.input_value("[data-testid=add-code]") == "fracture distal radius left"  # nothing taken yet
    later.dispatch_event("mousedown")
    assert page.input_value("[data-testid=add-code]") == "S52.502D"
    page.fill("[data-testid=add-code]", "")

    # decide the rest
    while n := page.locator("[data-testid=accept]").count():
        page.locator("[data-testid=accept]").first.click()
        expect(page.locator("[data-testid=accept]")).to_have_count(n - 1)

    # type 1 diabetes beside type 2 (Excludes1) blocks finalizing
    if _row(page, "E10.9").count() == 0:
        _pick(page, "[data-testid=add-code]", "E10.9", "E10.9")
        page.click("[data-testid=add]")
        expect(_row(page, "E10.9")).to_have_count(1)
    expect(page.locator("[data-testid=validation] li.error[data-kind=excludes1]").first).to_be_visible()
    assert page.locator("[data-testid=finalize]").is_disabled()
    screenshot(page, tmp_path, "record.png")

    # resolve it: reject (or take off) type 1 diabetes
    row = _row(page, "E10.9")
    if row.locator("[data-testid=remove]").count():  # the coder's own addition: removed without a reason
        row.locator("[data-testid=remove]").click()
    else:
        row.locator("[data-testid=reject-open]").click()
        row.locator("[data-testid=reject-reason]").select_option("A more specific code applies")
        row.locator("[data-testid=reject-detail]").fill("Documented as type 2")
        row.locator("[data-testid=reject]").click()
    expect(page.locator("[data-testid=validation] li.error")).to_have_count(0)
    assert _row(page, "E10.9").count() == 0 or _row(page, "E10.9").locator("[data-testid=code-status]").inner_text() == "rejected"
    page.click("[data-testid=finalize]")
    expect(page.locator("[data-testid=record-status]")).to_have_text("finalized")

    # the history timeline shows what was done, by whom (and no page views)
    page.click("#tab-history")
    history = page.inner_text("[data-testid=history]")
    assert "alice view" not in history
    for action in ("claim", "accept", "edit", "add", "finalize"):
        assert f"alice {action}" in history, action
    assert "alice reject" in history or "alice remove" in history
    screenshot(page, tmp_path, "record-finalized.png")
    assert not errors, errors
    ctx.close()
