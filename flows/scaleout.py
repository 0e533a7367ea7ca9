"""Where dictations run: a Dask cluster behind Prefect's DaskTaskRunner.

* default: local worker processes (``MRT_WORKERS``, one thread each; 0 = as many as cores and
  memory allow), created for the run, or kept warm by ``mrt watch`` / ``mrt deploy``;
* ``MRT_DASK_ADDRESS=tcp://host:8786``: an existing Dask cluster (a scheduler and workers on
  several machines, see docs/operations.md).

Whisper, the spaCy pipeline, the code indexes and the re-ranker belong to one
:class:`pipeline.stages.Models` bundle per worker process, so each worker loads them once;
:class:`WarmModels` (a Dask worker plugin, also ``dask worker --preload flows.scaleout``) loads
them when the worker starts rather than on its first dictation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin
from prefect_dask import DaskTaskRunner

from flows import _prefect_env  # noqa: F401
from pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)
GIB = 1024**3
WORKER_MEMORY_BUDGET = 2.5 * GIB  # what one worker with tiny.en needs, with room (measured: docs/operations.md)

# A worker's memory is its models, not task data Dask could spill to disk: pausing a worker at
# 80% of its limit (Dask's default) would stall the batch for good, since the models never leave.
# Over 95% of MRT_WORKER_MEMORY_LIMIT its nanny restarts it and its dictation is retried. Defaults
# only: a site's Dask configuration wins. Applied on import, so also in `dask worker --preload
# flows.scaleout` processes (the preload is imported before the worker reads these).
dask.config.update_defaults({"distributed": {"worker": {"memory": {"target": False, "spill": False, "pause": False}}}})

# Dask's own INFO chatter (nanny, scheduler, worker start/stop) is not for the operator's terminal.
for _name in (
    "distributed",
    "distributed.nanny",
    "distributed.scheduler",
    "distributed.worker",
    "distributed.core",
    "distributed.http.proxy",
):
    logging.getLogger(_name).setLevel(logging.WARNING)


@contextmanager
def local_prefect_api() -> Iterator[str | None]:
    """Without a Prefect server: start Prefect's local API once, here, for this process and
    every worker process started after it (each would otherwise start its own). Stopped at exit.
    With a server configured (or inside Prefect's test harness) this does nothing."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    if get_current_settings().api.url:
        yield str(get_current_settings().api.url)
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    saved = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url  # for the worker processes started from here
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved
        server.stop()


def auto_workers(cores: int | None = None, available: int | None = None) -> int:
    """One worker per core, as long as each gets its memory budget."""
    import psutil

    cores = cores or os.cpu_count() or 1
    available = psutil.virtual_memory().available if available is None else available
    return max(1, min(cores, int(available // WORKER_MEMORY_BUDGET)))


def worker_count(settings: Settings) -> int:
    return settings.workers or auto_workers()


def worker_settings(settings: Settings, n_workers: int) -> Settings:
    """Settings a local worker runs with: the cores shared between the workers for Whisper."""
    if settings.cpu_threads == 0 and not settings.dask_address:
        cores = os.cpu_count() or 1
        return settings.model_copy(update={"cpu_threads": max(1, cores // max(1, n_workers))})
    return settings


#: settings that belong to the machine a worker runs on, not to the flow that sent the work
HOST_FIELDS = ("cpu_threads", "device", "compute_type", "cache_dir")


def on_this_host(settings: Settings) -> Settings:
    """The flow's settings with this machine's own values for :data:`HOST_FIELDS` (those set
    in this worker's environment: ``MRT_CPU_THREADS=1`` on a worker machine wins)."""
    local = {f: getattr(get_settings(), f) for f in HOST_FIELDS if f"MRT_{f.upper()}" in os.environ}
    changed = {f: v for f, v in local.items() if getattr(settings, f) != v}
    return settings.model_copy(update=changed) if changed else settings


def warm_models(settings: Settings) -> dict:
    """Create and load this process's models (:func:`pipeline.stages.models_for`; a no-op when
    loaded). Returns load seconds per part."""
    import time

    from pipeline.stages import models_for

    t0 = time.perf_counter()
    models = models_for(settings)
    spacy_s = round(time.perf_counter() - t0, 3)  # the extraction pipeline is built with the bundle
    out = models.warm()
    return {"whisper": out.pop("whisper"), "spacy": spacy_s, **out}


def model_loads() -> dict:
    """How many times this process built each model; 1 each after warm-up."""
    from pipeline.code.lookup.indexes import indexes_loaded
    from pipeline.stages import loaded_models

    bundles = loaded_models()
    return {
        "whisper": sum({id(m.transcriber): m.transcriber.loads for m in bundles}.values()),
        "spacy": len({id(m.extractor) for m in bundles}),
        "code_index": indexes_loaded(),
    }


def peak_rss_bytes() -> int:
    """This process's peak resident memory: Linux's VmHWM, the high-water mark of this process's
    own memory. Not ``ru_maxrss``: that survives exec, so a worker started by a large process
    (a test run, a benchmark that decoded the audio) would report its parent's peak."""
    import resource

    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # elsewhere: KiB on Linux, bytes on macOS


class WarmModels(WorkerPlugin):
    """Loads the models when a Dask worker starts (and again after its nanny restarts it)."""

    name = "mrt-warm-models"

    def __init__(self, settings: Settings):
        self.settings = settings

    def setup(self, worker) -> None:  # noqa: ANN001
        warm_models(self.settings)


def dask_setup(worker) -> None:  # noqa: ANN001  (dask worker --preload flows.scaleout)
    warm_models(get_settings())  # a worker machine's own environment


def cluster_kwargs(settings: Settings, n_workers: int | None = None) -> dict:
    return {
        "n_workers": n_workers or worker_count(settings),
        "threads_per_worker": 1,
        "processes": True,
        "memory_limit": settings.worker_memory_limit,
        "dashboard_address": None,
        "silence_logs": logging.WARNING,
    }


def start_local_cluster(settings: Settings, n_workers: int | None = None, warm: bool = True) -> LocalCluster:
    """A local cluster kept for a long-running process (watcher, deployment server, benchmark)."""
    cluster = LocalCluster(**cluster_kwargs(settings, n_workers))
    if warm:
        warm_cluster(cluster, worker_settings(settings, len(cluster.workers)))
    return cluster


def warm_cluster(cluster, settings: Settings) -> None:  # noqa: ANN001
    """Load the models on every worker now (and on workers that join or restart later)."""
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        client.register_plugin(WarmModels(settings))


@contextmanager
def task_runner(settings: Settings, n_workers: int | None = None) -> Iterator[DaskTaskRunner]:
    """A started Dask task runner for a batch: the configured cluster, or local processes for this run."""
    if settings.dask_address:
        with DaskTaskRunner(address=settings.dask_address) as runner:
            yield runner
        return
    with LocalCluster(**cluster_kwargs(settings, n_workers)) as cluster, DaskTaskRunner(cluster=cluster) as runner:
        yield runner


def runner_workers(settings: Settings, n_workers: int | None = None) -> int:
    """How many workers share this machine's cores (for per-worker Whisper threads)."""
    return 1 if settings.dask_address else (n_workers or worker_count(settings))


def start_shared_cluster(settings: Settings, n_workers: int | None = None):
    """Start warm local workers and point this process (and its children) at them."""
    n = n_workers or worker_count(settings)
    cluster = start_local_cluster(settings, n, warm=False)
    os.environ["MRT_DASK_ADDRESS"] = cluster.scheduler_address
    if settings.cpu_threads == 0:
        os.environ["MRT_CPU_THREADS"] = str(max(1, (os.cpu_count() or 1) // n))
    get_settings.cache_clear()
    warm_cluster(cluster, get_settings())  # the very settings the flow runs will hand to the workers
    return cluster
