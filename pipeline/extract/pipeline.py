"""The extraction pipeline: text (and its audio timing) in, typed entities out.

Components, each registered by name and set by config:
``sentencizer`` -> ``abbreviation_detector`` (scispaCy) -> ``mrt_ner`` (trained disease/chemical
models, ``settings.ner_models``) -> ``mrt_terminology`` (lexicon: symptoms, procedures, tests, and
the rest) -> ``mrt_procedures`` (PCS root operation + body part phrases) -> ``mrt_abbreviations``
(in-text definitions, ambiguous abbreviations) -> ``mrt_sections`` -> ``mrt_context`` ->
``mrt_linker`` (ranked ICD-10 candidates, ``settings.link_candidates``) -> ``mrt_audio_time``.
Loaded once per process.
"""

from __future__ import annotations

import threading
import warnings
from functools import lru_cache

import spacy
from spacy.language import Language

from pipeline.extract import _extensions  # noqa: F401
from pipeline.extract import abbreviations, context, linker, ner, procedures, sections, terminology, timing  # noqa: F401  (register factories)
from pipeline.extract.types import Entity
from pipeline.settings import Settings, get_settings
from pipeline.transcribe.types import Transcript

PIPELINE: list[tuple[str, dict]] = [
    ("sentencizer", {}),
    ("abbreviation_detector", {}),
    ("mrt_ner", {}),
    ("mrt_terminology", {}),
    ("mrt_procedures", {}),
    ("mrt_abbreviations", {}),
    ("mrt_sections", {}),
    ("mrt_context", {}),
    ("mrt_linker", {}),
    ("mrt_audio_time", {}),
]


def configured_pipeline(settings: Settings | None = None) -> list[tuple[str, dict]]:
    """:data:`PIPELINE` with the settings' NER models and linker depth (dropped when turned off)."""
    settings = settings or get_settings()
    out = []
    for name, config in PIPELINE:
        if name == "mrt_ner":
            if not settings.ner_models:
                continue
            config = {**config, "models": list(settings.ner_models)}
        if name == "mrt_linker":
            if not settings.link_candidates:
                continue
            config = {**config, "k": settings.link_candidates}
        out.append((name, config))
    return out

_lock = threading.Lock()
# scispaCy's detector warns on every document when it has no global abbreviation list.
warnings.filterwarnings("ignore", message=r".*\[W036\].*")


def build_nlp(pipeline: list[tuple[str, dict]] | None = None) -> Language:
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    from pipeline.code.lookup.indexes import shared_code_indexes

    nlp = spacy.blank("en")
    for name, config in pipeline if pipeline is not None else configured_pipeline():
        component = nlp.add_pipe(name, config=config)
        if name == "mrt_linker":  # handed the code indexes the coder of this process reads
            component.use_indexes(shared_code_indexes(get_settings().cache_dir / "code-index"))
    return nlp


@lru_cache(maxsize=1)
def _nlp() -> Language:
    return build_nlp()


def get_nlp() -> Language:
    with _lock:
        return _nlp()


def _abbreviation_long_forms(doc) -> dict[tuple[int, int], str]:
    return {(a.start_char, a.end_char): str(a._.long_form) for a in getattr(doc._, "abbreviations", [])}


def entities_from_doc(doc) -> list[Entity]:
    abbrs = _abbreviation_long_forms(doc)
    out = []
    for ent in doc.ents:
        out.append(
            Entity(
                start=ent.start_char,
                end=ent.end_char,
                text=ent.text,
                label=ent.label_,
                section=ent._.section,
                negated=bool(ent._.negated),
                uncertain=bool(ent._.uncertain),
                historical=bool(ent._.historical),
                hypothetical=bool(ent._.hypothetical),
                family=bool(ent._.family),
                audio_start=ent._.audio_start,
                audio_end=ent._.audio_end,
                long_form=ent._.normalized_form or abbrs.get((ent.start_char, ent.end_char)),
                word_prob=ent._.word_prob,
                cues=list(ent._.context_cues or []),
                candidates=[(code, score) for code, score in ent._.kb_candidates or []],
                abbreviation_senses=list(ent._.abbreviation_senses or []),
            )
        )
    return out


def make_doc(text: str, transcript: Transcript | None = None, nlp: Language | None = None):
    nlp = nlp or get_nlp()
    doc = nlp.make_doc(text)
    if transcript is not None and transcript.text == text:
        doc._.word_times = timing.word_times(transcript)
    return doc


def extract(text: str, transcript: Transcript | None = None) -> list[Entity]:
    """Entities in ``text``; when ``transcript`` is the source of ``text``, with audio times."""
    nlp = get_nlp()
    return entities_from_doc(nlp(make_doc(text, transcript, nlp)))


def extract_many(texts: list[str], batch_size: int = 32) -> list[list[Entity]]:
    nlp = get_nlp()
    return [entities_from_doc(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
