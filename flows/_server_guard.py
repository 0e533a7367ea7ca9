"""The ephemeral Prefect API server dies with the process that started it.

Prefect starts its temporary API server (``python -m uvicorn ...``) as a child process and stops
it at exit, but a parent killed outright (``kill -9``, the out-of-memory killer) never reaches its
exit handlers, and the server lives on, orphaned, holding a port and about 230 MB.
:func:`install` makes Prefect start the server through this module instead::

    python -c "from flows._server_guard import main; ..." PARENT_PID uvicorn ARGS...

which watches its parent and exits the moment the parent is gone (this process is re-parented),
then runs uvicorn in the same process. Nothing else about the server changes.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import subprocess
import sys
import threading
import time
from types import ModuleType

SERVER_MODULE = "prefect.server.api.server"
_CHILD = "import sys; from flows._server_guard import main; main(sys.argv)"
POLL_S = 0.5


class _GuardedSubprocess(ModuleType):
    """``subprocess`` as Prefect's server module sees it: a ``Popen`` that starts the uvicorn
    server under the guard; everything else is the real module."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args, *a, **kw):  # noqa: N802 - the name Prefect calls
        args = list(args)
        if len(args) > 2 and args[1:3] == ["-m", "uvicorn"]:  # not "-m flows._server_guard": runpy would warn
            args = [args[0], "-c", _CHILD, str(os.getpid()), "uvicorn", *args[3:]]
        return subprocess.Popen(args, *a, **kw)


def _guard(module: ModuleType) -> None:
    module.subprocess = _GuardedSubprocess()  # type: ignore[attr-defined]


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Guards Prefect's server module when (and only if) something imports it: importing it
    up front would cost every ``mrt`` command two seconds."""

    def find_spec(self, fullname, path, target=None):
        if fullname != SERVER_MODULE:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_guard(module):
            exec_module(module)
            _guard(module)

        spec.loader.exec_module = exec_and_guard  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Start Prefect's ephemeral server under the guard from now on (idempotent)."""
    if SERVER_MODULE in sys.modules:
        _guard(sys.modules[SERVER_MODULE])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)  # the process that started us is gone: so are we
        time.sleep(POLL_S)


def main(argv: list[str]) -> None:
    parent, module, rest = int(argv[1]), argv[2], argv[3:]
    if os.getppid() != parent:
        sys.exit(0)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()
    import runpy

    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":  # python -m flows._server_guard PARENT_PID uvicorn ARGS... also works
    main(sys.argv)
