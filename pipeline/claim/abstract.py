"""The inpatient abstract: what a hospital claim needs beyond the codes.

Admission and discharge dates, the UB-04 admission type (FL 14), point of origin (FL 15) and
discharge status (FL 17) as data (``data/ub04_codes.json``, with its CMS source), a POA indicator
per diagnosis (``pipeline.claim.poa``), the principal procedure and a date per procedure.

Where it comes from, in order: what a coder saved in the review app (the ``inpatient_abstracts``
row); else the abstract sidecar ``NAME.abstract.json`` next to the dictation; else nothing (the
review app asks for it). The shared dictation sidecar (``pipeline.intake.sidecar``, read here only)
refuses unknown fields, so the abstract's fields travel in their own file, validated the same way
(unknown fields refused, errors name the field and never the value)::

    {"admission_date": "2026-11-18", "discharge_date": "2026-11-21", "admission_type": "1",
     "admission_source": "1", "discharge_status": "01", "service": "medicine",
     "poa": {"I50.23": "Y", "N17.9": "N"}, "principal_procedure": "5A1955Z",
     "procedure_dates": {"5A1955Z": "2026-11-19"}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.claim.poa import Poa, is_poa_exempt, undotted
from pipeline.errors import PipelineError

DATA_DIR = Path(__file__).parent / "data"
MAX_ABSTRACT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Ub04Codes:
    source: str
    admission_type: dict[str, str]
    admission_source: dict[str, str]
    discharge_status: dict[str, str]
    poa_indicator: dict[str, str]


@lru_cache(maxsize=1)
def ub04_codes() -> Ub04Codes:
    raw = json.loads((DATA_DIR / "ub04_codes.json").read_text(encoding="utf-8"))
    return Ub04Codes(raw["source"], raw["admission_type"], raw["admission_source"], raw["discharge_status"], raw["poa_indicator"])


@dataclass(frozen=True)
class DiagnosisLine:
    code: str  # dotted or not, as coded
    poa: Poa | None
    poa_confirmed: bool = False
    principal: bool = False


@dataclass(frozen=True)
class ProcedureLine:
    code: str
    performed_on: date | None
    principal: bool = False


@dataclass(frozen=True)
class InpatientAbstract:
    admission_date: date | None
    discharge_date: date | None
    admission_type: str | None  # UB-04 FL 14
    admission_source: str | None  # UB-04 FL 15
    discharge_status: str | None  # UB-04 FL 17, two digits
    service: str | None = None
    diagnoses: tuple[DiagnosisLine, ...] = ()
    procedures: tuple[ProcedureLine, ...] = ()
    source: str = "none"  # coder | sidecar | none

    @property
    def length_of_stay(self) -> int | None:
        """Days (discharge minus admission; a same-day stay counts one)."""
        if self.admission_date is None or self.discharge_date is None:
            return None
        return max(1, (self.discharge_date - self.admission_date).days)

    @property
    def principal_procedure(self) -> ProcedureLine | None:
        return next((p for p in self.procedures if p.principal), None)

    def missing(self) -> tuple[str, ...]:
        """What a claim still lacks (names of fields)."""
        out = [
            n
            for n in ("admission_date", "discharge_date", "admission_type", "admission_source", "discharge_status")
            if getattr(self, n) is None
        ]
        out += [f"poa {d.code}" for d in self.diagnoses if d.poa is None]
        out += [f"date of {p.code}" for p in self.procedures if p.performed_on is None]
        return tuple(out)


class AbstractError(PipelineError):
    """An abstract (sidecar or form) that cannot be used; ``problems`` lists one line per field."""

    kind = "abstract"

    def __init__(self, where: str, problems: list[str]):
        self.problems = problems
        self.reason = f"{where}: " + "; ".join(problems)
        super().__init__(self.reason)


class AbstractFields(BaseModel):
    """The editable fields of an abstract, validated (sidecar file and review form alike)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    admission_date: date | None = None
    discharge_date: date | None = None
    admission_type: str | None = Field(default=None, max_length=2)
    admission_source: str | None = Field(default=None, max_length=2)
    discharge_status: str | None = Field(default=None, max_length=2)
    service: str | None = Field(default=None, min_length=1, max_length=80)
    poa: dict[str, str] = Field(default_factory=dict)
    principal_procedure: str | None = Field(default=None, max_length=7)
    procedure_dates: dict[str, date] = Field(default_factory=dict)

    @field_validator("admission_type", "admission_source", "discharge_status", "service", "principal_procedure", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        if isinstance(v, str) and not v.strip():
            return None
        if isinstance(v, int):
            return str(v)
        return v

    @field_validator("admission_type")
    @classmethod
    def _type(cls, v):
        if v is not None and v not in ub04_codes().admission_type:
            raise ValueError("not a UB-04 admission type (FL 14): " + ", ".join(ub04_codes().admission_type))
        return v

    @field_validator("admission_source")
    @classmethod
    def _source(cls, v):
        if v is not None and v.upper() not in ub04_codes().admission_source:
            raise ValueError("not a UB-04 point of origin (FL 15): " + ", ".join(ub04_codes().admission_source))
        return v.upper() if v else v

    @field_validator("discharge_status")
    @classmethod
    def _status(cls, v):
        if v is not None:
            v = v.zfill(2)
            if v not in ub04_codes().discharge_status:
                raise ValueError("not a UB-04 patient discharge status (FL 17)")
        return v

    @field_validator("poa")
    @classmethod
    def _poa(cls, v: dict[str, str]):
        out = {}
        for code, ind in v.items():
            ind = (ind or "").strip().upper()
            if ind not in {p.value for p in Poa}:
                raise ValueError("POA indicators are Y, N, U, W or 1")
            if ind == Poa.EXEMPT.value and not is_poa_exempt(code):
                raise ValueError(f"{code} is not on the POA-exempt list: use Y, N, U or W")
            if ind != Poa.EXEMPT.value and is_poa_exempt(code):
                raise ValueError(f"{code} is POA-exempt: its indicator is 1")
            out[undotted(code)] = ind
        return out

    @model_validator(mode="after")
    def _dates(self) -> AbstractFields:
        if self.admission_date and self.discharge_date and self.discharge_date < self.admission_date:
            raise ValueError("discharge_date: lies before admission_date")
        for code, day in self.procedure_dates.items():
            if self.admission_date and day < self.admission_date:
                raise ValueError(f"procedure_dates: {code} lies before admission_date")
            if self.discharge_date and day > self.discharge_date:
                raise ValueError(f"procedure_dates: {code} lies after discharge_date")
        return self


def _problems(e: ValidationError) -> list[str]:
    out = []
    for err in e.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (allowed: " + ", ".join(AbstractFields.model_fields) + ")"
        out.append(f"{where}: {msg}" if where else msg)
    return out


def parse_abstract(data: bytes | dict, where: str = "abstract") -> AbstractFields:
    """Validate raw abstract JSON (or a dict from a form); :class:`AbstractError` names each bad field."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_ABSTRACT_BYTES:
            raise AbstractError(where, [f"larger than {MAX_ABSTRACT_BYTES // 1024} KB"])
        try:
            data = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise AbstractError(where, [f"not valid JSON ({type(e).__name__})"]) from None
    if not isinstance(data, dict):
        raise AbstractError(where, ["must be a JSON object {...}"])
    try:
        return AbstractFields.model_validate(data)
    except ValidationError as e:
        raise AbstractError(where, _problems(e)) from None


def abstract_sidecar_path(media: str | Path) -> Path:
    media = Path(media)
    return media.with_name(media.stem + ".abstract.json")


def read_abstract_sidecar(media: str | Path) -> AbstractFields | None:
    """The abstract sidecar next to a dictation, validated; None when there is none."""
    path = abstract_sidecar_path(media)
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise AbstractError(path.name, ["not a regular file (links are not followed)"])
    with open(path, "rb") as f:
        return parse_abstract(f.read(MAX_ABSTRACT_BYTES + 1), path.name)


def build_abstract(
    fields: AbstractFields | None,
    diagnoses: list[tuple[str, bool]],
    procedures: list[str],
    proposed_poa: dict[str, Poa | None] | None = None,
    source: str = "none",
    service_date: date | None = None,
) -> InpatientAbstract:
    """The abstract of one record: the saved or sidecar fields over its working codes.

    ``diagnoses`` are (code, principal) in reported order; a POA the fields give is confirmed,
    one only proposed from the text is not; an exempt code is always 1 (and confirmed).
    ``procedures`` in reported order; the principal is the one named, else the first.
    """
    f = fields or AbstractFields()
    proposed_poa = proposed_poa or {}
    dx = []
    for code, principal in diagnoses:
        key = undotted(code)
        if is_poa_exempt(code):
            dx.append(DiagnosisLine(code, Poa.EXEMPT, True, principal))
        elif key in f.poa:
            dx.append(DiagnosisLine(code, Poa(f.poa[key]), True, principal))
        else:
            dx.append(DiagnosisLine(code, proposed_poa.get(key), False, principal))
    principal_px = f.principal_procedure or (procedures[0] if procedures else None)
    px = tuple(
        ProcedureLine(code, f.procedure_dates.get(code), undotted(code) == undotted(principal_px or "")) for code in procedures
    )
    return InpatientAbstract(
        admission_date=f.admission_date or (service_date if source == "none" else None),
        discharge_date=f.discharge_date,
        admission_type=f.admission_type,
        admission_source=f.admission_source,
        discharge_status=f.discharge_status,
        service=f.service,
        diagnoses=tuple(dx),
        procedures=px,
        source=source,
    )


__all__ = [
    "AbstractError",
    "AbstractFields",
    "DiagnosisLine",
    "InpatientAbstract",
    "ProcedureLine",
    "Ub04Codes",
    "abstract_sidecar_path",
    "build_abstract",
    "parse_abstract",
    "read_abstract_sidecar",
    "ub04_codes",
]
