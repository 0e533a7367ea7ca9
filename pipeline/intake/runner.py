"""One dropped dictation from inbox to archive (or quarantine), failure-safe.

:func:`process_drop` is the whole life of one file on one worker: hash, register, claim
(lease), sidecar metadata, then the stages (load, transcribe, extract, code, store) through
:class:`pipeline.stages.StageRunner` with the lease's hooks, then move. Prefect tasks in
``flows/`` call it; it is plain code and runs the same without Prefect.

Outcomes:

* ``coded``: stored, media (and sidecar) moved to ``archive/YYYY-MM-DD/``;
* ``duplicate``: this content was already coded; the file is archived, nothing re-done;
* ``quarantined``: bad input (corrupt media, bad sidecar, link, tries used up); moved to
  ``quarantine/`` with a ``.error.txt`` that says why;
* ``backoff``: failed before, its next try is not due yet; the file waits in the inbox;
* ``not_ready``: the file changed while it was read (still being written); it waits.

A transient failure (database down past its retries, disk error, anything unexpected)
raises :class:`TransientFailure` after recording the try, so the caller (Prefect) retries;
the file stays in the inbox, which is the durable queue. :class:`TryLater` means another
worker holds the dictation right now.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.errors import MediaError
from pipeline.intake import inbox as box
from pipeline.intake.sidecar import Sidecar, SidecarError, read_sidecar
from pipeline.settings import Settings
from pipeline.stages import Registration, StageHooks, StageRunner
from pipeline.store import processing, repository
from pipeline.store.db import session_scope
from pipeline.store.lease import LeaseGuard, LeaseLost
from pipeline.store.lease import renew as renew_lease
from pipeline.store.models import AuditEvent, Dictation, DictationStatus
from pipeline.transcribe.vocabulary import DictationContext

log = logging.getLogger(__name__)

STAGES = ("hash", "register", "load", "transcribe", "extract", "code", "store", "move")


class TryLater(RuntimeError):
    """Another worker holds this dictation (a lease that has not expired); try again later."""


class TransientFailure(RuntimeError):
    """This try failed for a reason that is not the dictation's fault; it was recorded and can be retried."""

    def __init__(self, message: str, dictation_id: int | None = None, attempts: int = 0):
        super().__init__(message)
        self.dictation_id = dictation_id
        self.attempts = attempts


@dataclass
class Outcome:
    outcome: str
    file: str  # display name (relative to the inbox where it was dropped)
    dictation_id: int | None = None
    kind: str | None = None
    reason: str | None = None
    duration: float | None = None
    codes: int = 0
    attempts: int = 0
    setting: str | None = None
    stage_seconds: dict = field(default_factory=dict)
    moved_to: str | None = None
    transcribe_window: list | None = None  # [start, end] epoch seconds: when this worker transcribed
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def to_dict(self) -> dict:
        return asdict(self)


def relative_name(path: Path, root: Path | None) -> str:
    """The file's name for reports: relative to the inbox it was dropped in, printable."""
    if root is not None:
        with contextlib.suppress(ValueError):
            return box.display_name(str(path.relative_to(root)))
    return box.display_name(path.name)


def describe_error(e: BaseException) -> str:
    """One line about an unexpected error, without SQL parameters (they can hold patient data)."""
    from sqlalchemy.exc import StatementError

    text = str(e.orig) if isinstance(e, StatementError) and e.orig is not None else str(e)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(e).__name__}: {first}"[:300] if first else type(e).__name__


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - t0, 4)


class _Heartbeat:
    """Renews the lease in the background while a long stage runs."""

    def __init__(self, dictation_id: int, owner: str, settings: Settings):
        self.dictation_id, self.owner, self.settings = dictation_id, owner, settings
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{dictation_id}", daemon=True)

    def _run(self) -> None:
        interval = max(1.0, self.settings.lease_seconds / 3)
        while not self._stop.wait(interval):
            try:
                with session_scope(settings=self.settings) as s:
                    if not renew_lease(s, self.dictation_id, self.owner, self.settings.lease_seconds):
                        self.lost = True
                        return
            except Exception as e:  # noqa: BLE001  (database away for a moment: try at the next beat)
                log.warning("dictation %s: lease renewal failed (%s)", self.dictation_id, type(e).__name__)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def _db(settings: Settings, fn, what: str):
    """One transaction, retried while the database is briefly unavailable."""

    def run():
        with session_scope(settings=settings) as s:
            return fn(s)

    return processing.with_db_retry(run, settings.db_retry_attempts, settings.db_retry_wait_s, what)


