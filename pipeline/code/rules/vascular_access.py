"""An implanted venous access port in the words of the ICD-10-PCS tables.

The PCS Index sends "Implanted (venous) (access) port" to "Vascular Access Device, Totally Implantable
in Subcutaneous Tissue and Fascia": a MediPort or Port-A-Cath placed for chemotherapy is the Insertion
of a totally implantable vascular access device (device W) into the subcutaneous tissue and fascia of
the chest, where its pocket is made, by an open approach (the pocket is cut); taking one out is its
Removal from the trunk's subcutaneous tissue. The catheter is part of the device and is not coded on
its own. A port in the arm is the upper arm's. The query this module writes is looked up in the PCS
code index like any procedure mention, so only codes the tables hold come back. The ports of a
laparoscopy ("port placement" for trocars) name no device, so a bare "port" is never read as one.
"""

from __future__ import annotations

import re

from pipeline.code.rules.specificity import mention_side

# the device by the names a dictation gives it: brand names, or "port" with a word that makes it an implant
_PORT = re.compile(
    r"\b(?:medi[- ]?port|port[- ]?a[- ]?cath|porta[- ]?cath|power[- ]?port|infus[- ]?a[- ]?port|bard\s+port"
    r"|(?:implant(?:ed|able)|(?:central\s+)?venous(?:\s+access)?|vascular\s+access|chemo(?:therapy)?|infusion|subcutaneous)"
    r"\s+(?:access\s+)?port)s?\b",
    re.I,
)
_REMOVAL = re.compile(r"\b(?:remov\w*|explant\w*|take\s*down|taken\s+out)\b", re.I)
_INSERTION = re.compile(r"\b(?:placement|placed|place|insert\w*|implant(?:ation|ed)?)\b", re.I)
_ARM = re.compile(r"\b(?:upper\s+)?arm\b", re.I)


def port_query(mention: str, preceding: str = "") -> str | None:
    """PCS-table words for the insertion or removal of an implanted venous access port, or None when the
    mention names no such device or no operation on it. ``preceding``: the words of its clause before it,
    which may name the operation ("Removal of" + "Port-A-Cath")."""
    if not _PORT.search(mention):
        return None
    clause = re.split(r"[.;:,()\n]", preceding)[-1]
    if not (_REMOVAL.search(mention) or _INSERTION.search(mention)):
        mention = f"{clause} {mention}"
    if _REMOVAL.search(mention):
        return "removal of totally implantable vascular access device from trunk subcutaneous tissue and fascia open approach"
    if not _INSERTION.search(mention):
        return None
    if _ARM.search(mention):
        side = mention_side(mention)
        where = f"{side + ' ' if side else ''}upper arm"
    else:
        where = "chest"
    return f"insertion of totally implantable vascular access device into {where} subcutaneous tissue and fascia open approach"
