"""The drop folder: what is in it, when a file is completely written, and where it goes.

Files are read only once they have stopped changing (size, modification and change time
steady for ``stable_seconds``), so a copy in progress is never picked up half-written.
Names are whatever a site's scanner or share produced: spaces, any Unicode, bytes that are
not UTF-8, backslashes, leading dashes. They are never interpreted as paths; destination
names are rebuilt from a sanitized copy and always land directly inside the archive or
quarantine folder. Nothing is deleted: media and sidecar are *moved* (rename, or copy +
fsync + remove across file systems), and an existing file is never overwritten.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.transcribe.audio import MEDIA_EXTENSIONS, is_hidden_name

if TYPE_CHECKING:
    from pipeline.settings import Settings

SIDECAR_SUFFIX = ".json"
ERROR_SUFFIX = ".error.txt"
# Names copy tools give files while they write them; such files are left alone until renamed.
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".filepart", ".download", ".!sync", "~")
NAME_MAX_BYTES = 255
# room kept for "(NN)" on collisions and ".error.txt" / ".json" next to the media
_RESERVED_BYTES = len(" (999)") + len(ERROR_SUFFIX) + len(SIDECAR_SUFFIX)


def display_name(name: str) -> str:
    """A file name as text that can be stored and printed (undecodable bytes become U+FFFD)."""
    raw = os.fsencode(name)
    text = raw.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def is_ignored(name: str) -> bool:
    """Hidden files and names of copies in progress: not ours to touch (yet)."""
    low = name.lower()
    return is_hidden_name(name) or low.endswith(TEMP_SUFFIXES) or low.startswith("~$")


def is_media_name(name: str) -> bool:
    return Path(name).suffix.lower() in MEDIA_EXTENSIONS


def safe_name(name: str, max_bytes: int = NAME_MAX_BYTES - _RESERVED_BYTES) -> str:
    """A harmless single path component that keeps the name recognizable.

    Control characters, path separators (``/`` and ``\\``), undecodable bytes and leading
    dots, dashes and spaces are replaced or dropped; Unicode is kept (NFC); the result fits
    the file-system limit with room for a collision counter and ``.error.txt``.
    """
    text = unicodedata.normalize("NFC", display_name(name))
    cleaned = "".join("_" if (c in "/\\\ufffd" or not c.isprintable() or c in ':*?"<>|') else c for c in text)
    stem, suffix = os.path.splitext(cleaned.rstrip())
    suffix = "".join(c for c in suffix[1:] if c.isascii() and c.isalnum())[:16]
    stem = stem.strip().lstrip(".-_ ").rstrip(". ")
    if not stem.strip("._ "):
        stem = "dictation"
    tail = f".{suffix}" if suffix else ""
    while len((stem + tail).encode("utf-8")) > max_bytes and stem:
        stem = stem[:-1]
    return (stem.rstrip() or "dictation") + tail


@dataclass(frozen=True)
class Drop:
    """One dropped dictation: the media file and its sidecar, if any."""

    media: Path
    sidecar: Path | None = None
    problem: str | None = None  # why it cannot be processed as it lies (ambiguous sidecar, link, ...)
    problem_kind: str | None = None

    @property
    def files(self) -> list[Path]:
        return [self.media] + ([self.sidecar] if self.sidecar else [])


@dataclass
class Scan:
    drops: list[Drop] = field(default_factory=list)
    orphan_sidecars: list[Path] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)  # not media, not a sidecar: quarantined when settled


def _is_inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def scan(inbox: Path, exclude: tuple[Path, ...] = ()) -> Scan:
    """What lies in the drop folder (recursively, never following links), in a stable order.

    ``exclude``: folders to skip (archive or quarantine when a site put them inside the inbox).
    """
    inbox = Path(inbox)
    result = Scan()
    if not inbox.is_dir():
        return result
    skip = {p.resolve() for p in exclude if p}
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(inbox, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skip)
        for name in sorted(filenames):
            if not is_ignored(name):
                files.append(here / name)
    by_parent: dict[Path, list[Path]] = {}
    for f in files:
        by_parent.setdefault(f.parent, []).append(f)
    for parent, entries in by_parent.items():
        names = {f.name for f in entries}
        media = [f for f in entries if is_media_name(f.name)]
        stems: dict[str, list[Path]] = {}
        for m in media:
            stems.setdefault(m.stem, []).append(m)
        claimed: set[str] = set()
        for m in media:
            full, short = m.name + SIDECAR_SUFFIX, m.stem + SIDECAR_SUFFIX
            problem = kind = None
            sidecar = None
            if full in names:
                sidecar = parent / full
            elif short in names:
                sidecar = parent / short
                if len(stems[m.stem]) > 1:
                    others = ", ".join(display_name(o.name) for o in stems[m.stem])
                    problem = (
                        f"sidecar {display_name(short)} fits more than one dictation ({others}); name it {display_name(full)}"
                    )
                    kind = "sidecar"
            if sidecar is not None:
                claimed.add(sidecar.name)
            if m.is_symlink():
                problem, kind = "the file is a symbolic link; links are not followed, drop the file itself", "link"
            elif not m.is_file():
                problem, kind = "not a regular file", "not_media"
            result.drops.append(Drop(m, sidecar, problem, kind))
        for f in entries:
            if f in media or f.name in claimed:
                continue
            if f.name.lower().endswith(SIDECAR_SUFFIX):
                result.orphan_sidecars.append(f)
            else:
                result.unsupported.append(f)
    return result


def settled_for(path: Path, now: float | None = None) -> float:
    """Seconds since the file last changed (content or metadata), by the file system's clock."""
    st = path.lstat()
    now = time.time() if now is None else now
    return now - max(st.st_mtime, st.st_ctime)


