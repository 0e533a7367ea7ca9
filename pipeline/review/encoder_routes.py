"""The encoder pages of the review app: the ICD-10-CM Alphabetic Index by main term and a code's
Tabular entry (notes inline, 7th-character picker), each with its JSON twin. Read-only: no record
changes here (those go through :mod:`pipeline.review.guards`)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.review.tabular import index_entries, tabular


def register_encoder_routes(app: FastAPI) -> None:
    from pipeline.review.app import role_dependency

    templates = app.state.templates
    coder = role_dependency(app.state.current_user, "coder")

    def entry_or_404(code: str):
        e = tabular(code[:12])
        if e is None:
            raise HTTPException(404, f"{code[:12]} is not an ICD-10-CM or ICD-10-PCS code")
        return e

    @app.get("/encoder", response_class=HTMLResponse)
    def encoder_page(request: Request, user=Depends(coder)) -> Response:
        term = (request.query_params.get("term") or "").strip()[:60]
        code = (request.query_params.get("code") or "").strip()[:12]
        entry = tabular(code) if code else None
        return templates.TemplateResponse(request, "encoder.html", {
            "user": user, "term": term, "lines": index_entries(term), "code": code, "entry": entry,
            "error": f"{code} is not an ICD-10-CM or ICD-10-PCS code" if code and entry is None else None,
        })

    @app.get("/api/encoder/index")
    def index_api(request: Request, user=Depends(coder)) -> dict:
        term = (request.query_params.get("term") or "").strip()[:60]
        return {"term": term, "entries": [line.__dict__ for line in index_entries(term)]}

    @app.get("/api/encoder/code/{code}")
    def code_api(code: str, user=Depends(coder)) -> dict:
        return entry_or_404(code).to_dict()
