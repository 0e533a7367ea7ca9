"""One typed settings object for the whole product.

Values come from (highest first) explicit arguments, ``MRT_*`` environment variables,
a ``.env`` file in the working directory, then the defaults below.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "mrt"

Backend = Literal["faster-whisper", "openai-whisper"]
CareSetting = Literal["outpatient", "inpatient"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MRT_", env_file=".env", extra="ignore", frozen=True)

    # Where things live
    data_dir: Path = Field(default_factory=_default_data_dir, description="Database, archive, quarantine")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Converted models and indexes")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite file in data_dir (postgresql+psycopg2://... for sites)"
    )

    # Media
    max_duration_s: float = Field(default=4 * 3600, description="Longer media is refused as absurd")
    min_duration_s: float = Field(default=0.2, description="Shorter media is refused as empty")
    max_file_bytes: int = Field(default=4 * 1024**3)

    # Transcription
    transcribe_backend: Backend = "faster-whisper"
    whisper_model: str = Field(default="tiny.en", description="Model name (tiny.en, base, ...) or a model directory/file")
    compute_type: str = Field(default="int8", description="faster-whisper compute type on CPU")
    device: str = "cpu"
    cpu_threads: int = 0
    beam_size: int = 5
    language: str | None = "en"
    vad_filter: bool = True

    # Extraction and coding
    care_setting: CareSetting = "outpatient"
    max_codes_per_entity: int = 3
    min_code_score: float = 0.5

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mrt.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
