"""The extraction pipeline: text (and its audio timing) in, typed entities out.

Components, each registered by name and set by config:
``sentencizer`` -> ``abbreviation_detector`` (scispaCy) -> ``mrt_ner`` (trained disease/chemical
models, ``settings.ner_models``) -> ``mrt_terminology`` (lexicon: symptoms, procedures, tests, and
the rest) -> ``mrt_procedures`` (PCS root operation + body part phrases) -> ``mrt_tobacco`` (tobacco use
statements) -> ``mrt_injury_statements`` (injuries told by their verb: "twisted his right ankle") ->
``mrt_external_causes`` (how, where, doing what an injury happened) -> ``mrt_social_history``
(circumstances a coder reports: living alone, unemployment, noncompliance) -> ``mrt_abbreviations``
(in-text definitions, ambiguous abbreviations) -> ``mrt_sections`` -> ``mrt_diagnosis_lists``
(diagnosis list items no recognizer marked, read through the Alphabetic Index) -> ``mrt_context`` ->
``mrt_linker`` (ranked ICD-10 candidates, ``settings.link_candidates``) -> ``mrt_audio_time``.
An :class:`Extractor` owns the built pipeline (one per process or worker).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from typing import TYPE_CHECKING, cast

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex

from pipeline.extract import (  # noqa: F401  (register factories)
    _extensions,  # noqa: F401
    abbreviations,
    context,
    diagnosis_lists,
    external_causes,
    injury_statements,
    linker,
    ner,
    procedures,
    sections,
    social_history,
    terminology,
    timing,
    tobacco,
)
from pipeline.extract.reading import heard_entity, suggested_reading
from pipeline.extract.types import Entity
from pipeline.settings import Settings, get_settings
from pipeline.transcribe.types import Transcript

if TYPE_CHECKING:
    from pipeline.code.lookup.indexes import CodeIndexes

log = logging.getLogger(__name__)

PIPELINE: list[tuple[str, dict]] = [
    ("sentencizer", {}),
    ("abbreviation_detector", {}),
    ("mrt_ner", {}),
    ("mrt_terminology", {}),
    ("mrt_procedures", {}),
    ("mrt_tobacco", {}),
    ("mrt_injury_statements", {}),
    ("mrt_external_causes", {}),
    ("mrt_social_history", {}),
    ("mrt_abbreviations", {}),
    ("mrt_sections", {}),
    ("mrt_diagnosis_lists", {}),
    ("mrt_context", {}),
    ("mrt_linker", {}),
    ("mrt_audio_time", {}),
]


def configured_pipeline(settings: Settings) -> list[tuple[str, dict]]:
    """:data:`PIPELINE` with the settings' NER models and linker depth (dropped when turned off)."""
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


# Typed notes run a heading into its list, or a sentence into the next heading, with no space
# ("ALLERGIES,1.  PENICILLIN.", "(Patient is a smoker.),MEDICATIONS:"); spaCy's English rules keep
# such a run as one token, which hides the heading from the section component and the finding's
# words from the recognizers. These split it there.
RUN_ON_INFIXES = (r"(?<=[A-Za-z]),(?=\d)", r"(?<=[A-Za-z])[.)]+,(?=[A-Za-z])")

_lock = threading.Lock()
# scispaCy's detector warns on every document when it has no global abbreviation list.
warnings.filterwarnings("ignore", message=r".*\[W036\].*")


def build_nlp(pipeline: list[tuple[str, dict]], code_indexes: CodeIndexes | None = None) -> Language:
    """The spaCy pipeline of ``pipeline``; its linker (when listed) is handed ``code_indexes``."""
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    if code_indexes is None and any(name == "mrt_linker" for name, _ in pipeline):
        raise ValueError("the mrt_linker component needs the code indexes (build_nlp(..., code_indexes=...))")
    nlp = spacy.blank("en")
    tokenizer = cast(Tokenizer, nlp.tokenizer)
    tokenizer.infix_finditer = compile_infix_regex([*(nlp.Defaults.infixes or ()), *RUN_ON_INFIXES]).finditer
    for name, config in pipeline:
        component = nlp.add_pipe(name, config=config)
        if name == "mrt_linker":  # handed the code indexes the coder of this process reads (as scispaCy's linker its KB)
            assert code_indexes is not None  # checked above
            cast(linker.EntityLinker, component).use_indexes(code_indexes)
    return nlp


class Extractor:
    """Owns the spaCy pipeline (``nlp``) of one process or Dask worker, built once from ``settings``
    (NER models, linker depth: :func:`configured_pipeline`); ``extract`` reads one document."""

    def __init__(self, settings: Settings, code_indexes: CodeIndexes | None = None) -> None:
        from pipeline.code.lookup.indexes import shared_code_indexes

        self.settings = settings
        t0 = time.perf_counter()
        indexes = code_indexes or shared_code_indexes(settings.cache_dir / "code-index")
        self.nlp = build_nlp(configured_pipeline(settings), indexes)
        log.info("built the extraction pipeline (%s) in %.1f s", ", ".join(self.nlp.pipe_names), time.perf_counter() - t0)

    def make_doc(self, text: str, transcript: Transcript | None = None):
        doc = self.nlp.make_doc(text)
        if transcript is not None and transcript.text == text:
            doc._.word_times = timing.word_times(transcript)
        return doc

    def extract(self, text: str, transcript: Transcript | None = None, *, read_suggestions: bool | None = None) -> list[Entity]:
        """Entities in ``text``; when ``transcript`` is the source of ``text``, with audio times, and
        (``read_suggestions``, default from the settings) read with the term corrector's suggestions in
        place of the words they were made for (:mod:`pipeline.extract.reading`)."""
        if read_suggestions is None:
            read_suggestions = self.settings.read_suggestions
        if not (read_suggestions and transcript is not None and transcript.text == text):
            return entities_from_doc(self.nlp(self.make_doc(text, transcript)))
        reading = suggested_reading(transcript)
        if reading is None:
            return entities_from_doc(self.nlp(self.make_doc(text, transcript)))
        doc = self.nlp.make_doc(reading.text)
        doc._.word_times = [(*reading.read_span(s, e), t0, t1, p) for s, e, t0, t1, p in timing.word_times(transcript)]
        return [heard_entity(e, reading) for e in entities_from_doc(self.nlp(doc))]

    def extract_many(self, texts: list[str], batch_size: int = 32) -> list[list[Entity]]:
        return [entities_from_doc(doc) for doc in self.nlp.pipe(texts, batch_size=batch_size)]


_shared: Extractor | None = None


def shared_extractor() -> Extractor:
    """One :class:`Extractor` for the environment's settings, for scripts, tests and evaluation that
    read text without a stage runner (which creates its own). Built on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Extractor(get_settings())
        return _shared


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


def extract(text: str, transcript: Transcript | None = None) -> list[Entity]:
    """:meth:`Extractor.extract` with the :func:`shared_extractor`."""
    return shared_extractor().extract(text, transcript)


def extract_many(texts: list[str], batch_size: int = 32) -> list[list[Entity]]:
    """:meth:`Extractor.extract_many` with the :func:`shared_extractor`."""
    return shared_extractor().extract_many(texts, batch_size)
