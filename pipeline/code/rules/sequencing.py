"""Suggest the principal (inpatient) or first-listed (outpatient) diagnosis among the proposals.

The coder decides; the suggestion is the CM proposal the physician states as the diagnosis, else the
best-scored one, that may stand first:

* not a manifestation code ("in diseases classified elsewhere": never principal, I.A.13);
* not a code whose "code first" note names another proposed code (N18.30 after E11.22 / I12.9);
* not an external-cause code (V00-Y99: never first-listed, I.C.20);
* not a sign or symptom (R00-R99) when a definitive diagnosis is proposed (II.A, IV.D);
* not a code of the patient's circumstances, history or status (Z55-Z99: social determinants,
  family and personal history, long-term drug therapy, allergy, device and dependence status) when a
  current condition is proposed (I.C.21.c: these are secondary codes).

An encounter the note says is for antineoplastic therapy (Z51.0, Z51.1-: "admitted for cycle six of
CIVI-CAD") stands first whatever else is proposed, the malignancy after it (I.C.2.e.2).

It moves to the front of the list (the store marks the first CM proposal as principal) and its
rationale says why; the other proposals keep their score order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.code.types import CM, CodeProposal, Reason, ReasonKind


def _rank(p: CodeProposal, others: Sequence[str] = ()) -> int:
    from pipeline.code.edits.tabular import code_first_notes, is_manifestation

    c = p.code
    if is_manifestation(c) or "V" <= c[0] <= "Y":
        return 3
    keys = [o.replace(".", "") for o in others if o != c]
    if any(n.covers(k) for n in code_first_notes(c) for k in keys):
        return 2
    if c.startswith("R") or (c.startswith("Z") and c[1:3] >= "55"):
        return 1
    return 0


def sequence(proposals: Sequence[CodeProposal], setting: str, stated: Sequence[str] = ()) -> list[CodeProposal]:
    """``proposals`` (best first) with the suggested principal/first-listed diagnosis first. Among
    codes that may stand first, one the physician states as the diagnosis (``stated``: assessment,
    admission or discharge diagnosis) comes before a better-scored one found elsewhere."""
    cm = [(i, p) for i, p in enumerate(proposals) if p.system == CM]
    if not cm:
        return list(proposals)
    codes = [p.code for _, p in cm]
    order = {c: n for n, c in enumerate(stated)}  # the physician's own order
    therapy = [ip for ip in cm if ip[1].has(ReasonKind.THERAPY_ENCOUNTER)]
    i, best = therapy[0] if therapy else min(cm, key=lambda ip: (_rank(ip[1], codes), order.get(ip[1].code, len(order)), ip[0]))
    if _rank(best, codes) == 3:
        return list(proposals)
    kind = "principal diagnosis" if setting == "inpatient" else "first-listed diagnosis"
    reason = (
        "the encounter is for antineoplastic therapy; I.C.2.e.2"
        if therapy
        else "the physician's stated diagnosis"
        if best.code in stated and _rank(best, codes) == 0
        else "best-scored definitive diagnosis"
        if _rank(best, codes) == 0
        else "best-scored code that may stand first"
    )
    first = best.because(Reason(ReasonKind.SEQUENCED_FIRST, (best.code,), f"suggested {kind} ({reason}; Guidelines II / IV.A)"))
    return [first] + [p for j, p in enumerate(proposals) if j != i]
