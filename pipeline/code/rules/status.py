"""Status codes for procedures in the patient's past (Guidelines I.C.21.c.3).

A procedure the physician documents as past ("history of hysterectomy", "previous nephrectomy") was
not performed in this encounter, so it gets no ICD-10-PCS code; what it left behind is reported with
an ICD-10-CM status code: the absence of the organ it removed (Z90.710), the transplant (Z94.0), the
implant (Z96.641), the ostomy (Z93.3). The Alphabetic Index holds these under "Status (post)" and
"Absence, acquired", so the mention is looked up as "status post <procedure>" in the ICD-10-CM index;
only a close match to a status code (Z89-Z99) counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.code.lookup.candidates import Candidate

STATUS_CATEGORIES = tuple(f"Z{n}" for n in range(89, 100))  # Z89 acquired absence of limb ... Z99 dependence on machines
STATUS_MIN_SCORE = 0.75
PAST_PROCEDURE = (
    "a past procedure, not performed in this encounter: no ICD-10-PCS code (ICD-10-PCS reports this stay's procedures)"
)


def status_query(procedure: str) -> str:
    return f"status post {procedure}"


def status_candidate(candidates: Sequence[Candidate]) -> Candidate | None:
    """The best index candidate for a "status post <procedure>" query when it is a close status code."""
    best = candidates[0] if candidates else None
    if best is None or best.score < STATUS_MIN_SCORE or not best.code.startswith(STATUS_CATEGORIES):
        return None
    return best