def _quarantine(
    drop: box.Drop,
    settings: Settings,
    inbox_root: Path | None,
    kind: str,
    reason: str,
    *,
    details: list[str] | None = None,
    content_hash: str | None = None,
    dictation_id: int | None = None,
    attempts: int = 0,
    move: bool = True,
) -> str | None:
    if not move:
        return None
    report = box.error_report(
        kind=kind,
        reason=reason,
        original=drop.media,
        inbox=inbox_root,
        sidecar=drop.sidecar,
        content_hash=content_hash,
        dictation_id=dictation_id,
        attempts=attempts,
        details=details,
    )
    moved = box.quarantine_drop(drop, settings.quarantine_path, report)
    log.warning("dictation %s quarantined (%s)", dictation_id if dictation_id is not None else "-", kind)
    log.debug("quarantined %s -> %s", drop.media, moved.get("media"))
    return str(moved.get("media") or moved["note"])


def _refile_if_lost(s, dictation_id: int, archived: Path) -> None:
    """A duplicate drop was archived: it becomes the record's stored file if that was lost."""
    d = s.get(Dictation, dictation_id)
    current = Path(d.source_path)
    if not (current.is_file() and not current.is_symlink() and current.is_relative_to(archived.parent.parent.resolve())):
        repository.set_stored_media(s, dictation_id, archived)


def _archive(drop: box.Drop, settings: Settings, move: bool) -> str | None:
    if not move:
        return None
    moved = box.archive_drop(drop, settings.archive_path, box.local_day(settings))
    log.debug("archived %s -> %s", drop.media, moved["media"])
    return str(moved["media"])


def process_drop(drop: box.Drop | str | Path, settings: Settings, **options) -> Outcome:
    """Process one dropped dictation; see the module doc for the outcomes.

    Options: ``inbox_root`` (for names in reports), ``move`` (archive/quarantine the files;
    False for media outside the drop folder), ``respect_backoff``, ``reprocess``,
    ``transcribe_slot`` (a context-manager factory around transcription: a concurrency
    limit), ``backend``.
    """
    try:
        return _process_drop(drop, settings, **options)
    except (TransientFailure, TryLater):
        raise
    except FileNotFoundError:
        media = drop.media if isinstance(drop, box.Drop) else Path(drop)
        if media.exists() or media.is_symlink():
            raise
        # another run archived or quarantined it a moment ago (overlapping nightly and drop-folder runs)
        return Outcome(
            "missing", relative_name(media, options.get("inbox_root")), reason="the file is gone (moved by another run)"
        )
    except Exception as e:
        if processing.is_transient_db_error(e):  # the database stayed away past its retries
            raise TransientFailure(describe_error(e)) from None
        raise


@dataclass(frozen=True)
class DropJob:
    """One dropped dictation and how to process it, as :func:`process_drop` found it."""

    drop: box.Drop
    name: str  # display name (relative to the inbox)
    inbox_root: Path | None
    move: bool
    content_hash: str
    sidecar: Sidecar | None
    sidecar_error: SidecarError | None
    transcribe_slot: Callable[[], AbstractContextManager] | None
    backend: str | None


