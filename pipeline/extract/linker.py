"""Entity linking to ICD-10-CM / ICD-10-PCS: ``mrt_linker``.

scispaCy's EntityLinker design over a custom knowledge base: the coding stage's code indexes
(:class:`pipeline.code.lookup.candidates.CodeIndex`: ICD-10-CM and ICD-10-PCS descriptions, Index terms,
inclusion terms and synonyms as aliases; char-3-gram TF-IDF vectors searched exactly, so every
install links a mention to the same codes). The indexes are built once, deterministically
(``mrt build-kb`` or on first use, seconds) and cached under ``cache_dir/code-index``. As scispaCy's
``EntityLinker`` is handed its knowledge base, the linker is handed its indexes
(:meth:`EntityLinker.use_indexes`): where the pipeline is assembled, the process's
:func:`pipeline.code.lookup.indexes.shared_code_indexes`, the ones the coder reads.

Every entity gets ``span._.kb_candidates``: up to ``k`` ``(code, score)`` pairs, best first,
from the system its label belongs to (problems and symptoms: CM; procedures and tests: PCS).
Mentions are looked up by their lexicon form (an abbreviation's expansion), as the coder does.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.code.lookup.candidates import CANDIDATES_K, CodeIndex
from pipeline.code.rules.specificity import index_query
from pipeline.extract import _extensions  # noqa: F401

log = logging.getLogger(__name__)

DEFAULT_SYSTEMS = {"PROBLEM": "ICD-10-CM", "SYMPTOM": "ICD-10-CM", "PROCEDURE": "ICD-10-PCS", "TEST": "ICD-10-PCS"}


class EntityLinker:
    """Sets ``span._.kb_candidates`` on every entity of ``doc.ents``."""

    def __init__(self, name: str, k: int, systems: dict[str, str], threshold: float, memo_size: int = 50000) -> None:
        self.name = name
        self.k = k
        self.systems = dict(systems)
        self.threshold = threshold
        self._memo: OrderedDict[tuple[str, str], list[tuple[str, float]]] = OrderedDict()
        self._memo_size = memo_size
        self.index_for: Callable[[str], CodeIndex] | None = None

    def use_indexes(self, index_for: Callable[[str], CodeIndex]) -> None:
        """Hand the linker its knowledge base: ``index_for(system)``, the candidate index of a code
        system (:class:`pipeline.code.lookup.indexes.CodeIndexes`)."""
        self.index_for = index_for
        self._memo.clear()

    def __call__(self, doc: Doc) -> Doc:
        queries: dict[str, list[str]] = {}
        for ent in doc.ents:
            system = self.systems.get(ent.label_)
            if system and not ent._.abbreviation_senses:  # an unresolved abbreviation has no reliable query
                q = self.query(ent)
                if (system, q) not in self._memo:
                    queries.setdefault(system, []).append(q)
        if queries and self.index_for is None:
            raise RuntimeError("mrt_linker has no code indexes: hand them over with EntityLinker.use_indexes")
        for system, qs in queries.items():
            assert self.index_for is not None  # checked above
            unique = list(dict.fromkeys(qs))
            # asked at the coder's depth: the index remembers the answers and the coder reuses them
            for q, cands in zip(unique, self.index_for(system).candidates(unique, k=max(self.k, CANDIDATES_K))):
                self._remember((system, q), [(c.code, round(c.score, 4)) for c in cands[: self.k] if c.score >= self.threshold])
        for ent in doc.ents:
            system = self.systems.get(ent.label_)
            found = system and not ent._.abbreviation_senses
            ent._.kb_candidates = list(self._memo.get((system, self.query(ent)), [])) if system and found else []
        return doc

    @staticmethod
    def query(ent) -> str:
        return index_query(ent._.normalized_form or ent.text)

    def _remember(self, key: tuple[str, str], value: list[tuple[str, float]]) -> None:
        self._memo[key] = value
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)


@Language.factory("mrt_linker", default_config={"k": 5, "systems": DEFAULT_SYSTEMS, "threshold": 0.0})
def make_linker(nlp: Language, name: str, k: int, systems: dict[str, str], threshold: float) -> EntityLinker:
    """spaCy factory: ``nlp.add_pipe("mrt_linker", config={"k": 5})``."""
    return EntityLinker(name, k, systems, threshold)
