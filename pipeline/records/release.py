"""Release of information: records handed to someone outside, de-identified by default, each
release recorded (who, to whom, why, when, which records, format, checksum of what left) in
``releases`` and in every released record's audit trail."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records import export
from pipeline.records.records import RecordError, load_records
from pipeline.store.audit import record as audit
from pipeline.store.models import Dictation, ReleaseOfInformation

EXTENSIONS = {"json": "json", "csv": "csv", "fhir": "fhir.json"}


@dataclass
class Release:
    row: ReleaseOfInformation
    content: str
    media_type: str
    replaced: dict  # what de-identification replaced, by kind (counts only)


def render(s: Session, ids: list[int], fmt: str, deidentify: bool = True) -> tuple[str, str, dict]:
    if fmt not in export.FORMATS:
        raise RecordError(f"format must be one of {', '.join(export.FORMATS)}")
    records = load_records(s, ids)
    if not deidentify:
        text, media = export.export(s, ids, fmt)
        return text, media, {}
    from pipeline.records.deid import deidentified_records

    clones, counts = deidentified_records(s, records)
    stand_ins = cast("list[Dictation]", clones)  # with the attributes the exports read
    if fmt == "fhir":
        from pipeline.records.fhir import bundle_for, bundle_json, validate

        bundle = bundle_for(stand_ins)
        validate(bundle)
        return bundle_json(bundle), "application/fhir+json", counts
    dicts = [export.record_dict(c) for c in stand_ins]
    return (export.to_json(dicts), "application/json", counts) if fmt == "json" else (export.to_csv(dicts), "text/csv", counts)


def release(
    s: Session,
    ids: list[int],
    *,
    actor: str,
    recipient: str,
    purpose: str,
    fmt: str = "json",
    deidentify: bool = True,
    archive: Path | None = None,
) -> Release:
    """Render, record and audit a release; a copy of what left is kept in ``archive`` (the
    accounting of disclosures), written before the caller's transaction commits."""
    recipient, purpose = (recipient or "").strip(), (purpose or "").strip()
    if not recipient:
        raise RecordError("say to whom the records are released")
    if not purpose:
        raise RecordError("say why the records are released (purpose)")
    if not ids:
        raise RecordError("choose at least one record to release")
    ids = list(dict.fromkeys(int(i) for i in ids))
    content, media, counts = render(s, ids, fmt, deidentify)
    row = ReleaseOfInformation(
        released_by=actor,
        recipient=recipient[:200],
        purpose=purpose,
        format=fmt,
        deidentified=deidentify,
        dictation_ids=ids,
        record_count=len(ids),
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        file_name="",
    )
    s.add(row)
    s.flush()
    row.file_name = f"release-{row.id}{'-deid' if deidentify else ''}.{EXTENSIONS[fmt]}"
    if archive is not None:
        archive.mkdir(parents=True, exist_ok=True)
        tmp = archive / (row.file_name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(archive / row.file_name)
    audit(
        s,
        actor,
        "release",
        after={
            "release_id": row.id,
            "recipient": row.recipient,
            "purpose": purpose,
            "format": fmt,
            "deidentified": deidentify,
            "records": ids,
        },
    )
    for rid in ids:
        audit(
            s,
            actor,
            "release",
            dictation_id=rid,
            after={"release_id": row.id, "recipient": row.recipient, "deidentified": deidentify},
        )
    return Release(row, content, media, counts)


def archive_dir(settings) -> Path:
    return settings.data_dir / "releases"


def archived_file(settings, row: ReleaseOfInformation) -> Path:
    path = archive_dir(settings) / row.file_name
    if not path.is_file():
        raise RecordError(f"the file of release {row.id} is not in {archive_dir(settings)}")
    return path


def releases(s: Session, limit: int = 200) -> list[ReleaseOfInformation]:
    newest = (ReleaseOfInformation.released_at.desc(), ReleaseOfInformation.id.desc())
    return list(s.scalars(select(ReleaseOfInformation).order_by(*newest).limit(limit)))


__all__ = ["Release", "archive_dir", "archived_file", "release", "releases", "render"]