def _process_drop(
    drop: box.Drop | str | Path,
    settings: Settings,
    *,
    inbox_root: Path | None = None,
    move: bool = True,
    respect_backoff: bool = True,
    reprocess: bool = False,
    transcribe_slot: Callable[[], AbstractContextManager] | None = None,
    backend: str | None = None,
) -> Outcome:
    if not isinstance(drop, box.Drop):
        drop = box.Drop(Path(drop))
    timer = _Timer()
    name = relative_name(drop.media, inbox_root)
    out = Outcome("quarantined", name)

    if drop.problem and drop.problem_kind in ("link", "not_media") or not box.is_regular_file(drop.media):
        if not (drop.media.exists() or drop.media.is_symlink()):
            return Outcome("missing", name, reason="the file is gone (moved by someone else)")
        out.kind = drop.problem_kind or "not_media"
        out.reason = drop.problem or "not a regular file"
        out.moved_to = _quarantine(drop, settings, inbox_root, out.kind, out.reason, move=move)
        return out

    with timer("hash"):
        before = box.signature(drop.media)
        content_hash = repository.sha256_file(drop.media)
        if box.signature(drop.media) != before:
            return Outcome("not_ready", name, reason="the file changed while it was read (still being written)")

    sidecar: Sidecar | None = None
    sidecar_error: SidecarError | None = None
    if drop.problem:
        sidecar_error = SidecarError(drop.sidecar or drop.media, [drop.problem])
    elif drop.sidecar is not None:
        try:
            sidecar = read_sidecar(drop.sidecar)
        except SidecarError as e:
            sidecar_error = e

    path = drop.media.resolve() if not drop.media.is_symlink() else drop.media.absolute()
    with timer("register"):

        def _register(s):
            d, created = repository.register_dictation(s, path, content_hash)
            refusal = repository.reprocess_refusal(d) if reprocess and d.status in repository.DONE else None
            return d.id, d.status, created, refusal

        dictation_id, status, _created, refusal = _db(settings, _register, "register")
    out.dictation_id = dictation_id

    if status in repository.DONE and (not reprocess or refusal is not None):

        def _dup(s):
            s.add(
                AuditEvent(
                    dictation_id=dictation_id,
                    actor="pipeline",
                    action="reprocess_refused" if refusal else "duplicate_drop",
                    after={"file": name, **({"reason": refusal} if refusal else {})},
                )
            )
            d = s.get(Dictation, dictation_id)
            return d.duration, len(d.proposals)

        out.duration, out.codes = _db(settings, _dup, "duplicate")
        with timer("move"):
            out.moved_to = _archive(drop, settings, move)
            if out.moved_to:
                _db(settings, lambda s: _refile_if_lost(s, dictation_id, Path(out.moved_to)), "file media")
        out.outcome, out.stage_seconds, out.reason = "duplicate", timer.seconds, refusal
        log.info(
            "dictation %s: duplicate drop, already %s; archived%s",
            dictation_id,
            status,
            " (not processed again: a coder's work)" if refusal else "",
        )
        return out

    owner = processing.new_owner()
    c = _db(
        settings,
        lambda s: processing.claim(
            s,
            dictation_id,
            owner,
            settings.lease_seconds,
            settings.max_attempts,
            respect_backoff=respect_backoff,
            reprocess=reprocess,
        ),
        "claim",
    )
    out.attempts = c.attempts
    if c.outcome == "done":
        return _process_drop(drop, settings, inbox_root=inbox_root, move=move, transcribe_slot=transcribe_slot, backend=backend)
    if c.outcome == "busy":
        until = f" (lease until {c.until:%H:%M:%S} UTC)" if c.until else ""
        raise TryLater(f"dictation {dictation_id} is being processed by another worker{until}")
    if c.outcome == "backoff":
        out.outcome, out.reason = "backoff", f"failed before; next try after {c.until:%Y-%m-%d %H:%M} UTC"
        return out
    if c.outcome == "exhausted":

        def _last(s):
            d = s.get(Dictation, dictation_id)
            return d.error, d.status

        last_error, last_status = _db(settings, _last, "give up")
        stage = (
            f" (the worker stopped during '{last_status}': crash or out of memory?)"
            if last_status in processing.IN_PROGRESS
            else ""
        )
        reason = f"gave up after {c.attempts} tries{stage}" + (f"; last error: {last_error}" if last_error else "")
        if _db(settings, lambda s: processing.give_up(s, dictation_id, reason), "give up"):
            out.kind, out.reason = "gave_up", reason
            out.moved_to = _quarantine(
                drop,
                settings,
                inbox_root,
                "gave_up",
                reason,
                content_hash=content_hash,
                dictation_id=dictation_id,
                attempts=c.attempts,
                move=move,
            )
            return out
        raise TryLater(f"dictation {dictation_id} is held by another worker")

    # -- we hold the lease ---------------------------------------------------------------
    job = DropJob(drop, name, inbox_root, move, content_hash, sidecar, sidecar_error, transcribe_slot, backend)
    try:
        return _with_lease(job, settings, c, out, timer)
    finally:
        processing.finished(owner)


