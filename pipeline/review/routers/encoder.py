"""The encoder: the ICD-10-CM Alphabetic Index by main term (and the Neoplasm and Drugs tables,
the ICD-10-PCS Index and Tables) and a code's Tabular entry (notes inline, 7th-character picker),
each with its JSON twin. Read-only: no record changes here."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.review.dependencies import require_coder
from pipeline.review.tabular import BOOKS, index_entries, pcs_index_rows, pcs_table, table_rows, tabular

router = APIRouter()


def entry_or_404(code: str):
    e = tabular(code[:12])
    if e is None:
        raise HTTPException(404, f"{code[:12]} is not an ICD-10-CM or ICD-10-PCS code")
    return e


@router.get("/encoder", response_class=HTMLResponse)
def encoder_page(request: Request, user=Depends(require_coder)) -> Response:
    term = (request.query_params.get("term") or "").strip()[:60]
    book = request.query_params.get("book") or "index"
    if book not in BOOKS:
        book = "index"
    code = (request.query_params.get("code") or "").strip()[:12]
    entry = tabular(code) if code else None
    return request.app.state.templates.TemplateResponse(
        request,
        "encoder.html",
        {
            "user": user,
            "term": term,
            "book": book,
            "books": BOOKS,
            "code": code,
            "entry": entry,
            "lines": index_entries(term) if book == "index" else [],
            "table": table_rows(book, term) if book in ("neoplasm", "drugs") else [],
            "pcs_lines": pcs_index_rows(term) if book == "pcs_index" else [],
            "pcs_codes": pcs_table(term) if book == "pcs_table" else [],
            "error": f"{code} is not an ICD-10-CM or ICD-10-PCS code" if code and entry is None else None,
        },
    )


@router.get("/api/encoder/index")
def index_api(request: Request, user=Depends(require_coder)) -> dict:
    term = (request.query_params.get("term") or "").strip()[:60]
    book = request.query_params.get("book") or "index"
    if book not in BOOKS:
        raise HTTPException(400, f"book: one of {', '.join(BOOKS)}")
    if book == "index":
        entries = [line.__dict__ for line in index_entries(term)]
    elif book in ("neoplasm", "drugs"):
        entries = [{"path": r.path, "codes": dict(r.codes), "see": r.see, "see_also": r.see_also} for r in table_rows(book, term)]
    elif book == "pcs_index":
        entries = [{"path": e.path, "kind": e.kind, "target": e.target, "code": e.code} for e in pcs_index_rows(term)]
    else:
        entries = [{"code": c, "description": t} for c, t in pcs_table(term)]
    return {"book": book, "term": term, "entries": entries}


@router.get("/api/encoder/code/{code}")
def code_api(code: str, user=Depends(require_coder)) -> dict:
    return entry_or_404(code).to_dict()
