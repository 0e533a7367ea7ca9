"""Candidate codes for a mention: exact char-3-gram TF-IDF cosine over every code alias.

The vectors are those of scispaCy's entity linker (``TfidfVectorizer(analyzer="char_wb",
ngram_range=(3, 3))`` over every alias string: smooth idf, L2-normalised rows), but the search is
exact: one sparse matrix product of a batch of mentions with every alias vector
(:class:`pipeline.code.lookup._exact.ExactIndex`), the best aliases taken in a fixed order (score, then
alias number). So the same mention gets the same ranked candidates with the same scores on every
install, in every process, whatever the hash seed or thread count. (An nmslib HNSW graph stood here
before: built at random on each install, it lost J18.9 for "community acquired pneumonia" on some.)

One :class:`CodeIndex` per code system, built once from :mod:`pipeline.code.lookup.codeset` aliases
(about 15 s for both systems on two cores) and cached under ``cache_dir/<system>-<fingerprint>/``
(the fingerprint covers the data files, the alias rules and this module's format, so a data rebuild
invalidates the cache). The build is deterministic: two builds write byte-identical files.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.code.lookup._exact import ExactIndex
from pipeline.code.lookup.aliases import normalize_alias
from pipeline.code.lookup.codeset import CodeSet, get_codeset
from pipeline.code.lookup.index_build import SYSTEMS, build, index_directory

log = logging.getLogger(__name__)

CANDIDATES_K = 10  # candidates per mention the coder reads (the linker asks as many, so the memo serves both)
ALIAS_DEPTH = 30  # aliases read per mention (at least 3 per candidate code asked for)


@dataclass(frozen=True)
class Candidate:
    code: str
    description: str
    alias: str  # the best-matching alias
    score: float  # cosine similarity of mention and alias in [0, 1]


class CodeIndex:
    """Nearest-alias candidate generator for one code system ("ICD-10-CM" or "ICD-10-PCS")."""

    MEMO_SIZE = 50000  # mentions remembered per process (the linker's queries serve the coder's)

    def __init__(
        self,
        system: str,
        directory: Path,
        index: ExactIndex,
        aliases: list[str],
        alias_codes: list[tuple[str, ...]],
        descriptions: dict[str, str],
    ) -> None:
        self.system = system
        self.directory = directory
        self._index = index
        self._aliases = aliases
        self._alias_codes = alias_codes  # alias number -> its codes (sorted)
        self._descriptions = descriptions
        self._code_aliases: dict[str, list[str]] | None = None
        self._memo: OrderedDict[str, tuple[int, list[Candidate]]] = OrderedDict()  # mention -> (k, candidates)
        self._memo_lock = threading.Lock()

    @property
    def exact_index(self) -> ExactIndex:
        return self._index

    @property
    def aliases(self) -> list[str]:
        """Every alias, in index order (sorted)."""
        return self._aliases

    def codes_of(self, alias_number: int) -> tuple[str, ...]:
        return self._alias_codes[alias_number]

    def code_aliases(self, code: str) -> list[str]:
        """Every name the index has for ``code`` (descriptions, Index terms, inclusion terms), sorted."""
        if self._code_aliases is None:
            by_code: dict[str, list[str]] = {}
            for alias, codes in zip(self._aliases, self._alias_codes):
                for c in codes:
                    by_code.setdefault(c, []).append(alias)
            self._code_aliases = by_code
        return list(self._code_aliases.get(code, []))

    # ------------------------------------------------------------------ load
    @classmethod
    def load_or_build(cls, system: str, cache_dir: Path, codeset: CodeSet | None = None) -> CodeIndex:
        if system not in SYSTEMS:
            raise ValueError(f"unknown code system {system!r}; expected one of {SYSTEMS}")
        """The index of ``system`` cached under ``cache_dir`` (built there first if missing:
        :mod:`pipeline.code.lookup.index_build`)."""
        cs = codeset or get_codeset()
        directory = index_directory(system, Path(cache_dir), cs)
        if not (directory / "meta.json").is_file():
            build(system, cs, directory)
        return cls.load(system, directory)

    @classmethod
    def load(cls, system: str, directory: Path) -> CodeIndex:
        """The index files :func:`pipeline.code.lookup.index_build.build` wrote to ``directory``."""
        aliases: list[str] = []
        alias_codes: list[tuple[str, ...]] = []
        with open(directory / "aliases.jsonl", encoding="utf-8") as fh:
            for line in fh:
                alias, codes = json.loads(line)
                aliases.append(alias)
                alias_codes.append(tuple(codes))
        descriptions = {}
        with open(directory / "descriptions.jsonl", encoding="utf-8") as fh:
            for line in fh:
                code, description = json.loads(line)
                descriptions[code] = description
        return cls(system, directory, ExactIndex.load(directory), aliases, alias_codes, descriptions)

    # ------------------------------------------------------------------ query
    def description(self, code: str) -> str:
        return self._descriptions.get(code, "")

    def candidates(self, mentions: Sequence[str], k: int = 10) -> list[list[Candidate]]:
        """Up to ``k`` codes per mention, best first (score = best alias cosine similarity).

        Codes tied on score (several codes sharing one alias) are ordered by how well the mention
        matches each code's own description, then by code. Answers are remembered per process (the
        coder asks for the mentions the linker, ``mrt_linker``, already looked up); a remembered
        answer is the one a fresh search gives.
        """
        if not mentions:
            return []
        with self._memo_lock:
            known = {m: hit[1] for m in mentions if (hit := self._memo.get(m)) is not None and hit[0] >= k}
        todo = list(dict.fromkeys(m for m in mentions if m not in known))
        if todo:
            for m, cands in zip(todo, self._search(todo, k)):
                known[m] = cands
            with self._memo_lock:
                for m in todo:
                    self._memo[m] = (k, known[m])
                    self._memo.move_to_end(m)
                while len(self._memo) > self.MEMO_SIZE:
                    self._memo.popitem(last=False)
        return [list(known[m][:k]) for m in mentions]

    def _search(self, mentions: Sequence[str], k: int) -> list[list[Candidate]]:
        """:meth:`candidates` without the memo: the exact search and the tie ordering."""
        texts = [normalize_alias(m) or m for m in mentions]
        per_mention: list[list[Candidate]] = []
        for hits in self._index.top(texts, max(3 * k, ALIAS_DEPTH)):
            best: dict[str, Candidate] = {}
            for alias_number, score in hits:  # best alias first: a code keeps its first (best) alias
                alias = self._aliases[alias_number]
                for code in self._alias_codes[alias_number]:
                    if code not in best:
                        best[code] = Candidate(code, self.description(code), alias, min(1.0, max(0.0, score)))
            per_mention.append(list(best.values()))
        ties = self._description_similarity(texts, per_mention)
        out = []
        for cands, tie in zip(per_mention, ties):
            order = sorted(range(len(cands)), key=lambda i: (-round(cands[i].score, 4), -round(float(tie[i]), 6), cands[i].code))
            out.append([cands[i] for i in order[:k]])
        return out

    def _description_similarity(self, texts: list[str], per_mention: list[list[Candidate]]) -> list[np.ndarray]:
        """Cosine of each mention with each of its candidates' descriptions (one vectorizer pass)."""
        descs = [normalize_alias(c.description) for cands in per_mention for c in cands]
        if not descs:
            return [np.zeros(0) for _ in per_mention]
        m = self._index.vectors(texts)
        d = self._index.vectors(descs)
        out, row = [], 0
        for j, cands in enumerate(per_mention):
            block = d[row : row + len(cands)]
            out.append(np.asarray((block @ m[j].T).todense()).ravel())
            row += len(cands)
        return out
