"""Joint replacement in the words of the ICD-10-PCS tables.

The PCS Index sends "Arthroplasty" to the root operations Replacement, Repair and Supplement of the
joint. A total joint arthroplasty ("right total knee arthroplasty", "left hip replacement") is the
Replacement of the joint with a synthetic substitute (device J), open approach; for hip and knee
joints the qualifier states whether the prosthesis was cemented (9) or uncemented (A). The query
this module writes is looked up in the PCS code index like any procedure mention, so only codes the
tables hold come back. Partial, unicompartmental, resurfacing, hemi- and revision arthroplasties
are left to the mention's own words (their device, qualifier or root operation differ).
"""

from __future__ import annotations

import re

from pipeline.code.rules.specificity import mention_side

_JOINT = r"(knee|hip|shoulder|ankle|elbow)"
_TOTAL = re.compile(
    rf"\b{_JOINT}\s+(?:joint\s+)?(?:arthroplasty|replacement)\b"
    rf"|\b(?:arthroplasty|replacement)\s+of\s+(?:the\s+)?(?:(?:right|left)\s+)?{_JOINT}\b",
    re.I,
)
_NOT_TOTAL = re.compile(
    r"\b(?:partial|unicompartmental|unicondylar|hemi-?\s*arthroplasty|resurfacing|revision|patellofemoral)\b", re.I
)
_UNCEMENTED = re.compile(r"\b(?:uncemented|cementless|non-?cemented|press[- ]fit)\b", re.I)
_CEMENTED = re.compile(r"\bcement(?:ed)?\b", re.I)
_CEMENT_QUALIFIER = ("knee", "hip")  # PCS qualifiers 9 / A exist for these joints only


def arthroplasty_query(mention: str, text: str | None = None) -> str | None:
    """PCS-table words for a total joint replacement mention, or None when it is not one.
    ``text``: the document, read for whether the components were cemented."""
    if _NOT_TOTAL.search(mention):
        return None
    m = _TOTAL.search(mention)
    if not m:
        return None
    joint = (m.group(1) or m.group(2)).lower()
    side = mention_side(mention)
    fixation = ""
    if joint in _CEMENT_QUALIFIER and text:
        fixation = " uncemented" if _UNCEMENTED.search(text) else " cemented" if _CEMENTED.search(text) else ""
    return f"replacement of {side + ' ' if side else ''}{joint} joint with synthetic substitute{fixation} open approach"