def signature(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def is_settled(path: Path, stable_seconds: float, now: float | None = None) -> bool:
    """True when the file has not changed for ``stable_seconds`` (and still exists)."""
    try:
        return settled_for(path, now) >= stable_seconds
    except FileNotFoundError:
        return False


class StabilityTracker:
    """Remembers what each file looked like and since when, by this machine's clock.

    A long-running watcher uses it on top of :func:`is_settled`, so a file on a share whose
    clock runs behind ours is not mistaken for an old, finished one.
    """

    def __init__(self, stable_seconds: float, clock=time.monotonic):
        self.stable_seconds = stable_seconds
        self.clock = clock
        self._seen: dict[Path, tuple[tuple[int, int, int], float]] = {}

    def ready(self, path: Path) -> bool:
        try:
            sig = signature(path)
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        now = self.clock()
        prev = self._seen.get(path)
        if prev is None or prev[0] != sig:
            self._seen[path] = (sig, now)
            return self.stable_seconds <= 0 and is_settled(path, 0)
        return now - prev[1] >= self.stable_seconds and is_settled(path, self.stable_seconds)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def prune(self, present: set[Path]) -> None:
        for p in list(self._seen):
            if p not in present:
                del self._seen[p]


def _next_free(dest_dir: Path, name: str) -> Path:
    candidate = dest_dir / name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    n = 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = dest_dir / (f"{stem} ({n})" + (f".{suffix}" if suffix else ""))
    return candidate


def move_no_clobber(src: Path, dest_dir: Path, name: str) -> Path:
    """Move ``src`` into ``dest_dir`` as ``name`` (or ``name (2)`` ...); never overwrites, never deletes data.

    Same file system: a hard link then unlink of the source (atomic, refuses to overwrite),
    or a rename where links are not supported. Across file systems: copy to a hidden
    temporary name, fsync, rename into place, then remove the source.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    assert "/" not in name and name not in ("", ".", ".."), name
    for _ in range(1000):
        dest = _next_free(dest_dir, name)
        assert dest.parent == dest_dir
        try:
            os.link(src, dest, follow_symlinks=False)
        except FileExistsError:
            continue  # someone took that name a moment ago
        except OSError as e:
            if e.errno == errno.EXDEV:
                return _copy_across(src, dest_dir, name)
            if e.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EACCES):
                if dest.exists() or dest.is_symlink():
                    continue
                os.rename(src, dest)
                return dest
            raise
        os.unlink(src)
        return dest
    raise FileExistsError(f"no free name for {display_name(name)} in {dest_dir}")


def copy_no_clobber(src: Path, dest_dir: Path, name: str) -> Path:
    """Copy ``src`` into ``dest_dir`` as ``name`` (or ``name (2)`` ...): written under a hidden
    temporary name, fsynced, then linked into place; never overwrites. The source stays."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    assert "/" not in name and name not in ("", ".", ".."), name
    return _copy_across(src, dest_dir, name, remove_source=False)


def _copy_across(src: Path, dest_dir: Path, name: str, remove_source: bool = True) -> Path:
    tmp = dest_dir / f".{os.getpid()}.{time.monotonic_ns()}.moving"
    if src.is_symlink():
        os.symlink(os.readlink(src), tmp)
    else:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
    for _ in range(1000):
        dest = _next_free(dest_dir, name)
        try:
            os.link(tmp, dest, follow_symlinks=False)
        except FileExistsError:
            continue
        os.unlink(tmp)
        if remove_source:
            os.unlink(src)
        return dest
    raise FileExistsError(f"no free name for {display_name(name)} in {dest_dir}")


def _sidecar_name(drop: Drop, media_dest: Path) -> str:
    assert drop.sidecar is not None
    if drop.sidecar.name == drop.media.name + SIDECAR_SUFFIX:
        return media_dest.name + SIDECAR_SUFFIX
    return media_dest.stem + SIDECAR_SUFFIX


def local_day(settings: Settings, when: datetime | None = None) -> str:
    """The archive folder's name for ``when`` (default: now): the date in the site's time zone."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.resolved_timezone)
    return (when.astimezone(tz) if when else datetime.now(tz)).strftime("%Y-%m-%d")


def archive_drop(drop: Drop, archive_root: Path, day: str) -> dict[str, Path]:
    """Move media and sidecar to ``archive_root/day/``; returns where each went."""
    dest_dir = archive_root / day
    moved = {"media": move_no_clobber(drop.media, dest_dir, safe_name(drop.media.name))}
    if drop.sidecar is not None and (drop.sidecar.exists() or drop.sidecar.is_symlink()):
        moved["sidecar"] = move_no_clobber(drop.sidecar, dest_dir, _sidecar_name(drop, moved["media"]))
    return moved


def error_report(
    *,
    kind: str,
    reason: str,
    original: Path,
    inbox: Path | None,
    sidecar: Path | None,
    content_hash: str | None = None,
    dictation_id: int | None = None,
    attempts: int | None = None,
    details: list[str] | None = None,
) -> str:
    rel = original
    if inbox is not None:
        try:
            rel = original.relative_to(inbox)
        except ValueError:
            pass
    lines = [
        "This dictation was not processed and was moved here from the drop folder.",
        "",
        f"Why:            {reason}",
        f"Reason code:    {kind}",
        f"Original name:  {display_name(str(rel))}",
        f"Sidecar:        {display_name(sidecar.name) if sidecar else '(none)'}",
        f"When (UTC):     {datetime.now(UTC).isoformat(timespec='seconds')}",
    ]
    if dictation_id is not None:
        lines.append(f"Dictation ID:   {dictation_id}")
    if attempts:
        lines.append(f"Attempts:       {attempts}")
    if content_hash:
        lines.append(f"SHA-256:        {content_hash}")
    if details:
        lines += ["", "Details:"] + [f"  - {d}" for d in details]
    lines += [
        "",
        "To process it again: fix the cause (or the sidecar) and move the media file, and its",
        "sidecar if any, back into the drop folder. This note can then be removed.",
    ]
    return "\n".join(lines) + "\n"


def quarantine_files(files: list[Path], quarantine_root: Path, report: str, primary: Path | None = None) -> dict[str, Path]:
    """Move ``files`` to ``quarantine_root`` and write ``<primary>.error.txt`` next to them."""
    quarantine_root.mkdir(parents=True, exist_ok=True)
    moved: dict[str, Path] = {}
    primary = primary or files[0]
    first = None
    for f in files:
        if not (f.exists() or f.is_symlink()):
            continue
        if f == primary:
            first = move_no_clobber(f, quarantine_root, safe_name(f.name))
            moved["media"] = first
        else:
            base = first.name if first is not None else safe_name(primary.name)
            name = base + SIDECAR_SUFFIX if f.name.lower().endswith(SIDECAR_SUFFIX) else safe_name(f.name)
            moved.setdefault(
                "sidecar" if f.name.lower().endswith(SIDECAR_SUFFIX) else f"other:{f.name}",
                move_no_clobber(f, quarantine_root, name),
            )
    note_base = first.name if first is not None else safe_name(primary.name)
    note = _next_free(quarantine_root, note_base + ERROR_SUFFIX)
    with open(note, "x", encoding="utf-8") as fh:
        fh.write(report)
    moved["note"] = note
    return moved


def quarantine_drop(drop: Drop, quarantine_root: Path, report: str) -> dict[str, Path]:
    return quarantine_files(drop.files, quarantine_root, report, primary=drop.media)


def is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False
