"""The record screen as a keyboard-first workbench, in a real browser (Playwright driving Debian's Chromium):
every action posted in place (no reload: focus and scroll stay), the documented shortcuts and their help,
one screen at 1440x900 (one line per code, Finalize always in view), forms still working without
JavaScript, and axe-core finding no serious or critical accessibility violation on the worklist, record,
search, report and encoder pages. Real pipeline output (sample 01), real database, real media."""

from __future__ import annotations

import json
import os

import pytest
from conftest import ROOT
from playwright.sync_api import expect
from review_support import PASSWORD, add_user, seed_record, serve_app

pytestmark = pytest.mark.slow
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
DOCS = ROOT / "docs" / "screenshots"


@pytest.fixture
def server(settings, coded):
    url = settings.resolved_database_url
    for i, (prio, setting) in enumerate([("stat", "outpatient"), ("urgent", "inpatient"), ("routine", "outpatient")]):
        seed_record(url, coded, i, priority=prio, setting=setting, sex="M", archive=settings.archive_path)
    add_user(url, "alice")
    add_user(url, "sue", "supervisor")
    with serve_app(settings) as base:
        yield base


def _login(browser, base, name="alice", js=True, height=900, bypass_csp=False):
    ctx = browser.new_context(viewport={"width": 1440, "height": height}, java_script_enabled=js, bypass_csp=bypass_csp)
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/worklist")
    return ctx, page


def _claim_next(page):
    page.click("[data-testid=next-record]")
    page.wait_for_url("**/records/*")
    page.wait_for_selector("tr.code.selected")


def _selected(page) -> dict:
    return page.evaluate("""() => { const r = document.querySelector('tr.code.selected');
        return r && {id: r.dataset.codeId, code: r.dataset.code, status: r.dataset.status, focused: document.activeElement === r}; }""")


def _row(page, code):
    return page.locator(f"tr[data-testid=code-row][data-code='{code}']")


def _select(page, code):
    page.evaluate("c => window.mrtSelectRow(document.querySelector(`tr.code[data-code='${c}']`))", code)


