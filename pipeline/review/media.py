"""A record's media for the review screen: only the record's own stored file, checked.

The file served is the one the record says it is filed as (``Dictation.source_path``, set when
the media is archived), and only when

* the path is absolute and no part of it is a symbolic link (the stored path is its own real path);
* it lies inside the archive or a folder in ``media_dirs``;
* it is a regular file, opened without following links;
* its SHA-256 is the record's content hash (so a file copied over it, another patient's
  dictation for example, is never served).

Anything else is refused with a reason (:class:`MediaUnavailable`, a 404 for the route) and a
warning in the log that names the record, never the patient.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings
from pipeline.store.models import Dictation

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class MediaUnavailable(LookupError):
    """The record's media cannot be served; the message says why (no path or patient data)."""


@dataclass(frozen=True)
class StoredMedia:
    path: Path
    media_type: str
    stat: os.stat_result


class _HashMemo:
    """SHA-256 of files already checked, keyed by device, inode, size and change time, so a file
    that was replaced or rewritten is hashed again and an unchanged one is not re-read per seek."""

    def __init__(self, size: int = 256) -> None:
        self._memo: OrderedDict[tuple, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def digest(self, fd: int, st: os.stat_result) -> str:
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        h = hashlib.sha256()
        offset = 0
        while block := os.pread(fd, _CHUNK, offset):
            h.update(block)
            offset += len(block)
        value = h.hexdigest()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return value


_hashes = _HashMemo()


def allowed_roots(settings: Settings) -> list[Path]:
    """Folders whose files may be served: the archive, then ``media_dirs``, as real paths."""
    return [Path(os.path.realpath(p)) for p in [settings.archive_path, *settings.media_dirs]]


def stored_media(d: Dictation, settings: Settings) -> StoredMedia:
    """The record's media file after every check in the module doc; :class:`MediaUnavailable` else."""
    stored = Path(d.source_path or "")
    if not stored.is_absolute():
        raise _refuse(d, "the record has no filed media")
    real = Path(os.path.realpath(stored))
    if real != Path(os.path.normpath(stored)):
        raise _refuse(d, "the record's media path passes through a link; links are not followed")
    if not any(real.is_relative_to(root) for root in allowed_roots(settings)):
        raise _refuse(d, "the record's media is not filed in the archive")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _refuse(d, "the dictation's media file is not where it was filed") from None
    except OSError:
        raise _refuse(d, "the dictation's media file cannot be opened (a link, or no permission)") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(d, "the record's media is not a regular file")
        if _hashes.digest(fd, st) != d.content_hash:
            raise _refuse(d, "the file filed for this record is not the dictation it was made from (content changed)")
    finally:
        os.close(fd)
    media_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
    if real.suffix.lower() == ".m4a":
        media_type = "audio/mp4"
    return StoredMedia(real, media_type, st)


def _refuse(d: Dictation, why: str) -> MediaUnavailable:
    log.warning("record %s: media not served: %s", d.id, why)
    return MediaUnavailable(why)
