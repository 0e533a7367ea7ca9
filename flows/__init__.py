"""Prefect flows: thin orchestration over the plain functions in ``pipeline.process``."""

from flows import _prefect_env  # noqa: F401  (must run before prefect is imported)