def _lease_hooks(settings: Settings, claim: processing.Claim, timer: _Timer, slot) -> StageHooks:
    """The drop folder's hooks on the stage runner: the lease (stage records, heartbeat, store
    guard), stage timings, the transcription slot, database steps retried."""
    dictation_id, owner = claim.dictation_id, claim.owner
    assert owner is not None  # claimed: the claim names its holder

    def enter_stage(status: str) -> None:
        _db(settings, lambda s: processing.set_stage(s, dictation_id, owner, status, settings.lease_seconds), status)

    return StageHooks(
        enter_stage=enter_stage,
        timed=timer,
        transcribe_slot=slot,
        heartbeat=lambda: _Heartbeat(dictation_id, owner, settings),
        lease=lambda: LeaseGuard(owner, dict(timer.seconds)),
        transaction=lambda fn, what: _db(settings, fn, what),
    )


def _with_lease(job: DropJob, settings: Settings, c: processing.Claim, out: Outcome, timer: _Timer) -> Outcome:
    dictation_id, drop, owner = c.dictation_id, job.drop, c.owner
    assert owner is not None  # claimed: the claim names its holder

    def fail(kind: str, reason: str, retry_in: float | None) -> None:
        _db(
            settings,
            lambda s: processing.record_failure(
                s, dictation_id, owner, kind, reason, retry_in_s=retry_in, stage_seconds=timer.seconds
            ),
            "record failure",
        )

    def quarantine(kind: str, reason: str, details: list[str] | None = None) -> str | None:
        return _quarantine(
            drop,
            settings,
            job.inbox_root,
            kind,
            reason,
            details=details,
            content_hash=job.content_hash,
            dictation_id=dictation_id,
            attempts=c.attempts,
            move=job.move,
        )

    if job.sidecar_error is not None:
        fail("sidecar", job.sidecar_error.reason, None)
        out.kind, out.reason = "sidecar", job.sidecar_error.reason
        out.moved_to = quarantine("sidecar", job.sidecar_error.reason, job.sidecar_error.problems)
        return out

    origin = {
        "dropped_as": job.name,
        "inbox": str(job.inbox_root) if job.inbox_root else None,
        "dropped_on": box.local_day(settings),
    }
    stages = StageRunner(settings)
    hooks = _lease_hooks(settings, c, timer, job.transcribe_slot)
    try:
        setting = out.setting = stages.attach_metadata(dictation_id, job.sidecar, origin, hooks)
        context = DictationContext.from_metadata(job.sidecar.model_dump() if job.sidecar is not None else None)
        done = stages.run(dictation_id, drop.media, setting=setting, context=context, backend=job.backend, hooks=hooks)
        out.transcribe_window = list(done.transcribe_window)
    except MediaError as e:
        fail(e.kind, e.reason, None)
        out.kind, out.reason = e.kind, e.reason
        out.moved_to = quarantine(e.kind, e.reason)
        out.stage_seconds = timer.seconds
        return out
    except LeaseLost as e:
        out.outcome, out.reason, out.stage_seconds = "superseded", str(e), timer.seconds
        return out
    except Exception as e:  # noqa: BLE001  transient: record the try, let the caller retry
        reason = describe_error(e)
        if c.attempts >= settings.max_attempts:
            give_reason = f"gave up after {c.attempts} tries; last error: {reason}"
            try:
                fail("gave_up", give_reason, None)
            except Exception:  # noqa: BLE001  database still away: the file stays, a later run decides
                raise TransientFailure(reason, dictation_id, c.attempts) from e
            out.kind, out.reason = "gave_up", give_reason
            out.moved_to = quarantine("gave_up", give_reason)
            out.stage_seconds = timer.seconds
            return out
        with contextlib.suppress(Exception):
            fail("transient", reason, processing.backoff_delay(c.attempts, settings.retry_backoff_s))
        log.warning("dictation %s: try %d failed (%s); will retry", dictation_id, c.attempts, type(e).__name__)
        raise TransientFailure(reason, dictation_id, c.attempts) from e

    out.outcome, out.duration, out.codes = "coded", done.duration, len(done.coding.proposals)
    try:
        with timer("move"):
            out.moved_to = _archive(drop, settings, job.move)
            if out.moved_to:
                _db(settings, lambda s: repository.set_stored_media(s, dictation_id, Path(out.moved_to)), "file media")
            else:  # media outside the drop folder (a retried `mrt process` run): a copy is filed
                stages.file_media(
                    Registration(dictation_id, False, DictationStatus.CODED, str(drop.media), job.content_hash), drop.media
                )
    except OSError as e:  # coded and safe in the database; the next scan archives it as a duplicate
        log.warning("dictation %s coded but not archived yet (%s)", dictation_id, type(e).__name__)
    out.stage_seconds = timer.seconds
    log.info(
        "dictation %s coded: %.0f s of audio, %d codes, %.1f s",
        dictation_id,
        done.duration,
        out.codes,
        sum(timer.seconds.values()),
    )
    return out


