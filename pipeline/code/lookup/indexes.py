"""The loaded candidate indexes of one cache directory, one :class:`CodeIndex` per code system.

A :class:`CodeIndexes` loads (or first builds) a system's index on first use and keeps it. The coder
(:class:`pipeline.code.coder.Coder`) and the NER linker (:mod:`pipeline.extract.linker`) of one process
are handed the same :class:`CodeIndexes` (:func:`shared_code_indexes`), so the indexes load once.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pipeline.code.lookup.candidates import CodeIndex

log = logging.getLogger(__name__)

_loads = 0  # indexes loaded by this process (the scale-out benchmark checks it stays at one per system)
_loads_lock = threading.Lock()


def indexes_loaded() -> int:
    """How many code indexes this process has loaded."""
    return _loads


class CodeIndexes:
    """The code indexes cached under ``directory`` (``settings.cache_dir / "code-index"``), loaded on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._loaded: dict[str, CodeIndex] = {}
        self._lock = threading.Lock()

    def get(self, system: str) -> CodeIndex:
        """The index of ``system`` ("ICD-10-CM" or "ICD-10-PCS")."""
        global _loads
        with self._lock:
            if system not in self._loaded:
                self._loaded[system] = CodeIndex.load_or_build(system, self.directory)
                with _loads_lock:
                    _loads += 1
                log.debug("loaded %s code index from %s", system, self.directory)
            return self._loaded[system]

    __call__ = get


_shared: dict[Path, CodeIndexes] = {}
_shared_lock = threading.Lock()


def shared_code_indexes(directory: Path) -> CodeIndexes:
    """The process's :class:`CodeIndexes` of ``directory``: the coder and the linker read the same indexes."""
    with _shared_lock:
        return _shared.setdefault(Path(directory), CodeIndexes(Path(directory)))


def build_kb(settings=None) -> dict[str, dict]:
    """Build (or find in the cache) both code indexes (``mrt build-kb``); their metadata by system."""
    import json

    from pipeline.code.lookup.index_build import SYSTEMS
    from pipeline.settings import get_settings

    indexes = shared_code_indexes((settings or get_settings()).cache_dir / "code-index")
    out = {}
    for system in SYSTEMS:
        index = indexes.get(system)
        out[system] = {"directory": str(index.directory), **json.loads((index.directory / "meta.json").read_text())}
    return out
