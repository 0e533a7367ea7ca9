"""Candidate codes for a mention: char-3-gram TF-IDF + HNSW nearest neighbours over code aliases.

The same design as scispaCy's entity linker (``scispacy.candidate_generation``): a
``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3))`` over every alias string, an nmslib
HNSW index in ``cosinesimil_sparse`` space, and a ``KnowledgeBase`` mapping alias -> codes, all
wrapped in scispaCy's own :class:`~scispacy.candidate_generation.CandidateGenerator`. It is
built here rather than with scispaCy's ``create_tfidf_ann_index`` because that function refuses
Python 3.11+ (it stores float16 sparse matrices); we keep float32 and save the vectors inside the
nmslib index file.

One :class:`CodeIndex` per code system, built once from :mod:`pipeline.code.codeset` aliases and
cached under ``cache_dir/<system>-<fingerprint>/`` (the fingerprint covers the data files and the
alias rules, so a data rebuild invalidates the cache). If nmslib cannot be imported, an exact
(brute-force sparse dot product) search stands in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.code.aliases import ALIAS_VERSION, normalize_alias
from pipeline.code.codeset import CodeSet, get_codeset

log = logging.getLogger(__name__)

CM, PCS = "ICD-10-CM", "ICD-10-PCS"
SYSTEMS = (CM, PCS)
MIN_DF = 2
HNSW_PARAMS = {"M": 32, "efConstruction": 200, "post": 2}  # 60 built graphs that missed an exact-enough alias now and then
# Query-time breadth. Measured against exact search on 800 reworded ICD-10-CM aliases: efSearch 200
# found the exact best alias for 97.4% of mentions (recall@10 0.954; "community acquired pneumonia"
# landed on "acquired deformity"), 500 for 98.8% (0.970) at half the speed (~630 mentions/s on one
# shared core). The index remembers its answers, so the coder reuses the linker's searches.
EF_SEARCH = 500

from scispacy.linking_utils import Entity, KnowledgeBase

try:  # scispaCy's candidate_generation imports nmslib itself
    import nmslib
    from scispacy.candidate_generation import CandidateGenerator, MentionCandidate

    HAVE_NMSLIB = True
except ImportError:  # pragma: no cover - exercised only where nmslib is missing
    HAVE_NMSLIB = False
    from pipeline.code._exact import CandidateGenerator, MentionCandidate  # type: ignore[assignment]


@dataclass(frozen=True)
class Candidate:
    code: str
    description: str
    alias: str  # the best-matching alias
    score: float  # cosine similarity of mention and alias in [0, 1]


def _fingerprint(cs: CodeSet, system: str) -> str:
    import importlib.metadata as md

    h = hashlib.sha256()
    for path in cs.data_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for part in (system, ALIAS_VERSION, md.version("simple_icd_10_cm"), json.dumps(HNSW_PARAMS, sort_keys=True),
                 str(MIN_DF), "hnsw" if HAVE_NMSLIB else "exact", "2"):
        h.update(part.encode())
    return h.hexdigest()[:16]


def _progress():  # rich if present, silent otherwise
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    except ImportError:  # pragma: no cover
        return None


class CodeIndex:
    """Nearest-alias candidate generator for one code system ("ICD-10-CM" or "ICD-10-PCS")."""

    MEMO_SIZE = 50000  # mentions remembered per process (the linker's queries serve the coder's)

    def __init__(self, system: str, directory: Path, generator: Any, descriptions: dict[str, str]) -> None:
        self.system = system
        self.directory = directory
        self._generator = generator
        self._descriptions = descriptions
        self._memo: OrderedDict[str, tuple[int, list[Candidate]]] = OrderedDict()  # mention -> (k, candidates)
        self._memo_lock = threading.Lock()

    @property
    def generator(self) -> CandidateGenerator:
        """scispaCy's CandidateGenerator over this index (``generator(texts, k)`` -> MentionCandidate lists)."""
        return self._generator

    @property
    def kb(self) -> KnowledgeBase:
        return self._generator.kb

    # ------------------------------------------------------------------ build / load
    @classmethod
    def load_or_build(cls, system: str, cache_dir: Path, codeset: CodeSet | None = None) -> CodeIndex:
        if system not in SYSTEMS:
            raise ValueError(f"unknown code system {system!r}; expected one of {SYSTEMS}")
        cs = codeset or get_codeset()
        directory = Path(cache_dir) / f"{system}-{_fingerprint(cs, system)}"
        if not (directory / "meta.json").is_file():
            cls._build(system, cs, directory)
        return cls._load(system, directory)

    @classmethod
    def _build(cls, system: str, cs: CodeSet, directory: Path) -> None:
        import joblib
        from sklearn.feature_extraction.text import TfidfVectorizer

        t0 = time.perf_counter()
        progress = _progress()
        steps = ["aliases", "tf-idf vectors", "HNSW index" if HAVE_NMSLIB else "exact index", "saving"]
        if progress:
            progress.start()
            task = progress.add_task(f"{system}: {steps[0]}", total=len(steps))

        def step(i: int) -> None:
            if progress:
                progress.update(task, completed=i, description=f"{system}: {steps[i] if i < len(steps) else 'done'}")

        tmp: Path | None = None
        try:
            triples = cs.cm_aliases() if system == CM else cs.pcs_aliases()
            describe = cs.cm_description if system == CM else cs.pcs_description
            concepts: dict[str, list[str]] = {}
            for text, code, _source in triples:
                concepts.setdefault(code, []).append(text)
            aliases = sorted({t for t, _, _ in triples})
            step(1)
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=MIN_DF, dtype=np.float32)
            vectors = vectorizer.fit_transform(aliases).astype(np.float32)
            keep = np.asarray(vectors.getnnz(axis=1) > 0)
            vectors = vectors[keep]
            aliases = [a for a, k in zip(aliases, keep) if k]
            step(2)
            directory.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{system}-", dir=directory.parent))
            if HAVE_NMSLIB:
                index = nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)
                index.addDataPointBatch(vectors)
                index.createIndex({**HNSW_PARAMS, "indexThreadQty": max(1, min(4, os.cpu_count() or 1))},
                                  print_progress=False)
                step(3)
                index.saveIndex(str(tmp / "nmslib_index.bin"), save_data=True)
            else:
                import scipy.sparse

                step(3)
                scipy.sparse.save_npz(tmp / "tfidf_vectors_sparse.npz", vectors)
            joblib.dump(vectorizer, tmp / "tfidf_vectorizer.joblib")
            (tmp / "concept_aliases.json").write_text(json.dumps(aliases))
            with open(tmp / "kb.jsonl", "w", encoding="utf-8") as fh:
                for code in sorted(concepts):
                    entity = {"concept_id": code, "canonical_name": describe(code) or code,
                              "aliases": sorted(set(concepts[code])), "types": [system], "definition": None}
                    fh.write(json.dumps(entity) + "\n")
            meta = {"system": system, "aliases": len(aliases), "concepts": len(concepts), "alias_code_pairs": len(triples),
                    "backend": "hnsw" if HAVE_NMSLIB else "exact", "hnsw": HNSW_PARAMS, "min_df": MIN_DF,
                    "build_seconds": round(time.perf_counter() - t0, 1)}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            step(4)
            try:
                os.replace(tmp, directory)
            except OSError:  # another process finished first
                shutil.rmtree(tmp, ignore_errors=True)
            log.info("built %s candidate index in %.1fs: %s", system, meta["build_seconds"], directory)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if progress:
                progress.stop()

    @classmethod
    def _load(cls, system: str, directory: Path) -> CodeIndex:
        import joblib

        vectorizer = joblib.load(directory / "tfidf_vectorizer.joblib")
        aliases = json.loads((directory / "concept_aliases.json").read_text())
        entities = []
        descriptions = {}
        with open(directory / "kb.jsonl", encoding="utf-8") as fh:
            for line in fh:
                e = Entity(**json.loads(line))
                entities.append(e)
                descriptions[e.concept_id] = e.canonical_name
        kb = KnowledgeBase(entities)
        if HAVE_NMSLIB:
            index = nmslib.init(method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR)
            index.loadIndex(str(directory / "nmslib_index.bin"), load_data=True)
            index.setQueryTimeParams({"efSearch": EF_SEARCH})
        else:
            from pipeline.code._exact import ExactIndex

            index = ExactIndex.load(directory / "tfidf_vectors_sparse.npz")
        generator = CandidateGenerator(ann_index=index, tfidf_vectorizer=vectorizer,
                                       ann_concept_aliases_list=aliases, kb=kb)
        return cls(system, directory, generator, descriptions)

    # ------------------------------------------------------------------ query
    def description(self, code: str) -> str:
        return self._descriptions.get(code, "")

    def candidates(self, mentions: Sequence[str], k: int = 10) -> list[list[Candidate]]:
        """Up to ``k`` codes per mention, best first (score = best alias cosine similarity).

        Codes tied on score (several codes sharing one alias) are ordered by how well the mention
        matches each code's own description. Answers are remembered per process: the coder asks
        for the mentions the linker (``mrt_linker``) already looked up, and gets them without a search.
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
        """:meth:`candidates` without the memo: the TF-IDF + HNSW search and the tie ordering."""
        texts = [normalize_alias(m) or m for m in mentions]
        raw: list[list[MentionCandidate]] = self._generator(texts, max(3 * k, 30))
        per_mention: list[list[Candidate]] = []
        for mention_cands in raw:
            best = []
            for mc in mention_cands:
                i = int(np.argmax(mc.similarities))
                score = float(min(1.0, max(0.0, mc.similarities[i])))
                best.append(Candidate(mc.concept_id, self.description(mc.concept_id), mc.aliases[i], score))
            per_mention.append(best)
        ties = self._description_similarity(texts, per_mention)
        out = []
        for cands, tie in zip(per_mention, ties):
            order = sorted(range(len(cands)), key=lambda i: (-round(cands[i].score, 4), -tie[i], cands[i].code))
            out.append([cands[i] for i in order[:k]])
        return out

    def _description_similarity(self, texts: list[str], per_mention: list[list[Candidate]]) -> list[np.ndarray]:
        """Cosine of each mention with each of its candidates' descriptions (one vectorizer pass)."""
        vec = self._generator.vectorizer
        descs = [normalize_alias(c.description) for cands in per_mention for c in cands]
        if not descs:
            return [np.zeros(0) for _ in per_mention]
        m = vec.transform(texts)
        d = vec.transform(descs)
        out, row = [], 0
        for j, cands in enumerate(per_mention):
            block = d[row:row + len(cands)]
            out.append(np.asarray((block @ m[j].T).todense()).ravel())
            row += len(cands)
        return out
