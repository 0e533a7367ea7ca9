"""How many clicks and keystrokes it takes to code a sample to its expected codes in the review app.

A real browser (Playwright driving Debian's Chromium) works the record screen as a coder would: accept the
proposals that are right, reject those that are not (with a reason), add the expected codes that are missing,
make the expected principal principal, and finalize. It counts every mouse click and every key pressed
(each typed character is a keystroke), from the opened record to the finalized one; logging in and opening
the record are not counted. Two ways of working:

* ``mouse``: click the row buttons and type into the forms (works on the pre-issue-22 screen and this one);
* ``keyboard``: the record screen's shortcuts (j/k, a, r + reason digit, n + code + Enter, p, Shift+F).

The records are the real pipeline's output (Whisper, spaCy, coder) on samples/NN_*; the pipeline's
output is cached in --work so a second run skips Whisper. With --app-root the app is imported from another
checkout (e.g. a worktree of an older commit) to measure its screen.

    python bench/review_effort.py --strategy keyboard --samples 04 07
    python bench/review_effort.py --strategy mouse --app-root /tmp/old-main --samples 04 07
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
REASON = "Not documented in the dictation"


def _pipeline(prefix: str, work: Path):
    """The real pipeline's output for one sample (cached), its expected codes and its metadata."""
    sys.path.insert(0, str(ROOT / "tests"))
    from review_support import run_pipeline

    media = next(p for p in SAMPLES.glob(f"{prefix}_*") if p.suffix in (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".mp4", ".webm"))
    meta = json.loads(media.with_suffix(".json").read_text())
    expected = json.loads(media.with_name(media.stem + ".expected.json").read_text())
    cache = work / f"pipeline-{prefix}.pickle"
    if cache.exists():
        out = pickle.loads(cache.read_bytes())
    else:
        out = run_pipeline(media, setting=meta["setting"])
        cache.write_bytes(pickle.dumps(out))
    return out, expected, meta


class Counter:
    """Wraps the page's mouse and keyboard so each click and key is counted."""

    def __init__(self, page):
        self.page, self.clicks, self.keys = page, 0, 0

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()

    def select(self, locator, value: str) -> None:  # open the list, choose: two clicks
        self.clicks += 2
        locator.select_option(value)

    def type(self, text: str) -> None:
        self.keys += len(text)
        self.page.keyboard.type(text, delay=15)

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)


def _rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        "tr[data-testid=code-row]",
        "rs => rs.map(r => ({id: r.dataset.codeId, code: r.dataset.code, status: r.querySelector('[data-testid=code-status]').innerText.trim(),"
        " principal: r.classList.contains('principal')}))",
    )


def _settle(page, before: str | None = None) -> None:
    """Wait until the last action's page (a reload, or the in-place swap) is there."""
    page.wait_for_load_state()
    page.wait_for_timeout(150)
    page.wait_for_function("() => !document.querySelector('.record.busy')", timeout=10_000)


def _edits(page, expected: list[str]) -> dict[str, str]:
    """Proposals that are wrong but in the category of a missing expected code: edited to it (row id -> code),
    as a coder would, rather than rejected and added."""
    rows, edits = _rows(page), {}
    missing = [c for c in expected if c not in {r["code"] for r in rows}]
    for r in rows:
        if r["status"] == "proposed" and r["code"] not in expected:
            to = next((c for c in missing if c[:3] == r["code"][:3] and c not in edits.values()), None)
            if to:
                edits[r["id"]] = to
    return edits


def code_mouse(page, n: Counter, expected: list[str]) -> None:
    want = set(expected)
    for rid, to in _edits(page, expected).items():
        row = page.locator(f"tr[data-code-id='{rid}']")
        n.click(row.locator("[data-testid=edit-open]"))
        n.click(row.locator("[data-testid=edit-code]"))
        n.type(to)
        n.click(row.locator("[data-testid=edit-save]"))
        _settle(page)
    for code in expected:  # add what is missing
        if code not in {r["code"] for r in _rows(page)}:
            n.click(page.locator("[data-testid=add-code]"))
            n.type(code)
            n.click(page.locator("[data-testid=add]"))
            _settle(page)
    for r in _rows(page):
        row = page.locator(f"tr[data-code-id='{r['id']}']")
        if r["status"] != "proposed":
            continue
        if r["code"] in want:
            n.click(row.locator("[data-testid=accept]"))
        else:
            n.click(row.locator("[data-testid=reject-open]"))
            reason = row.locator("[data-testid=reject-reason]")
            if reason.evaluate("e => e.tagName") == "SELECT":
                n.select(reason, REASON)
            else:
                n.click(reason)
                n.type(REASON)
            n.click(row.locator("[data-testid=reject]"))
        _settle(page)
    principal = expected[0]
    if not any(r["principal"] and r["code"] == principal for r in _rows(page)):
        n.click(page.locator(f"tr[data-code='{principal}'] [data-testid=principal]"))
        _settle(page)
    n.click(page.locator("[data-testid=finalize]"))
    _settle(page)