def test_keyboard_codes_a_record_in_place(browser, server, tmp_path):
    ctx, page = _login(browser, server, height=600)  # a short window, so the codes pane scrolls
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _claim_next(page)
    rid = page.url.split("/records/")[1].split("?")[0]
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if anything reloads the page

    # j / k move between codes; the selected line has focus
    first = _selected(page)
    assert first["focused"] and first["status"] == "proposed"
    page.keyboard.press("j")
    second = _selected(page)
    assert second["id"] != first["id"] and second["focused"]
    page.keyboard.press("k")
    assert _selected(page)["id"] == first["id"]

    # the help overlay
    page.keyboard.press("?")
    expect(page.locator("[data-testid=help]")).to_be_visible()
    assert "finalize and claim the next record" in page.inner_text("[data-testid=help]")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=help]")).to_be_hidden()

    # a accepts in place and moves on to the next proposal; the pane keeps its scroll
    box = page.locator("[data-testid=work-scroll]")
    page.evaluate("() => { const b = document.querySelector('[data-testid=work-scroll]'); b.scrollTop = 40; }")
    top = box.evaluate("b => b.scrollTop")
    assert top > 0, "the codes pane should scroll in a 600 px window"
    page.keyboard.press("a")
    expect(page.locator(f"tr.code[data-code-id='{first['id']}'] [data-testid=code-status]")).to_have_text("accepted")
    nxt = _selected(page)
    assert nxt["id"] != first["id"] and nxt["status"] == "proposed" and nxt["focused"]
    assert abs(box.evaluate("b => b.scrollTop") - top) <= 40  # kept (or nudged to show the next line), not back to 0
    assert page.evaluate("() => window.__sameDocument === true")

    # e edits: the type-ahead follows the arrow keys, Enter takes the code, Enter again saves
    _select(page, "E11.9")
    page.keyboard.press("e")
    edit = _row(page, "E11.9").locator("[data-testid=edit-code]")
    expect(edit).to_be_focused()
    page.keyboard.type("E11.6", delay=20)
    option = page.locator("tr[data-code='E11.9'] .ta-list li[data-code='E11.65']")
    option.wait_for(timeout=10_000)
    codes = page.eval_on_selector_all("tr[data-code='E11.9'] .ta-list li", "ls => ls.map(l => l.dataset.code)")
    for _ in range(codes.index("E11.65") + 1):
        page.keyboard.press("ArrowDown")
    assert edit.get_attribute("aria-activedescendant")
    page.keyboard.press("Enter")
    assert edit.input_value() == "E11.65"
    page.keyboard.press("Enter")
    expect(_row(page, "E11.65").locator("[data-testid=code-status]")).to_have_text("edited")
    assert _selected(page)["code"] == "E11.65"  # focus stays on the line that was edited

    # n adds: type a code, Enter; the code box keeps focus for the next one
    page.keyboard.press("n")
    expect(page.locator("[data-testid=add-code]")).to_be_focused()
    page.keyboard.type("Z79.4", delay=20)
    page.keyboard.press("Enter")
    expect(_row(page, "Z79.4").locator("[data-testid=code-status]")).to_have_text("added")
    expect(page.locator("[data-testid=add-code]")).to_be_focused()
    page.keyboard.press("Escape")

    # r + a digit rejects with that reason from the picker
    target = page.evaluate(
        "() => [...document.querySelectorAll('tr.code')].find(r => r.dataset.status === 'proposed' && r.dataset.code.startsWith('E10'))?.dataset.code"
    )
    if target is None:  # the sample's proposals vary with Whisper: add type 1 diabetes to have one to reject
        page.keyboard.press("n")
        page.keyboard.type("E10.9")
        page.keyboard.press("Enter")
        expect(_row(page, "E10.9")).to_have_count(1)
        page.keyboard.press("Escape")
        target = "E10.9"
    _select(page, target)
    page.keyboard.press("r")
    if _row(page, target).get_attribute("data-status") == "added":  # an own addition goes without a reason
        expect(_row(page, target)).to_have_count(0)
    else:
        expect(_row(page, target).locator("[data-testid=reject-reason]")).to_be_focused()
        page.keyboard.press("2")
        expect(_row(page, target).locator("[data-testid=code-status]")).to_have_text("rejected")
        page.locator("#tab-history").click()
        expect(page.locator("[data-testid=history]")).to_contain_text("Negated or ruled out")
        page.locator(f"tr.code[data-code='{target}']").focus()

    # Shift+A accepts the rest; Shift+F finalizes and claims the next record
    page.keyboard.press("A")
    expect(page.locator("tr.code[data-status=proposed]")).to_have_count(0)
    expect(page.locator("[data-testid=validation] li.error")).to_have_count(0)
    assert page.evaluate("() => window.__sameDocument === true")
    page.keyboard.press("F")
    page.wait_for_url(lambda u: f"/records/{rid}" not in u)
    assert "/records/" in page.url and "finalized" in page.inner_text(".flash.ok")
    page.goto(f"{server}/api/records/{rid}")
    assert json.loads(page.inner_text("body"))["status"] == "finalized"
    assert not errors, errors
    ctx.close()


def test_highlighted_words_offer_codes_and_become_the_evidence(browser, server):
    ctx, page = _login(browser, server)
    _claim_next(page)
    rid = page.url.split("/records/")[1].split("?")[0]
    before = set(page.eval_on_selector_all("tr.code", "rs => rs.map(r => r.dataset.code)"))
    # highlight a word of the transcript as a coder drags over it
    words = page.evaluate("""() => {
        const run = [...document.querySelectorAll('.transcript .r')].find(r => /polyuria|numbness|hypertension/i.test(r.textContent));
        const node = run.firstChild, m = node.textContent.match(/polyuria|numbness|hypertension/i);
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        run.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        return m[0];
    }""")
    popup = page.locator("[data-testid=text-to-code]")
    expect(popup).to_be_visible()
    assert words.lower() in popup.inner_text().lower()
    options = popup.locator("[data-testid=t2c-results] button")
    options.first.wait_for(timeout=10_000)
    codes = [b.get_attribute("data-code") for b in options.all()]
    pick = next(c for c in codes if c not in before)
    popup.locator(f"[data-testid=t2c-results] button[data-code='{pick}']").click()
    expect(_row(page, pick).locator("[data-testid=code-status]")).to_have_text("added")
    expect(popup).to_be_hidden()
    page.goto(f"{server}/api/records/{rid}")
    added = next(c for c in json.loads(page.inner_text("body"))["codes"] if c["code"] == pick)
    assert added["evidence"][0]["text"].lower() == words.lower() and added["evidence"][0]["audio_start"] is not None
    ctx.close()


