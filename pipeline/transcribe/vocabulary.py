"""Medical vocabulary biasing: which terms to put in Whisper's prompt for one dictation.

Terms come from the site vocabulary file (administrator-edited, ``MRT_VOCABULARY_FILE``; default
``data/site_vocabulary.txt``) and the shipped vocabulary counts (``data/vocabulary.tsv.gz``, see
:mod:`pipeline.transcribe.lexicon`), ranked for the dictation's document type and specialty. Words
general English holds as one GPT-2 token are skipped: the model spells them right already. The terms
go to faster-whisper ``hotwords`` (re-sent with every 30-second window) and ``initial_prompt`` (a
short cue for the first window); openai-whisper gets them as ``initial_prompt`` with
``carry_initial_prompt``. Together with the previous window's text the prompt stays within Whisper's
224-token limit (``faster.BudgetedWhisperModel``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import cast

from pipeline.transcribe.lexicon import DATA, is_common_word, read_vocabulary, token_count

PROMPT_TOKEN_LIMIT = 223  # Whisper: n_text_ctx // 2 - 1 tokens of prompt before <|startoftranscript|>
DEFAULT_SITE_VOCABULARY = cast(Path, DATA / "site_vocabulary.txt")  # the package is installed as files on disk
# Document types (sidecar ``document_type``) -> report categories of the vocabulary counts.
DOCUMENT_CATEGORIES = {
    "office_note": ("Office Notes", "SOAP / Chart / Progress Notes", "General Medicine"),
    "clinic_note": ("Office Notes", "SOAP / Chart / Progress Notes", "General Medicine"),
    "progress_note": ("SOAP / Chart / Progress Notes", "General Medicine"),
    "history_and_physical": ("Consult - History and Phy.", "General Medicine"),
    "consult": ("Consult - History and Phy.",),
    "operative_note": ("Surgery",),
    "discharge_summary": ("Discharge Summary",),
    "emergency_note": ("Emergency Room Reports",),
    "radiology_report": ("Radiology",),
}
_HEADER = re.compile(r"^\[\s*(all|document_type|specialty)\s*(?::\s*(.+?))?\s*\]$", re.I)
_PLAIN_TERM = re.compile(r"^[A-Za-z][A-Za-z -]*[A-Za-z]$")


@dataclass(frozen=True)
class DictationContext:
    """What is known about a dictation before it is heard (sidecar/manifest metadata)."""

    document_type: str | None = None
    specialty: str | None = None

    @classmethod
    def from_metadata(cls, meta: dict | None) -> DictationContext:
        meta = meta or {}
        return cls(meta.get("document_type"), meta.get("specialty") or meta.get("medical_specialty"))


@dataclass(frozen=True)
class BiasPrompt:
    terms: tuple[str, ...] = ()
    hotwords: str | None = None  # every window (faster-whisper)
    initial_prompt: str | None = None  # first window (faster-whisper); every window for openai-whisper
    tokens: int = 0  # Whisper tokens of ``hotwords``
    categories: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SiteVocabulary:
    always: tuple[str, ...] = ()
    by_document_type: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_specialty: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _key(name: str) -> str:
    return re.sub(r"[^a-z]+", "_", name.lower()).strip("_")


@lru_cache(maxsize=8)
def load_site_vocabulary(path: str | Path | None = None) -> SiteVocabulary:
    """Parse a site vocabulary file (format in ``data/site_vocabulary.txt``)."""
    src = Path(path) if path else DEFAULT_SITE_VOCABULARY
    if not Path(src).is_file():
        raise FileNotFoundError(f"site vocabulary file not found: {src} (MRT_VOCABULARY_FILE)")
    always: list[str] = []
    by_doc: dict[str, list[str]] = {}
    by_spec: dict[str, list[str]] = {}
    target = always
    for n, raw in enumerate(Path(src).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            m = _HEADER.match(line)
            if not m or (m.group(1).lower() != "all" and not m.group(2)):
                raise ValueError(f"{src}:{n}: unknown section {line!r} (use [all], [document_type: X], [specialty: X])")
            kind = m.group(1).lower()
            target = (
                always if kind == "all" else (by_doc if kind == "document_type" else by_spec).setdefault(_key(m.group(2)), [])
            )
            continue
        target.append(line)
    return SiteVocabulary(tuple(always), {k: tuple(v) for k, v in by_doc.items()}, {k: tuple(v) for k, v in by_spec.items()})


def categories_for(context: DictationContext) -> tuple[str, ...]:
    """Report categories of the vocabulary counts that match the dictation's context."""
    cats: list[str] = []
    if context.document_type:
        cats += DOCUMENT_CATEGORIES.get(_key(context.document_type), ())
    if context.specialty:
        known = {c for e in read_vocabulary()[:200] for c in e.categories}
        stem = _key(context.specialty)[:5]
        cats += sorted(c for c in known if any(w.startswith(stem) for w in _key(c).split("_")) and c not in cats)
    return tuple(dict.fromkeys(cats))


def _biasable(term: str) -> bool:
    return bool(_PLAIN_TERM.match(term)) and not all(is_common_word(p) for p in re.split(r"[ -]+", term))


@lru_cache(maxsize=64)
def build_bias(context: DictationContext, vocabulary_file: str | None = None, max_tokens: int = 60) -> BiasPrompt:
    """The biasing prompt for a dictation: site terms first, then the best-ranked vocabulary terms."""
    max_tokens = min(max_tokens, PROMPT_TOKEN_LIMIT)
    site = load_site_vocabulary(vocabulary_file)
    doc, spec = _key(context.document_type or ""), _key(context.specialty or "")
    chosen: list[str] = list(site.by_document_type.get(doc, ())) + list(site.by_specialty.get(spec, ()))
    chosen += site.always
    cats = categories_for(context)
    ranked = sorted(
        (e for e in read_vocabulary() if e.label != "TEST" and _biasable(e.term)),
        key=lambda e: -(sum(e.categories.get(c, 0) for c in cats) * 5 + e.total) if cats else -e.total,
    )
    terms: list[str] = []
    seen: set[str] = set()
    used = 0
    for term in chosen + [e.term for e in ranked[:400]]:
        low = term.lower()
        if low in seen:
            continue
        cost = token_count(" " + term + ",")
        if used + cost > max_tokens:
            if len(terms) >= len(chosen):
                break
            continue
        seen.add(low)
        terms.append(term)
        used += cost
    if not terms:
        return BiasPrompt(categories=cats)
    text = ", ".join(terms) + "."
    kind = (context.document_type or "medical dictation").replace("_", " ")
    cue = f"{kind.capitalize()}. " + ", ".join(terms[:8]) + "."
    return BiasPrompt(tuple(terms), text, cue, token_count(" " + text), cats)
