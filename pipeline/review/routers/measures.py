"""The supervisors' review measures: how often coders kept each model's proposed codes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from pipeline.review import measures
from pipeline.review.dependencies import db_session, require_supervisor
from pipeline.review.responses import page

router = APIRouter()


@router.get("/measures", response_class=HTMLResponse)
def measures_page(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    return page(request, "measures.html", user, rows=measures.review_measures(s))


@router.get("/api/measures")
def measures_api(user=Depends(require_supervisor), s: Session = Depends(db_session)) -> dict:
    return {"measures": [m.to_dict() for m in measures.review_measures(s)]}
