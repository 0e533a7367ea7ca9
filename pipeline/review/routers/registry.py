"""Cancer registry case finding: the records with reportable neoplasm codes (CSV download)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from pipeline.records import registry
from pipeline.review.dependencies import db_session, require_coder
from pipeline.review.responses import download, page, wants_json

router = APIRouter()


@router.get("/registry", response_class=HTMLResponse)
def registry_page(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    cases = registry.find_cases(s, include_review=request.query_params.get("review") != "0")
    if request.query_params.get("format") == "csv":
        return download(registry.cases_csv(cases), "text/csv; charset=utf-8", "registry-cases.csv")
    if wants_json(request):
        return JSONResponse({"cases": [c.to_dict() for c in cases]})
    return page(request, "registry.html", user, cases=cases)