def test_one_screen_at_1440x900(browser, server, tmp_path):
    ctx, page = _login(browser, server)
    _claim_next(page)
    heights = page.eval_on_selector_all("tr[data-testid=code-row]", "rs => rs.map(r => r.getBoundingClientRect().height)")
    assert heights and max(heights) <= 36, heights  # one line per code
    for sel in ("[data-testid=finalize]", "[data-testid=finalize-next]", "[data-testid=validation]"):
        box = page.locator(sel).bounding_box()
        assert box and box["y"] + box["height"] <= 900, (sel, box)
    assert page.evaluate("() => document.scrollingElement.scrollHeight") <= 905  # the page itself does not scroll
    assert page.locator("#player").bounding_box()["height"] <= 60  # audio: no video-sized box
    for testid in ("fact-document", "fact-setting", "fact-physician", "fact-dos"):
        assert page.inner_text(f"[data-testid={testid}]").strip() not in ("", "—"), testid
    # evidence on hover (title) and on expand
    row = page.locator("tr[data-testid=code-row]:has([data-testid=evidence])").first
    assert "evidence:" in row.locator("details.more > summary").get_attribute("title")
    row.locator("details.more > summary").click()
    expect(row.locator("[data-testid=evidence]").first).to_be_visible()
    # notes, queries and history are tabs
    for tab in ("notes", "queries", "history", "claim"):
        page.click(f"#tab-{tab}")
        expect(page.locator(f"#panel-{tab}")).to_be_visible()
    page.screenshot(path=str(tmp_path / "record-workbench.png"))
    if os.environ.get("MRT_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "record-workbench.png"))
    ctx.close()


def test_forms_still_work_without_javascript(browser, server):
    ctx, page = _login(browser, server, js=False)
    page.click("[data-testid=next-record]")
    page.wait_for_url("**/records/*")
    row = page.locator("tr[data-testid=code-row]:has([data-testid=accept])").first
    code = row.get_attribute("data-code")
    row.locator("[data-testid=accept]").click()
    page.wait_for_load_state()
    assert "Accepted" in page.inner_text(".flash.ok")
    assert _row(page, code).locator("[data-testid=code-status]").inner_text() == "accepted"
    page.click("[data-testid=accept-remaining]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=accept]").count() == 0
    assert page.locator("[data-testid=history]").is_visible()  # no tabs without the script: every panel shows
    ctx.close()


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violations(browser, server):
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} is missing: .ci/run installs it (npm ci --prefix tests/a11y)")
        pytest.skip("axe-core not installed: npm install --prefix tests/a11y (scripts/setup.sh does)")
    ctx, page = _login(browser, server, name="sue", bypass_csp=True)  # (the app's CSP would refuse the injected axe)
    found = {}
    found["worklist"] = _axe(page)
    page.click("[data-testid=next-record]")
    page.wait_for_url("**/records/*")
    page.wait_for_selector("tr[data-testid=code-row]")
    found["record"] = _axe(page)
    if page.locator("[data-testid=help]").count():
        page.keyboard.press("?")
        expect(page.locator("[data-testid=help]")).to_be_visible()
        found["record help"] = _axe(page)
        page.keyboard.press("Escape")
    page.goto(server + "/search?code=E11")
    found["search"] = _axe(page)
    page.goto(server + "/reports")
    found["report"] = _axe(page)
    page.goto(server + "/encoder?term=fracture&code=S52.501")
    found["encoder"] = _axe(page)
    page.goto(server + "/encoder?book=neoplasm&term=colon")
    found["encoder neoplasms"] = _axe(page)
    bad = {k: v for k, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)
    ctx.close()
