#!/usr/bin/env python
"""Build ``pipeline/extract/data/procedure_lexicon.json`` for ``mrt_procedures``.

From ICD-10-PCS (public domain, CMS; in ``../shared/data/icd10``): the body part names of the
FY2026 Tables (Medical and Surgical section, 4th character) and the Body Part Key synonyms, split
into single lower-case anatomical words ("kidney", "radius", "tunnel"), and the root operations
with their definitions' names. Words that are also common English (``STOP``) are dropped. Root
operation nouns as clinicians say them, approach words and lesion words are added by hand below.

Usage: ``python scripts/build_procedure_lexicon.py [--src DIR]``
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT.parent / "shared" / "data" / "icd10"
OUT = ROOT / "pipeline" / "extract" / "data" / "procedure_lexicon.json"

STOP = {
    "and", "or", "of", "the", "with", "left", "right", "bilateral", "upper", "lower", "other", "body", "part",
    "system", "region", "general", "total", "lateral", "medial", "anterior", "posterior", "head", "no", "not",
    "first", "second", "third", "fourth", "fifth", "one", "two", "single", "multiple", "device", "tissue",
    "substitute", "to", "in", "on", "for", "a", "an", "site", "sites", "entire", "subcutaneous", "lesser",
    "greater", "common", "internal", "external", "deep", "superficial", "short", "long", "small", "large",
    "distal", "proximal", "main", "minor", "major", "middle", "inferior", "superior", "accessory", "lobe", "segment",
}

# ICD-10-PCS root operations and the nouns clinicians use for them.
ROOT_OPERATIONS = [
    "alteration", "bypass", "change", "control", "creation", "destruction", "detachment", "dilation", "dilatation",
    "division", "drainage", "excision", "extirpation", "extraction", "fragmentation", "fusion", "insertion",
    "inspection", "mapping", "occlusion", "reattachment", "release", "removal", "repair", "replacement",
    "reposition", "resection", "restriction", "revision", "supplement", "transfer", "transplantation", "transplant",
    "amputation", "biopsy", "biopsies", "reduction", "fixation", "anastomosis", "closure", "debridement",
    "ligation", "incision", "implantation", "placement", "exploration", "decompression", "reconstruction",
    "augmentation", "injection", "aspiration", "evacuation", "catheterization", "ablation", "cryoablation",
    "stenting", "grafting", "dissection", "lysis", "embolization", "cauterization", "excisional",
    "manipulation", "irrigation", "marsupialization", "cerclage", "banding", "circumcision", "cystoscopy",
    "arthroscopy", "endoscopy", "colonoscopy", "bronchoscopy", "laparoscopy", "thoracoscopy", "cardioversion",
    "transfusion", "intubation", "tracheostomy", "dialysis", "puncture",
    "lavage", "curettage", "stripping", "thermocoagulation", "advancement", "relocation", "tuck", "instrumentation",
    "arthrodesis", "cath", "catheterization", "stenting", "repositioning", "fixation",
]
APPROACHES = [
    "open", "percutaneous", "endoscopic", "laparoscopic", "arthroscopic", "thoracoscopic", "robotic",
    "robotic-assisted", "robot-assisted", "transurethral", "transvaginal", "transanal", "transoral",
    "transcatheter", "ultrasound-guided", "fluoroscopic", "fluoroscopically", "minimally", "invasive",
    "diagnostic", "operative", "exploratory", "total", "partial", "subtotal", "radical", "modified", "simple",
    "primary", "revision", "bilateral", "left", "right", "excisional", "incisional", "needle",
    "core", "wide", "local", "elective", "anterior", "posterior", "lateral", "medial", "inferior",
    "superior", "middle", "distal", "proximal", "upper", "lower", "selective", "rigid", "flexible", "closed",
    "punch", "shave", "laser", "microscopic", "extraoral", "intraoral", "anterograde", "retrograde",
    "internal", "external", "extended", "limited", "complete", "diagnostic", "therapeutic", "assisted",
    "low", "high", "first", "second", "third", "fourth", "fifth",
]
# procedure names that have no root operation word or surgical suffix
NAMED = [
    "cesarean section", "c-section", "examination under anesthesia", "exam under anesthesia", "lumbar puncture",
    "spinal tap", "bronchoalveolar lavage", "tubal ligation", "heart cath", "cardiac cath", "bone graft",
    "bone grafts", "skin graft", "nail fixation", "screw fixation", "wire fixation", "stent exchange",
    "d&c", "dilation and curettage", "dilatation and curettage", "suction curettage", "carpal tunnel release",
]
LESIONS = [
    "mass", "masses", "lesion", "lesions", "hernia", "cyst", "cysts", "tumor", "fracture", "fractures",
    "abscess", "wound", "laceration", "polyp", "polyps", "stone", "stones", "calculus", "cataract", "foreign",
    "nodule", "nodules", "aneurysm", "fistula", "hematoma", "ulcer", "carcinoma", "melanoma", "lipoma",
    "tunnel", "cuff", "ligament", "tendon", "meniscus", "hemorrhoids", "hemorrhoid", "varicose", "veins",
    "adhesions", "obstruction", "stricture", "prolapse", "dislocation", "tear", "cord", "node", "nodes",
    "nevus", "nevi", "neuroma", "infection", "defect", "tooth", "teeth", "scar", "hemoperitoneum", "phimosis",
    "paraphimosis", "device", "tube", "valve", "vessels", "vessel", "anastomosis", "gallbladder", "appendix",
    "implant", "prosthesis", "catheter", "port", "sinus", "disk", "disc", "space", "complex", "effusion",
    "stent", "shunt", "pacemaker", "graft", "basket", "forehead",
]


def body_words(src: Path) -> set[str]:
    words: set[str] = set()
    names: list[str] = []
    tree = ET.parse(src / "pcs-2026" / "icd10pcs_tables_2026.xml")
    for table in tree.getroot().iter("pcsTable"):
        section = table.find("axis[@pos='1']/label")
        if section is None or section.get("code") != "0":
            continue
        for label in table.iterfind("pcsRow/axis[@pos='4']/label"):
            names.append(label.text or "")
    key = json.loads((src / "pcs-2025" / "body_part_key.json").read_text())
    for term, preferred in key["data"].items():
        names.append(term)
        names.extend(preferred)
    for name in names:
        for w in re.findall(r"[a-z]+", name.lower()):
            if len(w) > 2 and w not in STOP:
                words.add(w)
    return words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=SRC)
    args = ap.parse_args()
    words = body_words(args.src)
    data = {
        "source": "ICD-10-PCS FY2026 Tables (body part axis) + Body Part Key; hand lists in scripts/build_procedure_lexicon.py",
        "root_operations": sorted(set(ROOT_OPERATIONS)),
        "approaches": sorted(set(APPROACHES)),
        "lesions": sorted(set(LESIONS)),
        "named": sorted(set(NAMED)),
        "body_parts": sorted(words - set(ROOT_OPERATIONS) - set(APPROACHES)),
    }
    OUT.write_text(json.dumps(data, indent=0) + "\n")
    print(f"{len(data['body_parts'])} body part words, {len(data['root_operations'])} root operation nouns -> {OUT}")


if __name__ == "__main__":
    main()
