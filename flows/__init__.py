"""Prefect flows: thin orchestration over :class:`pipeline.stages.StageRunner` and the drop folder (:mod:`pipeline.intake.runner`)."""

from flows import _prefect_env  # noqa: F401  (must run before prefect is imported)