# -- the inbox as a whole ---------------------------------------------------------------


@dataclass
class Plan:
    """What a scan of the drop folder found, sorted by what to do with it."""

    ready: list[box.Drop] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)  # still being written
    deferred: list[Path] = field(default_factory=list)  # failed before, next try not due yet
    strays: list[tuple[Path, str, str]] = field(default_factory=list)  # (file, kind, reason) to quarantine


def _exclude(settings: Settings) -> tuple[Path, ...]:
    return (settings.archive_path, settings.quarantine_path, settings.summary_path, settings.data_dir)


def plan_inbox(settings: Settings, inbox: Path | None = None, tracker: box.StabilityTracker | None = None) -> Plan:
    """Scan the drop folder: which dictations are complete and due, which files are strays."""
    root = Path(inbox or settings.inbox_path)
    found = box.scan(root, exclude=tuple(p for p in _exclude(settings) if p.resolve() != root.resolve()))
    plan = Plan()

    def settled(p: Path, seconds: float) -> bool:
        if tracker is not None:
            tracker.stable_seconds = seconds
            ok = tracker.ready(p)
            tracker.stable_seconds = settings.stable_seconds
            return ok
        return box.is_settled(p, seconds)

    candidates = []
    for d in found.drops:
        if all(settled(f, settings.stable_seconds) for f in d.files):
            candidates.append(d)
        else:
            plan.waiting.append(d.media)
    try:
        deferred = _in_backoff(settings, [d.media for d in candidates])
    except Exception as e:  # noqa: BLE001
        if not processing.is_transient_db_error(e):
            raise
        log.warning("drop folder: database unavailable, backoff not checked here (each claim still checks it)")
        deferred = set()
    for d in candidates:
        (plan.deferred.append(d.media) if d.media in deferred else plan.ready.append(d))
    media_names = ", ".join(sorted(e.lstrip(".") for e in box.MEDIA_EXTENSIONS))
    for f in found.orphan_sidecars:
        if settled(f, settings.orphan_sidecar_minutes * 60):
            plan.strays.append(
                (
                    f,
                    "orphan_sidecar",
                    f"no dictation file for this sidecar arrived within "
                    f"{settings.orphan_sidecar_minutes:g} minutes (expected the media next to it, same name)",
                )
            )
        else:
            plan.waiting.append(f)
    for f in found.unsupported:
        if settled(f, settings.stable_seconds):
            suffix = f.suffix.lstrip(".") or "(none)"
            plan.strays.append(
                (
                    f,
                    "unsupported",
                    f"not a dictation: file type '{box.display_name(suffix)}' "
                    f"is not supported (supported: {media_names}; sidecars: NAME.json)",
                )
            )
        else:
            plan.waiting.append(f)
    if tracker is not None:
        tracker.prune({f for d in found.drops for f in d.files} | set(found.orphan_sidecars) | set(found.unsupported))
    return plan


