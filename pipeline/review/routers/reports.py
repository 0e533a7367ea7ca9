"""The supervisors' statistical report (codes, chapters, periods, physicians) with its chart
images and CSV/XLSX downloads, and the documentation deviations report."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from pipeline.records import completeness, reports
from pipeline.review.dependencies import db_session, require_coder, require_supervisor
from pipeline.review.responses import download, page, query_day, wants_json

router = APIRouter()


def parse_report(request: Request) -> dict:
    q = request.query_params
    try:
        top = max(1, min(int(q.get("top") or 10), 100))
    except ValueError:
        raise HTTPException(400, "top: a whole number")
    return dict(
        start=query_day(request, "from"),
        end=query_day(request, "to"),
        period=q.get("period") or "month",
        top=top,
        include_provisional=q.get("provisional") == "1",
    )


def build(s: Session, request: Request) -> reports.Report:
    try:
        return reports.build_report(s, **parse_report(request))
    except ValueError as e:
        raise HTTPException(400, str(e))


@router.get("/reports", response_class=HTMLResponse)
def report_page(request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    rep = build(s, request)
    if wants_json(request):
        return JSONResponse(rep.to_dict())
    qs = urlencode({k: v for k, v in request.query_params.items() if v})
    return page(
        request,
        "report.html",
        user,
        rep=rep,
        qs=qs,
        args=request.query_params,
        periods=reports.PERIODS,
        charts=["chapters", "codes", "periods", "physicians"],
    )


@router.get("/reports/chart/{kind}.png")
def report_chart(kind: str, request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    from pipeline.records.charts import CHARTS, chart_png

    if kind not in CHARTS:
        raise HTTPException(404, "no such chart")
    return Response(chart_png(build(s, request), kind), media_type="image/png")


@router.get("/reports/report.{ext}")
def report_download(ext: str, request: Request, user=Depends(require_supervisor), s: Session = Depends(db_session)) -> Response:
    from pipeline.records.report_files import report_csv, report_xlsx

    rep = build(s, request)
    if ext == "csv":
        return download(report_csv(rep), "text/csv; charset=utf-8", "report.csv")
    if ext == "xlsx":
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            data = report_xlsx(rep, Path(tmp) / "report.xlsx").read_bytes()
        return download(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report.xlsx")
    raise HTTPException(404, "report.csv or report.xlsx")


@router.get("/reports/deviations", response_class=HTMLResponse)
def deviations_page(request: Request, user=Depends(require_coder), s: Session = Depends(db_session)) -> Response:
    checks = completeness.check_records(s)
    s.rollback()
    groups = completeness.deviations_by_physician(checks)
    if wants_json(request):
        return JSONResponse({"records": [c.to_dict() for c in checks], "missing": completeness.element_counts(checks)})
    return page(
        request,
        "deviations.html",
        user,
        groups=groups,
        checked=len(checks),
        counts=completeness.element_counts(checks),
        elements=completeness.ELEMENTS,
    )
