"""Datetimes from either database as aware UTC (SQLite hands them back naive)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(dt: datetime) -> datetime: ...
@overload
def as_utc(dt: None) -> None: ...
def as_utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
