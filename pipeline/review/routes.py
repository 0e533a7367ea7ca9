"""The review queue's routes. Pages post ordinary forms (redirect back with a message);
the same routes answer JSON when asked with ``Accept: application/json``."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Callable

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CM, PCS
from pipeline.review import auth, decisions, measures, workflow, worklist
from pipeline.review.audit import record, timeline
from pipeline.review.guards import RecordId, RowId, editable_record, load_record
from pipeline.review.media import MediaUnavailable, stored_media
from pipeline.review.tabular import tabular
from pipeline.review.transcript_view import build_view, span_evidence
from pipeline.store.models import Dictation, DictationStatus, Encounter, User

ACTION_ERRORS = (decisions.DecisionError, workflow.WorkflowError, worklist.ClaimError, auth.AccountError, PermissionError)
CODE_ACTIONS = ("accept", "reject", "edit", "undo", "principal", "up", "down")
#: audit actions that are someone looking, not doing: kept in the audit trail, left out of a record's history
PAGE_VIEWS = ("view",)


INSECURE_TRANSPORT = ("This server is set to send its cookies over HTTPS only (MRT_SECURE_COOKIES=true), but this page was "
                      "opened over plain HTTP, so the browser cannot log in. Open it through the HTTPS address, or unset "
                      "MRT_SECURE_COOKIES when serving plain HTTP.")


def _over_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a proxy that says so)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def register_routes(app: FastAPI) -> None:  # noqa: C901 - one place that lists every route
    from starlette.concurrency import run_in_threadpool

    from pipeline.review.app import LOGIN_CSRF_COOKIE, SESSION_COOKIE, back, role_dependency, safe_next, wants_json

    settings = app.state.settings
    templates = app.state.templates
    db: Callable = app.state.db
    current_user: Callable = app.state.current_user

    coder, supervisor, admin = (role_dependency(current_user, r) for r in ("coder", "supervisor", "admin"))
    editable = editable_record(coder, db, settings)  # every change to a record goes through this one check

    def page(request: Request, name: str, user, status_code: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("msg", request.query_params.get("msg"))
        ctx.setdefault("error", request.query_params.get("error"))
        return templates.TemplateResponse(request, name, {"user": user, **ctx}, status_code=status_code)

    load = load_record

    def done(request: Request, s: Session, rid: int | None, msg: str, payload: dict | None = None, to: str | None = None) -> Response:
        s.commit()
        if wants_json(request):
            return JSONResponse({"ok": True, "message": msg, **(payload or {})})
        return back(to or f"/records/{rid}", msg=msg)

    def refused(request: Request, s: Session, rid: int | None, e: Exception, to: str | None = None) -> Response:
        s.rollback()
        status = 404 if isinstance(e, LookupError) else 403 if isinstance(e, PermissionError) else 409
        message = str(e).strip("'\"")
        if wants_json(request):
            extra = {"choices": [{"code": c, "description": t} for c, t in e.choices]} if isinstance(e, decisions.HeaderCode) else {}
            return JSONResponse({"ok": False, "error": message, **extra}, status_code=status)
        return back(to or (f"/records/{rid}" if rid else "/worklist"), error=message)

    # ---------------------------------------------------------------- login
    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(32)
        problem = INSECURE_TRANSPORT if settings.secure_cookies and not _over_https(request) else None
        resp = page(request, "login.html", None, csrf=token, next=safe_next(request.query_params.get("next")),
                    **({"error": problem} if problem else {}))
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies)
        return resp

    @app.post("/login")
    async def login(request: Request, s: Session = Depends(db)) -> Response:
        form = await request.form()
        nxt = safe_next(form.get("next"))
        if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), form.get("csrf_token")):
            if settings.secure_cookies and LOGIN_CSRF_COOKIE not in request.cookies and not _over_https(request):
                return back("/login", error=INSECURE_TRANSPORT, next=nxt)
            return back("/login", error="The login form expired; please try again.", next=nxt)
        try:  # password hashing takes a while: off the event loop, so other requests are not held up
            token, user = await run_in_threadpool(auth.login, s, str(form.get("username", "")), str(form.get("password", "")), settings)
        except auth.AuthError as e:
            s.commit()  # the failed attempt (and any lockout) is recorded
            if wants_json(request):
                return JSONResponse({"ok": False, "error": str(e)}, status_code=401)
            return back("/login", error=str(e), next=nxt)
        s.commit()
        resp = JSONResponse({"ok": True, "csrf_token": user.csrf_token}) if wants_json(request) else RedirectResponse(nxt, status_code=303)
        resp.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies,
            max_age=int(settings.session_hours * 3600),
        )
        resp.delete_cookie(LOGIN_CSRF_COOKIE)
        return resp

    @app.post("/logout")
    async def logout(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        auth.logout(s, request.cookies.get(SESSION_COOKIE))
        s.commit()
        resp = back("/login", msg="Logged out.")
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    # ---------------------------------------------------------------- worklist
    def parse_filter(request: Request) -> worklist.WorklistFilter:
        q = request.query_params

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(q[name]) if q.get(name) else None
            except ValueError:
                raise HTTPException(400, f"{name}: use YYYY-MM-DD")

        edits = q.get("edits")
        return worklist.WorklistFilter(
            status=q.get("status") or None, physician=q.get("physician") or None, document_type=q.get("document_type") or None,
            priority=q.get("priority") or None, received_from=day("from"), received_to=day("to"),
            setting=q.get("setting") or None, service_from=day("service_from"), service_to=day("service_to"),
            edits_pending=True if edits == "yes" else False if edits == "no" else None, mine=q.get("mine") == "1",
            sort=q.get("sort") or "priority",
        )

    @app.get("/")
    def home(user=Depends(coder)) -> Response:
        return RedirectResponse("/worklist", status_code=303)

    @app.get("/worklist", response_class=HTMLResponse)
    def worklist_page(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        f = parse_filter(request)
        rows = worklist.worklist(s, user, f)
        users = list(s.scalars(select(User.username).where(User.active.is_(True)).order_by(User.username))) if user.has_role("supervisor") else []
        return page(request, "worklist.html", user, rows=rows, f=f, facets=worklist.facets(s), sorts=list(worklist.SORTS), users=users)

    @app.get("/api/worklist")
    def worklist_api(request: Request, user=Depends(coder), s: Session = Depends(db)) -> dict:
        rows = worklist.worklist(s, user, parse_filter(request))
        return {"records": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.__dict__.items()} for r in rows]}

    @app.post("/worklist/next")
    async def next_record(request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        rid = worklist.claim_next(s, user, settings)
        if rid is None:
            s.commit()
            if wants_json(request):
                return JSONResponse({"ok": False, "error": "no record is waiting for review"}, status_code=404)
            return back("/worklist", msg="No record is waiting for review.")
        return done(request, s, rid, f"Record {rid} is yours for {settings.claim_minutes:.0f} minutes.", {"id": rid})

    # ---------------------------------------------------------------- record screen
    def record_context(s: Session, d: Dictation, user: auth.CurrentUser) -> dict:
        findings = workflow.validate_record(s, d)
        t = d.transcript
        ents = list(d.entities)
        holder = worklist.holder_name(s, d)
        cs_axes = {}
        from pipeline.code.lookup.codeset import get_codeset

        for p in d.proposals:
            if p.system == PCS:
                cs_axes[p.id] = get_codeset().pcs_axes(p.code)
        return {
            "d": d, "t": t, "segments": build_view(t.text, t.segments or [], ents), "entities": ents,
            "codes": sorted(d.proposals, key=lambda p: (p.system != CM, p.rank)), "findings": findings,
            "errors": [f for f in findings if f.severity == "error"], "holder": holder,
            "code_findings": {c: [f for f in findings if c in f.codes] for c in {p.code for p in d.proposals}},
            "mine": holder == user.username, "queries": workflow.queries(s, d.id),
            "history": [e for e in timeline(s, d.id) if e.action not in PAGE_VIEWS],  # page views stay in the audit trail only
            "reject_reasons": decisions.REJECT_REASONS,
            "pending_reasons": workflow.PENDING_REASONS, "overridable": workflow.OVERRIDABLE, "templates_": workflow.QUERY_TEMPLATES, "axes": cs_axes,
            "is_video": bool(d.has_video), "users": list(s.scalars(select(User.username).where(User.active.is_(True)))),
            "tabular": {p.id: tabular(p.code) for p in d.proposals if p.system == CM},  # Tabular notes inline on each line
        }

    def record_json(ctx: dict) -> dict:
        d = ctx["d"]
        return {
            "id": d.id, "status": d.status, "claimed_by": ctx["holder"], "pending_reason": d.pending_reason, "note": d.review_note,
            "transcript": ctx["t"].text,
            "codes": [
                {
                    "id": p.id, "system": p.system, "code": p.code, "description": p.description, "score": p.score,
                    "status": p.status, "source": p.source, "proposed_code": p.proposed_code, "principal": p.principal,
                    "rank": p.rank, "evidence": p.evidence, "rationale": p.rationale, "reject_reason": p.reject_reason,
                }
                for p in ctx["codes"]
            ],
            "findings": [f.__dict__ for f in ctx["findings"]],
            "queries": [{"id": q.id, "status": q.status, "question": q.question, "answer": q.answer} for q in ctx["queries"]],
            "history": [{"actor": e.actor, "action": e.action, "at": e.at.isoformat(), "before": e.before, "after": e.after} for e in ctx["history"]],
        }

    @app.get("/records/{rid}", response_class=HTMLResponse)
    def record_page(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        d = load(s, rid)
        record(s, user.username, "view", dictation_id=rid)
        ctx = record_context(s, d, user)
        s.commit()
        return page(request, "record.html", user, **ctx)

    @app.get("/records/{rid}/work", response_class=HTMLResponse)
    def record_work_pane(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        """The record screen's work pane (codes, validation, tabs) alone: what the page's script swaps in
        after an action posted in place. Not a page view (the page itself was already viewed)."""
        d = load(s, rid)
        ctx = record_context(s, d, user)
        s.commit()
        return page(request, "record_panes.html", user, **ctx)

    @app.get("/api/records/{rid}")
    def record_api(rid: RecordId, user=Depends(coder), s: Session = Depends(db)) -> dict:
        d = load(s, rid)
        record(s, user.username, "view", dictation_id=rid)
        ctx = record_context(s, d, user)
        s.commit()
        return record_json(ctx)

    @app.get("/api/records/{rid}/validation")
    def validation_api(rid: RecordId, user=Depends(coder), s: Session = Depends(db)) -> dict:
        d = load(s, rid)
        findings = workflow.validate_record(s, d)
        s.commit()
        return {"findings": [f.__dict__ for f in findings], "can_finalize": not any(f.severity == "error" for f in findings)}

    @app.get("/records/{rid}/media")
    def media(rid: RecordId, user=Depends(coder), s: Session = Depends(db)) -> Response:
        try:
            m = stored_media(load(s, rid), settings)
        except MediaUnavailable as e:
            raise HTTPException(404, str(e))
        return FileResponse(m.path, media_type=m.media_type, stat_result=m.stat)

    @app.post("/records/{rid}/claim")
    async def claim(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        try:
            worklist.claim(s, user, rid, settings)
        except (worklist.ClaimError, LookupError) as e:
            return refused(request, s, rid, e)
        return done(request, s, rid, f"Record {rid} is yours for {settings.claim_minutes:.0f} minutes.")

    @app.post("/records/{rid}/release")
    async def release(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db)) -> Response:
        try:
            worklist.release(s, user, rid)
        except (worklist.ClaimError, LookupError) as e:
            return refused(request, s, rid, e)
        return done(request, s, rid, f"Record {rid} is back in the queue.", to="/worklist")

    @app.post("/records/{rid}/reassign")
    async def reassign(rid: RecordId, request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            worklist.reassign(s, user, rid, str(form.get("to", "")), settings)
        except (worklist.ClaimError, LookupError, PermissionError) as e:
            return refused(request, s, rid, e, to="/worklist")
        return done(request, s, rid, f"Record {rid} reassigned to {form.get('to')}.", to="/worklist")

    def change(request: Request, s: Session, d: Dictation, fn: Callable[[Dictation], str]) -> Response:
        """Run one change on a record the ``editable`` dependency let through, re-validate, commit;
        or refuse it and change nothing."""
        try:
            msg = fn(d)
            s.flush()
            findings = workflow.validate_record(s, d)
        except ACTION_ERRORS + (LookupError,) as e:
            return refused(request, s, d.id, e)
        return done(request, s, d.id, msg, {"findings": [f.__dict__ for f in findings]})

    @app.post("/records/{rid}/codes/add")
    async def add_code(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        system = str(form.get("system") or CM)

        def fn(d: Dictation) -> str:
            evidence = None
            if form.get("evidence_start") not in (None, "") or form.get("evidence_end") not in (None, ""):
                try:  # text to code: the highlighted words become the added code's evidence
                    evidence = span_evidence(d.transcript.text, d.transcript.segments or [],
                                             int(str(form.get("evidence_start"))), int(str(form.get("evidence_end"))))
                except ValueError as e:
                    raise decisions.DecisionError(f"evidence: {e}") from e
            p = decisions.add(s, d, user, system, str(form.get("code", "")), str(form.get("reason", "")), evidence=evidence)
            return f"Added {p.code}" + (f" with the words “{evidence['text']}” as its evidence." if evidence else ".")

        return change(request, s, d, fn)

    @app.post("/records/{rid}/codes/{pid}/{action}")
    async def code_action(rid: RecordId, pid: RowId, action: str, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        if action not in CODE_ACTIONS:
            raise HTTPException(404, "no such action")
        form = await request.form()

        def fn(d: Dictation) -> str:
            if action == "accept":
                p = decisions.accept(s, d, user, pid)
                return f"Accepted {p.code}."
            if action == "reject":
                reason, detail = str(form.get("reason", "")).strip(), str(form.get("detail", "")).strip()
                p = decisions.reject(s, d, user, pid, f"{reason}: {detail}" if reason and detail else reason or detail)
                return f"Rejected {p.code}."
            if action == "edit":
                p = decisions.edit(s, d, user, pid, str(form.get("code", "")), str(form.get("reason", "")))
                return f"Changed to {p.code}."
            if action == "undo":
                p = decisions.undo(s, d, user, pid)
                return f"{p.code} is back to proposed."
            if action == "principal":
                p = decisions.set_principal(s, d, user, pid)
                return f"{p.code} is the principal diagnosis."
            p = decisions.move(s, d, user, pid, action)
            return f"Moved {p.code} {action}."

        return change(request, s, d, fn)

    @app.post("/records/{rid}/pending")
    async def pending(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        resp = change(request, s, d, lambda d: (workflow.set_pending(s, d, user, str(form.get("reason", "")), str(form.get("note", ""))), "Record parked as pending.")[1])
        return resp

    @app.post("/records/{rid}/resume")
    async def resume(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        return change(request, s, d, lambda d: (workflow.resume(s, d, user), "Record taken off hold.")[1])

    @app.post("/records/{rid}/note")
    async def note(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        return change(request, s, d, lambda d: (workflow.set_note(s, d, user, str(form.get("note", ""))), "Note saved.")[1])

    @app.post("/records/{rid}/queries")
    async def create_query(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        form = await request.form()

        def fn(d: Dictation) -> str:
            q = workflow.create_query(s, d, user, str(form.get("template", "")), str(form.get("finding", "")), str(form.get("question", "")))
            return f"Physician query {q.id} created."

        return change(request, s, d, fn)

    @app.post("/records/{rid}/queries/{qid}/{action}")
    async def query_action(rid: RecordId, qid: RowId, action: str, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        if action not in ("answer", "close"):
            raise HTTPException(404, "no such action")
        form = await request.form()

        def fn(d: Dictation) -> str:
            if action == "answer":
                workflow.answer_query(s, d, user, qid, str(form.get("answer", "")))
                return f"Answer to query {qid} recorded."
            workflow.close_query(s, d, user, qid)
            return f"Query {qid} closed."

        return change(request, s, d, fn)

    @app.post("/records/{rid}/override")
    async def override(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        form = await request.form()
        codes = [c for c in str(form.get("codes", "")).split(",") if c]

        def fn(d: Dictation) -> str:
            workflow.override_edit(s, d, user, str(form.get("kind", "")), codes, str(form.get("reason", "")))
            return "Edit overridden; the reason is on the record."

        return change(request, s, d, fn)

    @app.post("/records/{rid}/finalize")
    async def finalize(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db),
                       d: Dictation = Depends(editable)) -> Response:
        try:
            workflow.finalize(s, d, user)
        except ACTION_ERRORS + (LookupError,) as e:
            return refused(request, s, rid, e)
        return done(request, s, rid, f"Record {rid} finalized.", {"status": DictationStatus.FINALIZED})

    @app.post("/records/{rid}/accept-remaining")
    async def accept_remaining(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db), d: Dictation = Depends(editable)) -> Response:
        def fn(d: Dictation) -> str:
            accepted = decisions.accept_remaining(s, d, user)
            return f"Accepted {len(accepted)} remaining code(s)" + (f": {', '.join(p.code for p in accepted)}." if accepted else ".")

        return change(request, s, d, fn)

    @app.post("/records/{rid}/finalize-next")
    async def finalize_next(rid: RecordId, request: Request, user=Depends(coder), s: Session = Depends(db),
                            d: Dictation = Depends(editable)) -> Response:
        """Finalize this record, then claim the next one awaiting review and go there (or to the worklist)."""
        try:
            workflow.finalize(s, d, user)
        except ACTION_ERRORS + (LookupError,) as e:
            return refused(request, s, rid, e)
        nxt = worklist.claim_next(s, user, settings)
        if nxt is None:
            return done(request, s, rid, f"Record {rid} finalized. No record is waiting for review.",
                        {"status": DictationStatus.FINALIZED, "next": None}, to="/worklist")
        return done(request, s, nxt, f"Record {rid} finalized. Record {nxt} is yours for {settings.claim_minutes:.0f} minutes.",
                    {"status": DictationStatus.FINALIZED, "next": nxt})

    @app.post("/records/{rid}/reopen")
    async def reopen(rid: RecordId, request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            workflow.reopen(s, load(s, rid), user, str(form.get("reason", "")))
        except ACTION_ERRORS + (LookupError,) as e:
            return refused(request, s, rid, e)
        return done(request, s, rid, f"Record {rid} reopened for review.", {"status": DictationStatus.CODED})

    # ---------------------------------------------------------------- code search
    @app.get("/api/codes/search")
    def code_search(request: Request, user=Depends(coder)) -> dict:
        from pipeline.code.search import search_codes

        q = (request.query_params.get("q") or "").strip()[:100]
        system = request.query_params.get("system")
        if system not in (CM, PCS):
            system = None
        hits = search_codes(q, system=system, limit=20) if len(q) >= 2 else []
        return {"results": [h.__dict__ for h in hits]}

    # ---------------------------------------------------------------- measures (supervisors)
    @app.get("/measures", response_class=HTMLResponse)
    def measures_page(request: Request, user=Depends(supervisor), s: Session = Depends(db)) -> Response:
        return page(request, "measures.html", user, rows=measures.review_measures(s))

    @app.get("/api/measures")
    def measures_api(user=Depends(supervisor), s: Session = Depends(db)) -> dict:
        return {"measures": [m.to_dict() for m in measures.review_measures(s)]}

    # ---------------------------------------------------------------- users (admins)
    @app.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request, user=Depends(admin), s: Session = Depends(db)) -> Response:
        return page(request, "users.html", user, users=list(s.scalars(select(User).order_by(User.username))), roles=auth.ROLES)

    @app.post("/admin/users")
    async def users_add(request: Request, user=Depends(admin), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            u = auth.add_user(s, str(form.get("username", "")), str(form.get("password", "")), str(form.get("role", "")),
                              str(form.get("full_name", "")) or None, actor=user.username)
        except auth.AccountError as e:
            return refused(request, s, None, e, to="/admin/users")
        return done(request, s, None, f"User {u.username} added.", to="/admin/users")

    @app.post("/admin/users/{username}/{action}")
    async def users_change(username: str, action: str, request: Request, user=Depends(admin), s: Session = Depends(db)) -> Response:
        form = await request.form()
        try:
            if action == "disable":
                if username == user.username:
                    raise auth.AccountError("you cannot disable your own account")
                auth.set_active(s, username, False, actor=user.username)
            elif action == "enable":
                auth.set_active(s, username, True, actor=user.username)
            elif action == "reset":
                auth.reset_password(s, username, str(form.get("password", "")), actor=user.username)
            elif action == "role":
                auth.set_role(s, username, str(form.get("role", "")), actor=user.username)
            else:
                raise HTTPException(404, "no such action")
        except auth.AccountError as e:
            return refused(request, s, None, e, to="/admin/users")
        return done(request, s, None, f"User {username}: {action} done.", to="/admin/users")
