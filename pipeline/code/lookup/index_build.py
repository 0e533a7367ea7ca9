"""Building a code system's candidate index files (:class:`pipeline.code.lookup.candidates.CodeIndex`
loads them): the aliases of :mod:`pipeline.code.lookup.codeset` vectorised by
:class:`pipeline.code.lookup._exact.ExactIndex`, written under ``cache_dir/<system>-<fingerprint>/``.
Apart from the lookup, as scispaCy keeps its knowledge-base building apart from candidate generation."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.code.lookup._exact import ExactIndex
from pipeline.code.lookup.aliases import ALIAS_VERSION, cm_aliases, pcs_aliases
from pipeline.code.lookup.codeset import CodeSet
from pipeline.code.types import CM, PCS

log = logging.getLogger(__name__)

SYSTEMS = (CM, PCS)
MIN_DF = 2
INDEX_FORMAT = "exact-tfidf-1"  # bump when the files or the vectors change (part of the cache fingerprint)


# the modules whose code decides what the index holds: a change to any of them builds a new index
# (an upgrade must not keep an index its aliases no longer match)
BUILDER_MODULES = ("aliases.py", "codeset.py", "index_build.py", "_exact.py")


def fingerprint(cs: CodeSet, system: str) -> str:
    import importlib.metadata as md

    h = hashlib.sha256()
    for path in cs.data_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    here = Path(__file__).parent
    for name in BUILDER_MODULES:
        h.update(name.encode())
        h.update((here / name).read_bytes().replace(b"\r\n", b"\n"))
    for part in (system, ALIAS_VERSION, md.version("simple_icd_10_cm"), str(MIN_DF), INDEX_FORMAT):
        h.update(part.encode())
    return h.hexdigest()[:16]


def build(system: str, cs: CodeSet, directory: Path) -> None:
    """Write the index files: every file a pure function of the code-set data (no timestamps,
    no random state, sorted orders), so two builds are byte-identical."""
    t0 = time.perf_counter()
    tmp: Path | None = None
    try:
        triples = cm_aliases(cs) if system == CM else pcs_aliases(cs)
        describe = cs.cm_description if system == CM else cs.pcs_description
        codes_by_alias: dict[str, set[str]] = {}
        for text, code, _source in triples:
            codes_by_alias.setdefault(text, set()).add(code)
        aliases = sorted(codes_by_alias)
        index, kept = ExactIndex.fit(aliases, min_df=MIN_DF)
        aliases = [a for a, k in zip(aliases, kept) if k]
        alias_codes = [sorted(codes_by_alias[a]) for a in aliases]
        concepts = sorted({c for codes in alias_codes for c in codes})
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{system}-", dir=directory.parent))
        index.save(tmp)
        with open(tmp / "aliases.jsonl", "w", encoding="utf-8") as fh:
            for alias, codes in zip(aliases, alias_codes):
                fh.write(json.dumps([alias, codes], ensure_ascii=False) + "\n")
        with open(tmp / "descriptions.jsonl", "w", encoding="utf-8") as fh:
            for code in concepts:
                fh.write(json.dumps([code, describe(code) or code], ensure_ascii=False) + "\n")
        meta = {
            "system": system,
            "format": INDEX_FORMAT,
            "aliases": len(aliases),
            "concepts": len(concepts),
            "alias_code_pairs": len(triples),
            "features": index.features,
            "nonzeros": index.nonzeros,
            "min_df": MIN_DF,
            "search": "exact cosine (sparse matrix product)",
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
        os.chmod(tmp, 0o755)
        try:
            os.replace(tmp, directory)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("built %s candidate index in %.1fs: %s", system, time.perf_counter() - t0, directory)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def index_directory(system: str, cache_dir: Path, cs: CodeSet) -> Path:
    """Where the index of ``system`` for these code-set data lives under ``cache_dir``."""
    return Path(cache_dir) / f"{system}-{fingerprint(cs, system)}"