def _in_backoff(settings: Settings, paths: list[Path]) -> set[Path]:
    """Media in the inbox whose earlier try failed and whose next try is not due (no hashing)."""
    if not paths:
        return set()
    from sqlalchemy import select

    from pipeline.store.models import utcnow

    by_str = {repository.path_text(p.resolve()): p for p in paths}
    out: set[Path] = set()

    def q(s):
        keys = list(by_str)
        rows = []
        for i in range(0, len(keys), 500):
            rows += s.execute(
                select(Dictation.source_path, Dictation.size_bytes, Dictation.next_attempt_at).where(
                    Dictation.source_path.in_(keys[i : i + 500]),
                    Dictation.status == DictationStatus.FAILED,
                    Dictation.next_attempt_at.is_not(None),
                )
            ).all()
        return rows

    now = utcnow()
    for src, size, nxt in _db(settings, q, "backoff check"):
        p = by_str.get(src)
        with contextlib.suppress(OSError):
            if p is not None and processing.aware(nxt) > now and p.stat().st_size == size:
                out.add(p)
    return out


def quarantine_stray(path: Path, kind: str, reason: str, settings: Settings, inbox_root: Path | None = None) -> Outcome:
    """Move a file that is not a usable dictation (orphan sidecar, unsupported type) to quarantine."""
    name = relative_name(path, inbox_root)
    if not (path.exists() or path.is_symlink()):
        return Outcome("missing", name, reason="the file is gone (moved by someone else)")
    report = box.error_report(kind=kind, reason=reason, original=path, inbox=inbox_root, sidecar=None)
    moved = box.quarantine_files([path], settings.quarantine_path, report)
    log.warning("a stray file was quarantined (%s)", kind)
    return Outcome("quarantined", name, kind=kind, reason=reason, moved_to=str(moved.get("media") or moved["note"]))


def retry_elsewhere(settings: Settings, inbox: Path | None = None) -> tuple[list[Path], list[Outcome]]:
    """Dictations due for another try whose media lies outside the drop folder (``mrt process``
    runs, crashed workers). Returns their paths; those whose media is gone are given up."""
    root = Path(inbox or settings.inbox_path).resolve()

    def q(s):
        rows = processing.retry_candidates(s, settings.max_attempts) + processing.stuck_on_this_host(s)
        spent = processing.retry_candidates(s, None)
        return (
            sorted({(d.id, d.source_path, d.attempts) for d in rows}),
            sorted({(d.id, d.source_path, d.attempts, d.error) for d in spent if d.attempts >= settings.max_attempts}),
        )

    paths: list[Path] = []
    gone: list[Outcome] = []
    due, spent = _db(settings, q, "retry candidates")

    def give_up(did: int, p: Path, reason: str) -> None:
        if _db(settings, lambda s: processing.give_up(s, did, reason), "give up"):
            gone.append(Outcome("quarantined", box.display_name(p.name), dictation_id=did, kind="gave_up", reason=reason))

    for did, src, attempts, error in spent:
        p = Path(src)
        if not p.is_relative_to(root) or not p.exists():  # inbox files are given up (and quarantined) by their task
            give_up(did, p, f"gave up after {attempts} tries" + (f"; last error: {error}" if error else ""))
    for did, src, _attempts in due:
        p = Path(src)
        if not p.exists():
            give_up(did, p, "the media file is no longer where it was registered; drop it again to retry")
        elif not p.is_relative_to(root):
            paths.append(p)
    return paths, gone
