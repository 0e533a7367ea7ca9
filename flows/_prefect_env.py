"""Prefect settings for a clean terminal, applied before Prefect is imported.

The ephemeral local API (no server to start) stays on, started so that it dies with this
process (:mod:`flows._server_guard`); its anonymous analytics and
telemetry are off, and its background services that only matter to a long-running server
(and that poll SQLite, printing "database is locked" tracebacks under load) are off.
Every value here is a default: an environment variable or Prefect profile set by the
site wins.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
    "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CLEANUP_RECONCILER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "false",
}


def apply() -> None:
    if os.environ.get("PREFECT_API_URL"):
        return  # talking to a real server: its own settings rule
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    from flows._server_guard import install

    install()  # the ephemeral server dies with this process, even on kill -9


apply()
