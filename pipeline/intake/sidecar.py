"""Sidecar metadata: ``NAME.json`` next to a dropped dictation.

A sidecar is a flat JSON object; every field is optional, unknown fields are refused (a
misspelt ``date_of_sevice`` must not silently vanish)::

    {"mrn": "A123456", "patient_name": "Jane Doe", "birth_date": "1950-02-03", "sex": "F",
     "encounter_id": "E-2024-0042", "physician": "Dr. Smith", "date_of_service": "2024-05-06",
     "document_type": "discharge_summary", "setting": "inpatient", "priority": "stat"}

For ``visit 1.mp3`` the sidecar is ``visit 1.mp3.json`` or ``visit 1.json``. Errors name the
field and the rule it breaks, never the value (values are patient data and error texts end up
in logs and the Prefect UI).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import PipelineError

MAX_SIDECAR_BYTES = 64 * 1024
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_DOCTYPE = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]*$")
_SEX = {"f": "F", "female": "F", "m": "M", "male": "M", "x": "X", "other": "X", "u": "U", "unknown": "U"}
_PRIORITY = {"routine": "routine", "normal": "routine", "urgent": "urgent", "stat": "stat"}


class SidecarError(PipelineError):
    """The sidecar cannot be used; ``problems`` lists one line per field."""

    kind = "sidecar"

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        self.reason = f"sidecar {self.path.name}: " + "; ".join(problems)
        super().__init__(self.reason)


class Sidecar(BaseModel):
    """Validated metadata of one dictation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    mrn: str | None = Field(default=None, min_length=1, max_length=64)
    patient_name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: date | None = None
    sex: Literal["F", "M", "X", "U"] | None = None
    encounter_id: str | None = Field(default=None, min_length=1, max_length=64)
    physician: str | None = Field(default=None, min_length=1, max_length=200)
    date_of_service: date | None = None
    document_type: str | None = Field(default=None, min_length=1, max_length=80)
    specialty: str | None = Field(default=None, min_length=1, max_length=80)  # chooses the transcription vocabulary
    setting: Literal["inpatient", "outpatient"] | None = None
    priority: Literal["routine", "urgent", "stat"] | None = None
    # the inpatient abstract (admission and discharge dates, UB-04 codes, POA, procedure dates): checked
    # field by field by pipeline.claim.abstract.parse_abstract when the claim is built
    abstract: dict | None = None

    @field_validator("mrn", "encounter_id")
    @classmethod
    def _identifier(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError("letters, digits and . _ / - only, starting with a letter or digit")
        return v

    @field_validator("patient_name", "physician", "specialty")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        if v is not None and not v.isprintable():
            raise ValueError("contains control characters")
        return v

    @field_validator("document_type", mode="before")
    @classmethod
    def _doctype(cls, v):
        if isinstance(v, str):
            v = v.strip()
            if not _DOCTYPE.match(v):
                raise ValueError("letters, digits, spaces, _ and - only (e.g. discharge_summary)")
            return re.sub(r"[\s-]+", "_", v.lower())
        return v

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v):
        if isinstance(v, str):
            if v.strip().lower() not in _SEX:
                raise ValueError("must be F, M, X or U")
            return _SEX[v.strip().lower()]
        return v

    @field_validator("setting", mode="before")
    @classmethod
    def _setting(cls, v):
        if isinstance(v, str):
            if v.strip().lower() not in ("inpatient", "outpatient"):
                raise ValueError("must be inpatient or outpatient")
            return v.strip().lower()
        return v

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, v):
        if isinstance(v, str):
            if v.strip().lower() not in _PRIORITY:
                raise ValueError("must be routine, urgent or stat")
            return _PRIORITY[v.strip().lower()]
        return v

    @field_validator("birth_date", "date_of_service", mode="before")
    @classmethod
    def _iso_date(cls, v):
        if isinstance(v, str):
            try:
                return date.fromisoformat(v.strip())
            except ValueError:
                raise ValueError("not a valid date (YYYY-MM-DD)") from None
        if v is not None and not isinstance(v, date):
            raise ValueError("not a valid date (YYYY-MM-DD)")
        return v

    @model_validator(mode="after")
    def _dates_make_sense(self) -> Sidecar:
        tomorrow = date.today() + timedelta(days=1)  # a site's clock may run ahead of ours by a time zone
        if self.birth_date and not (date(1880, 1, 1) <= self.birth_date <= tomorrow):
            raise ValueError("birth_date: must lie between 1880-01-01 and today")
        if self.date_of_service and self.date_of_service > tomorrow:
            raise ValueError("date_of_service: lies in the future")
        if self.birth_date and self.date_of_service and self.date_of_service < self.birth_date:
            raise ValueError("date_of_service: lies before birth_date")
        if self.patient_name and not self.mrn:
            raise ValueError("mrn: required when patient_name is given (patients are matched by MRN)")
        return self

    @property
    def has_patient(self) -> bool:
        return self.mrn is not None

    @property
    def has_encounter(self) -> bool:
        return any(v is not None for v in (self.encounter_id, self.physician, self.date_of_service, self.setting))


def _problems(e: ValidationError) -> list[str]:
    out = []
    for err in e.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (allowed: " + ", ".join(Sidecar.model_fields) + ")"
        elif err["type"] == "literal_error":
            msg = "not an allowed value (" + msg.removeprefix("Input should be ") + ")"
        elif err["type"] in ("string_type", "date_type"):
            msg = "must be a text value" if err["type"] == "string_type" else msg
        elif err["type"] == "string_too_long":
            msg = f"too long (at most {err['ctx']['max_length']} characters)"
        elif err["type"] == "string_too_short":
            msg = "is empty"
        out.append(f"{field}: {msg}" if field else msg)
    return out


def parse_sidecar(data: bytes, path: str | Path = "sidecar.json") -> Sidecar:
    """Validate raw sidecar bytes; :class:`SidecarError` says what is wrong with which field."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise SidecarError(path, [f"larger than {MAX_SIDECAR_BYTES // 1024} KB: not a sidecar"])
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SidecarError(path, ["not UTF-8 text"]) from None
    except json.JSONDecodeError as e:
        raise SidecarError(path, [f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"]) from None
    if not isinstance(obj, dict):
        raise SidecarError(path, ["must be a JSON object {...}"])
    try:
        return Sidecar.model_validate(obj)
    except ValidationError as e:
        raise SidecarError(path, _problems(e)) from None


def read_sidecar(path: str | Path) -> Sidecar:
    """Read and validate a sidecar file (a regular file, not a link)."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise SidecarError(path, ["not a regular file (links are not followed)"])
    with open(path, "rb") as f:
        data = f.read(MAX_SIDECAR_BYTES + 1)
    return parse_sidecar(data, path)


def sidecar_path(media: str | Path) -> Path | None:
    """The sidecar file of a media file, as the drop folder pairs them: ``NAME.wav.json`` first,
    else ``NAME.json``; None when there is neither."""
    media = Path(media)
    for path in (media.with_name(media.name + ".json"), media.with_suffix(".json")):
        if path.exists() or path.is_symlink():
            return path
    return None


def sidecar_for(media: str | Path) -> Sidecar | None:
    """The validated sidecar next to a media file (:func:`sidecar_path`), or None when there is
    none. A malformed one raises :class:`SidecarError` naming its problems. Every entry path (the
    CLI flow, the drop folder) reads sidecars with :func:`read_sidecar`."""
    path = sidecar_path(media)
    return read_sidecar(path) if path is not None else None
