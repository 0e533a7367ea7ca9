#!/usr/bin/env python
"""Build the clinical term lexicon that the terminology entity recognizer ships with.

Sources (public domain, CDC/NCHS and CMS): the ICD-10-CM Alphabetic Index and Table of Drugs
(FY2025, from ``../shared/data/icd10``), ICD-10-CM FY2026 tabular descriptions and inclusion
terms (``simple-icd-10-cm``), the ICD-10-PCS Index (FY2025). Plus the hand-kept lists in
``pipeline/extract/data/curated_terms.tsv``.

Also the dictation's wordings of those findings (:func:`finding_variants`: plurals, site adjectives).

Output: ``pipeline/extract/data/terms.tsv.gz`` with columns term, label, source.
Labels: PROBLEM (diagnoses, disorders, injuries), SYMPTOM, PROCEDURE, MEDICATION, TEST.

    python scripts/build_lexicon.py [--source ../shared/data/icd10]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import simple_icd_10_cm as cm

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "pipeline" / "extract" / "data" / "terms.tsv.gz"
CURATED = ROOT / "pipeline" / "extract" / "data" / "curated_terms.tsv"
BLOCK = ROOT / "pipeline" / "extract" / "data" / "blocked_terms.txt"

_PAREN = re.compile(r"\s*\([^)]*\)")
_STRIP_PHRASES = re.compile(
    r",? (unspecified|not elsewhere classified|NEC|NOS|without complications?|"
    r"of unspecified site|unspecified site|unspecified type|of unspecified organism|organism)\b.*$",
    re.I,
)
_PREP = re.compile(r"\b(with|without|due to|in|of|from|following|for|and|by|see|code|NEC|NOS|other|specified)\b", re.I)


def clean(term: str) -> str:
    term = _PAREN.sub("", term)
    term = term.replace("[", "").replace("]", "")
    term = term.replace("'", "").replace('"', "")
    term = re.sub(r"\s+", " ", term).strip(" ,.-;:")
    return term.lower()


def label_for_code(code: str) -> str | None:
    ch = code[:1].upper()
    if ch == "R":
        return "SYMPTOM"
    if ch in "VWXYZ" or not ch.isalpha():
        return None
    if ch == "T" and code[1:3].isdigit() and int(code[1:3]) >= 36 and int(code[1:3]) <= 65:
        return None  # poisonings: coded from drug mentions in context, not recognized as problems
    return "PROBLEM"


def index_terms(csv_path: Path) -> list[tuple[str, str, str]]:
    """Main terms and short adjectival subterm phrases of the CM Alphabetic Index."""
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    out: list[tuple[str, str, str]] = []
    stack: list[str] = []
    main_labels: dict[int, Counter] = {}
    main_row = 0
    for i, r in enumerate(rows):
        level = int(r["Level"])
        term = r["Term"]
        if level == 0:
            main_row = i
            main_labels[i] = Counter()
        stack = stack[:level] + [term]
        code = (r["Code"] or "").strip()
        label = label_for_code(code) if code else None
        if label:
            main_labels[main_row][label] += 1
        if level in (1, 2) and label:
            parts = [clean(t) for t in stack]
            main = parts[0].split(",")[0].strip()
            subs = parts[1:]
            if all(s and len(s.split()) <= 3 and not _PREP.search(s) for s in subs):
                for variant in _or_variants(" ".join(reversed(subs))):
                    out.append((f"{variant} {main}", label, "cm-index"))
    coded_main = {
        clean(rows[i]["Term"]).split(",")[0].strip().lower(): label_for_code((rows[i]["Code"] or "").strip())
        for i in main_labels
        if rows[i]["Code"]
    }
    for i in main_labels:
        # a main term alone is a finding only when the Index codes it directly ("Pneumonia J18.9"),
        # or sends it to a main term that it codes ("Reactive airway disease - see Asthma"); bare
        # anatomy and qualifiers ("Abdomen", "Acute") are not
        label = label_for_code((rows[i]["Code"] or "").strip()) if rows[i]["Code"] else None
        see = (rows[i]["See"] or "").strip().lower()
        if label is None and see and "," not in see:
            label = coded_main.get(see)
        if label:
            out.append((clean(rows[i]["Term"]).split(",")[0].strip(), label, "cm-index"))
            out += [(spelling, label, "cm-index") for spelling in _other_spellings(clean(rows[i]["Term"]))]
    return out


_DISEASE_SUFFIXES = ("itis", "osis", "iasis", "emia", "algia", "opathy", "ectasis", "ectasia", "plegia", "uria")


def _other_spellings(main_term: str) -> list[str]:
    """A coded main term's other spellings of the same disease word ("Discitis, diskitis"), not its
    adjectives ("Arthritis, arthritic")."""
    first, *others = [p.strip() for p in main_term.split(",") if p.strip()]
    return [
        o
        for o in others
        if len(o.split()) == 1
        and o[:3].lower() == first[:3].lower()
        and any(o.lower().endswith(suffix) and first.lower().endswith(suffix) for suffix in _DISEASE_SUFFIXES)
    ]


def _or_variants(text: str) -> list[str]:
    if " or " in text:
        return [t.strip() for t in text.split(" or ") if t.strip()]
    return [text]


def tabular_terms() -> list[tuple[str, str, str]]:
    out = []
    for code in cm.get_all_codes(with_dots=True):
        if not cm.is_leaf(code):
            continue
        label = label_for_code(code)
        if not label or code[:1] in "ST":  # injury descriptions are too long to match as phrases
            continue
        names = [cm.get_description(code)] + list(cm.get_inclusion_term(code))
        for name in names:
            t = clean(_STRIP_PHRASES.sub("", name))
            if 1 <= len(t.split()) <= 6 and not _PREP.search(t.replace(" of ", " ")):
                out.append((t, label, "cm-tabular"))
    return out


def drug_terms(xml_path: Path) -> list[tuple[str, str, str]]:
    out = []
    for main in ET.parse(xml_path).getroot().iter("mainTerm"):
        title = clean(main.findtext("title") or "")
        cells = [c.text for c in main.findall("cell") if c.text and c.text.strip() not in ("--", "")]
        if not cells or not title or "," in title or len(title.split()) > 2 or len(title) < 5:
            continue
        out.append((title, "MEDICATION", "cm-drug-table"))
    return out


def procedure_terms(xml_path: Path) -> list[tuple[str, str, str]]:
    out = []
    for main in ET.parse(xml_path).getroot().iter("mainTerm"):
        title = clean(main.findtext("title") or "")
        has_see_code = any(see.find("codes") is not None or see.find("tab") is not None for see in main.iter("see"))
        if has_see_code and title and "," not in title and len(title.split()) <= 4:
            out.append((title, "PROCEDURE", "pcs-index"))
    return out


DRUG_CLASSES = ROOT / "pipeline" / "code" / "data" / "drug_classes.tsv"


def coded_drug_terms() -> list[tuple[str, str, str]]:
    """Every drug the coder's drug-class table codes (long-term therapy, allergy status), so that a
    medication list's "Avandamet" is a medication mention for it to read."""
    out = []
    for line in DRUG_CLASSES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append((line.split("\t")[0].strip().lower(), "MEDICATION", "cm-drug-table"))
    return out