def _go(page, n: Counter, row_id: str) -> None:
    """j / k to the line ``row_id``."""
    ids = [r["id"] for r in _rows(page)]
    sel = page.evaluate("() => document.querySelector('tr.code.selected')?.dataset.codeId")
    at = ids.index(sel) if sel in ids else 0
    for _ in range(abs(ids.index(row_id) - at)):
        n.press("j" if ids.index(row_id) > at else "k")


def code_keyboard(page, n: Counter, expected: list[str]) -> None:
    want = set(expected)
    for rid, to in _edits(page, expected).items():
        _go(page, n, rid)
        n.press("e")
        n.type(to)
        n.press("Enter")
        _settle(page)
    adding = False
    for code in expected:  # n once; the code box keeps focus for the next code
        if code not in {r["code"] for r in _rows(page)}:
            if not adding:
                n.press("n")
                adding = True
            n.type(code)
            n.press("Enter")
            _settle(page)
    if adding:
        n.press("Escape")  # back to the code list
    # walk the list from the top: a or r+1 on each proposal
    page.locator("tr[data-testid=code-row]").first.focus()
    page.evaluate("() => window.mrtSelectRow(document.querySelector('tr[data-testid=code-row]'))")
    for _ in range(40):
        rows = _rows(page)
        sel = page.evaluate("() => document.querySelector('tr.code.selected')?.dataset.codeId")
        pending = [r for r in rows if r["status"] == "proposed"]
        if not pending:
            break
        cur = next((r for r in rows if r["id"] == sel), None)
        if cur is None or cur["status"] != "proposed":
            _go(page, n, pending[0]["id"])
            continue
        if cur["code"] in want:
            n.press("a")
        else:
            n.press("r")
            n.press("1")
        _settle(page)
    principal = expected[0]
    if not any(r["principal"] and r["code"] == principal for r in _rows(page)):
        _go(page, n, next(r["id"] for r in _rows(page) if r["code"] == principal))
        n.press("p")
        _settle(page)
    before = page.url
    n.press("F")
    page.wait_for_url(lambda u: u != before, timeout=10_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strategy", choices=("mouse", "keyboard"), required=True)
    ap.add_argument("--samples", nargs="+", default=["04", "07"])
    ap.add_argument("--app-root", type=Path, help="import the review app from this checkout")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mrt-review-effort")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    outputs = {p: _pipeline(p, args.work) for p in args.samples}  # before the app import: uses this checkout's pipeline
    if args.app_root:
        for name in [m for m in sys.modules if m == "pipeline.review" or m.startswith("pipeline.review.")]:
            del sys.modules[name]
        import pipeline

        pipeline.__path__.insert(0, str(args.app_root / "pipeline"))
    from playwright.sync_api import sync_playwright
    from review_support import PASSWORD, add_user, seed_record, serve_app

    from pipeline.settings import get_settings

    results = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp, sync_playwright() as p:
        data = Path(tmp)
        settings = get_settings().model_copy(update={"data_dir": data, "database_url": f"sqlite:///{data / 'mrt.db'}"})
        url = settings.resolved_database_url
        rids = {}
        for i, (prefix, (out, expected, meta)) in enumerate(outputs.items()):
            rids[prefix] = seed_record(
                url, out, i, document_type=meta["document_type"], setting=meta["setting"], archive=settings.archive_path
            )
        add_user(url, "coder1")
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        with serve_app(settings) as base:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(base + "/login")
            page.fill("input[name=username]", "coder1")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/worklist")
            for prefix, (out, expected, meta) in outputs.items():
                rid = rids[prefix]
                page.goto(f"{base}/records/{rid}")
                if page.locator("[data-testid=claim]").count():  # (finalize and next may have claimed it already)
                    page.click("[data-testid=claim]")
                    page.wait_for_load_state()
                page.wait_for_selector("[data-testid=finalize]")
                want = [c["code"] for c in expected["icd10cm"]] + [c["code"] for c in expected["icd10pcs"]]
                n = Counter(page)
                (code_keyboard if args.strategy == "keyboard" else code_mouse)(page, n, want)
                page.goto(f"{base}/api/records/{rid}")
                final = json.loads(page.inner_text("body"))
                live = [c for c in final["codes"] if c["status"] != "rejected"]
                got = {c["code"] for c in live}
                principal = next((c["code"] for c in live if c["principal"]), None)
                ok = final["status"] == "finalized" and got == set(want) and principal == want[0]
                results.append(
                    {
                        "sample": prefix,
                        "strategy": args.strategy,
                        "clicks": n.clicks,
                        "keystrokes": n.keys,
                        "coded_right": ok,
                        "final_codes": sorted(got),
                        "principal": principal,
                        "status": final["status"],
                    }
                )
                print(json.dumps(results[-1]), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
