"""The two deployments a site runs, and the two ways to run them.

* ``drop-folder``: every ``MRT_SCAN_INTERVAL_S`` seconds, one pass over the drop folder
  (at most one run at a time; a run that would overlap is cancelled);
* ``nightly``: cron ``MRT_NIGHTLY_CRON`` (default ``0 2 * * *``) in ``MRT_TIMEZONE`` (default:
  this machine's zone): the backlog, retries and the daily summary.

``mrt deploy`` serves both from one process (:func:`serve_deployments`); ``mrt deploy
--work-pool POOL`` registers them with a work pool instead (:func:`deploy_to_work_pool`), for
``prefect worker start --pool POOL`` on one or more hosts. Both need a Prefect server
(``prefect server start``) and ``PREFECT_API_URL`` pointing at it: the schedules live there.
"""

from __future__ import annotations

from pathlib import Path

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron, Interval

from flows import _prefect_env  # noqa: F401
from flows.dropfolder import drop_folder
from flows.nightly import nightly_batch
from flows.scaleout import start_shared_cluster
from pipeline.settings import Settings, get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DROP_FOLDER = "drop-folder"
NIGHTLY = "nightly"
# module paths, not file paths: a flow loaded from a file gets a made-up module name, and its
# tasks could then not be unpickled on the Dask workers
ENTRYPOINTS = {DROP_FOLDER: "flows.dropfolder.drop_folder", NIGHTLY: "flows.nightly.nightly_batch"}


def api_url() -> str | None:
    """The Prefect server this process talks to (environment or Prefect profile), if any."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def deployment_specs(settings: Settings | None = None) -> dict[str, dict]:
    """Name -> keyword arguments (schedules, concurrency, description) of each deployment."""
    settings = settings or get_settings()
    tz = settings.resolved_timezone
    return {
        DROP_FOLDER: {
            "schedules": [Interval(settings.scan_interval_s, timezone=tz)],
            "concurrency_limit": ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
            "description": "One pass over the drop folder: complete dictations coded and archived, bad ones quarantined.",
            "tags": ["mrt", "drop-folder"],
        },
        NIGHTLY: {
            "schedules": [Cron(settings.nightly_cron, timezone=tz)],
            "concurrency_limit": ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            "description": "The backlog, retries of failed dictations with backoff, and the daily summary.",
            "tags": ["mrt", "nightly"],
        },
    }


def runner_deployments(settings: Settings | None = None) -> list:
    from prefect.deployments.runner import EntrypointType

    specs = deployment_specs(settings)
    return [
        drop_folder.to_deployment(name=DROP_FOLDER, entrypoint_type=EntrypointType.MODULE_PATH, **specs[DROP_FOLDER]),
        nightly_batch.to_deployment(name=NIGHTLY, entrypoint_type=EntrypointType.MODULE_PATH, **specs[NIGHTLY]),
    ]


def serve_deployments(settings: Settings | None = None, keep_cluster: bool = True) -> None:
    """Serve both deployments from this process until stopped (Ctrl-C, SIGTERM).

    Without ``MRT_DASK_ADDRESS`` a local Dask cluster is started here and kept warm, and the
    flow runs (subprocesses of this one) use it, so models load once per worker, not per run.
    """
    from prefect import serve

    settings = settings or get_settings()
    cluster = None
    if keep_cluster and not settings.dask_address:
        cluster = start_shared_cluster(settings)
    try:
        # schedules stay active when this process stops (a restart must not leave them paused)
        serve(*runner_deployments(get_settings()), limit=4, pause_on_shutdown=False)
    finally:
        if cluster is not None:
            cluster.close()


def deploy_to_work_pool(pool: str, settings: Settings | None = None) -> list[str]:
    """Register both deployments with a work pool (the code is read from this checkout's path on
    the worker hosts, so install the project at the same path there). Returns deployment ids."""
    from prefect import flow as prefect_flow

    specs = deployment_specs(settings)
    ids = []
    for name, entrypoint in ENTRYPOINTS.items():
        remote = prefect_flow.from_source(source=str(PROJECT_ROOT), entrypoint=entrypoint)
        ids.append(
            str(remote.deploy(name=name, work_pool_name=pool, build=False, push=False, print_next_steps=False, **specs[name]))
        )
    return ids