FINDING_LABELS = ("PROBLEM", "SYMPTOM")
_NO_PLURAL = re.compile(r"(?:s|x|z|sh|ch|y|ia|itis|osis|emia|ism|ness|[^e]ed|ing|al|ic|ous|ar|ive|ful)$")
# words whose plural a dictation uses for something else ("the wounds were closed": a surgical wound)
_PLURAL_NOT_A_FINDING = frozenset("wound break shock collapse exposure fall drop state".split())


def finding_variants(terms: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The ways a dictation words the Index's findings that the Index does not print: the plural of a
    finding's head word ("nosebleeds", "kidney stones"), and a site's adjective for a site word before the finding
    ("solitary pulmonary nodule" for the Index's "solitary lung nodule": index_lookup.SITE_ADJECTIVES)."""
    from pipeline.code.lookup.index_lookup import SITE_ADJECTIVES

    adjective_of: dict[str, list[str]] = {}
    for adjective, site in SITE_ADJECTIVES.items():
        adjective_of.setdefault(site, []).append(adjective)
    out = []
    for term, label, source in terms:
        if label not in FINDING_LABELS or source not in ("cm-index", "cm-tabular"):
            continue
        words = term.split()
        head = words[-1]  # the plural of the finding's head word: "nosebleeds", "kidney stones"
        if head.isalpha() and len(head) >= 5 and not _NO_PLURAL.search(head) and head not in _PLURAL_NOT_A_FINDING:
            out.append((" ".join([*words[:-1], head + "s"]), label, "variant"))
        for i, w in enumerate(words[:-1]):  # a site word before the finding ("solitary lung nodule")
            out += [(" ".join([*words[:i], a, *words[i + 1 :]]), label, "variant") for a in adjective_of.get(w, ())]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "icd10")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the lexicon (default: the shipped file)")
    args = ap.parse_args()
    out: Path = args.out
    src: Path = args.source
    if not src.exists():
        raise SystemExit(f"code-set source folder not found: {src}")

    blocked = {line.strip().lower() for line in BLOCK.read_text().splitlines() if line.strip() and not line.startswith("#")}
    terms: list[tuple[str, str, str]] = []
    terms += index_terms(src / "cm-index-2025" / "ICD10CM_2025_Index.csv")
    terms += tabular_terms()
    terms += drug_terms(src / "cm-tables-2025" / "icd-10-cm-drug-2025.xml")
    terms += procedure_terms(src / "pcs-2025" / "icd10pcs_index_2025.xml")

    terms += finding_variants(terms)
    terms += coded_drug_terms()

    priority = {"curated": 0, "cm-tabular": 1, "cm-index": 2, "pcs-index": 3, "cm-drug-table": 4, "variant": 5}
    best: dict[str, tuple[str, str]] = {}
    for line in CURATED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            term, label = line.split("\t")[:2]
            best[term.strip().lower()] = (label.strip(), "curated")
    for term, label, source in terms:
        if term in blocked or len(term) < 3 or term.isdigit():
            continue
        if term not in best or priority[source] < priority[best[term][1]]:
            best[term] = (label, source)

    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime 0 and no file name in the header: a rebuild from the same sources is byte-identical
    with (
        open(out, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
        io.TextIOWrapper(gz, encoding="utf-8") as f,
    ):
        f.write("term\tlabel\tsource\n")
        for term in sorted(best):
            label, source = best[term]
            f.write(f"{term}\t{label}\t{source}\n")
    counts = Counter(label for label, _ in best.values())
    print(f"wrote {out}: {len(best)} terms " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main()
