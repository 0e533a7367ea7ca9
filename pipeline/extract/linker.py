"""Entity linking to ICD-10-CM / ICD-10-PCS: ``mrt_linker``.

scispaCy's EntityLinker design over a custom knowledge base: the coding stage's code indexes
(:class:`pipeline.code.lookup.candidates.CodeIndex`: ICD-10-CM and ICD-10-PCS descriptions, Index terms,
inclusion terms and synonyms as aliases; char-3-gram TF-IDF vectors searched exactly, so every
install links a mention to the same codes). The indexes are built once, deterministically
(``mrt build-kb`` or on first use, seconds), cached under ``cache_dir/code-index`` and loaded once
per process, shared with the coder (:func:`pipeline.code.coder.get_index`).

Every entity gets ``span._.kb_candidates``: up to ``k`` ``(code, score)`` pairs, best first,
from the system its label belongs to (problems and symptoms: CM; procedures and tests: PCS).
Mentions are looked up by their lexicon form (an abbreviation's expansion), as the coder does.
"""

from __future__ import annotations

from collections import OrderedDict

from spacy.language import Language
from spacy.tokens import Doc

from pipeline.extract import _extensions  # noqa: F401

DEFAULT_SYSTEMS = {"PROBLEM": "ICD-10-CM", "SYMPTOM": "ICD-10-CM", "PROCEDURE": "ICD-10-PCS", "TEST": "ICD-10-PCS"}


def get_code_index(system: str):
    """The process-wide code index of ``system`` (built and cached on first use)."""
    from pipeline.code.coder import get_index

    return get_index(system)


def coder_depth() -> int:
    """How many candidates per mention the coder reads (``pipeline.code.coder.CANDIDATES_K``)."""
    from pipeline.code.coder import CANDIDATES_K

    return CANDIDATES_K


def build_kb() -> dict[str, dict]:
    """Build (or find in the cache) both code indexes; their metadata by system."""
    import json

    out = {}
    for system in ("ICD-10-CM", "ICD-10-PCS"):
        index = get_code_index(system)
        out[system] = {"directory": str(index.directory), **json.loads((index.directory / "meta.json").read_text())}
    return out


class EntityLinker:
    """Sets ``span._.kb_candidates`` on every entity of ``doc.ents``."""

    def __init__(self, name: str, k: int, systems: dict[str, str], threshold: float, memo_size: int = 50000) -> None:
        self.name = name
        self.k = k
        self.systems = dict(systems)
        self.threshold = threshold
        self._memo: OrderedDict[tuple[str, str], list[tuple[str, float]]] = OrderedDict()
        self._memo_size = memo_size

    def __call__(self, doc: Doc) -> Doc:
        queries: dict[str, list[str]] = {}
        for ent in doc.ents:
            system = self.systems.get(ent.label_)
            if system and not ent._.abbreviation_senses:  # an unresolved abbreviation has no reliable query
                q = self.query(ent)
                if (system, q) not in self._memo:
                    queries.setdefault(system, []).append(q)
        for system, qs in queries.items():
            unique = list(dict.fromkeys(qs))
            # asked at the coder's depth: the index remembers the answers and the coder reuses them
            for q, cands in zip(unique, get_code_index(system).candidates(unique, k=max(self.k, coder_depth()))):
                self._remember((system, q), [(c.code, round(c.score, 4)) for c in cands[:self.k] if c.score >= self.threshold])
        for ent in doc.ents:
            system = self.systems.get(ent.label_)
            found = system and not ent._.abbreviation_senses
            ent._.kb_candidates = list(self._memo.get((system, self.query(ent)), [])) if found else []
        return doc

    @staticmethod
    def query(ent) -> str:
        from pipeline.code.rules.specificity import index_query

        return index_query(ent._.normalized_form or ent.text)

    def _remember(self, key: tuple[str, str], value: list[tuple[str, float]]) -> None:
        self._memo[key] = value
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)


@Language.factory("mrt_linker", default_config={"k": 5, "systems": DEFAULT_SYSTEMS, "threshold": 0.0})
def make_linker(nlp: Language, name: str, k: int, systems: dict[str, str], threshold: float) -> EntityLinker:
    """spaCy factory: ``nlp.add_pipe("mrt_linker", config={"k": 5})``."""
    return EntityLinker(name, k, systems, threshold)
