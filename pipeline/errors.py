"""Error types a technician sees. Each carries a plain-language reason."""

from __future__ import annotations

from pathlib import Path


class PipelineError(Exception):
    """Base class for errors the pipeline reports to users."""


class MediaError(PipelineError):
    """A dictation file cannot be used: corrupt, empty, silent, not media, no audio, too long.

    ``kind`` is a short machine-readable reason (``empty``, ``not_media``, ``no_audio``,
    ``too_long``, ``too_short``, ``unreadable``, ``not_found``); ``reason`` is the sentence
    shown to the technician.
    """

    def __init__(self, path: str | Path, kind: str, reason: str):
        self.path = Path(path)
        self.kind = kind
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")


class RecordLocked(PipelineError):
    """Processing again would overwrite a coder's work (a finalized or pending record, a claim,
    coder decisions); nothing was changed. ``reason`` says which and what to do."""

    def __init__(self, dictation_id: int, reason: str):
        self.dictation_id = dictation_id
        self.kind = "locked"
        self.reason = reason
        super().__init__(reason)
