"""The medical lexicon transcription uses: for biasing, term correction and the term error rate.

Terms come from the extraction lexicon (``pipeline/extract/data/terms.tsv.gz``: ICD-10-CM Index and
tabular terms, ICD-10-PCS Index procedures, the drug table, curated terms; and the clinical
abbreviations' long forms) plus the clinical words of ``data/vocabulary.tsv.gz`` (see
``scripts/build_transcribe_vocabulary.py``). "Common" words are those Whisper's GPT-2 vocabulary holds
as one token (" fever", " pain"): the recognizer gets them right and they are never correction targets.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

EXTRACT_DATA = resources.files("pipeline.extract") / "data"
DATA = resources.files("pipeline.transcribe") / "data"
MAX_TERM_WORDS = 6


def _lines(path) -> list[str]:
    if str(path).endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.read().splitlines()
    return path.read_text(encoding="utf-8").splitlines()


@lru_cache(maxsize=1)
def read_lexicon_terms() -> dict[str, str]:
    """Lower-cased extraction lexicon term -> label (abbreviations by their long form)."""
    terms: dict[str, str] = {}
    for line in _lines(EXTRACT_DATA / "terms.tsv.gz")[1:]:
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            terms.setdefault(parts[0].strip().lower(), parts[1])
    for line in _lines(EXTRACT_DATA / "abbreviations.tsv"):
        if line.strip() and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3:
                terms.setdefault(parts[1].strip().lower(), parts[2].strip())
    return terms


@dataclass(frozen=True)
class VocabularyEntry:
    term: str  # as usually written ("Coumadin", "atrial fibrillation")
    label: str  # PROBLEM, MEDICATION, ... or WORD for a clinical word outside the lexicon
    total: int  # occurrences in the source reports
    categories: dict[str, int] = field(default_factory=dict)  # report category -> occurrences


@lru_cache(maxsize=1)
def read_vocabulary() -> tuple[VocabularyEntry, ...]:
    """The shipped vocabulary counts, most frequent first."""
    path = DATA / "vocabulary.tsv.gz"
    if not path.is_file():
        return ()
    out = []
    for line in _lines(path)[1:]:
        term, label, total, cats = line.split("\t")
        categories = {}
        for item in filter(None, cats.split(";")):
            name, _, n = item.rpartition("=")
            categories[name] = int(n)
        out.append(VocabularyEntry(term, label, int(total), categories))
    return tuple(out)


@lru_cache(maxsize=1)
def _gpt2():
    from whisper.tokenizer import get_tokenizer

    return get_tokenizer(multilingual=False)


def token_count(text: str) -> int:
    """Whisper (GPT-2 BPE) tokens in ``text``, as a prompt would hold them."""
    return len(_gpt2().encode(text))


@lru_cache(maxsize=65536)
def is_common_word(word: str) -> bool:
    """A word general English uses often: one GPT-2 token with its leading space."""
    return len(_gpt2().encode(" " + word.lower())) == 1


@lru_cache(maxsize=1)
def medical_terms() -> frozenset[str]:
    """Lower-cased lexicon terms counted by the medical-term error rate."""
    return frozenset(read_lexicon_terms())


def find_terms(words: list[str], terms: frozenset[str] | None = None) -> list[tuple[int, int, str]]:
    """Greedy longest matches of ``terms`` in a list of normalized words: (start, end, term)."""
    terms = medical_terms() if terms is None else terms
    out, i = [], 0
    while i < len(words):
        for n in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
            cand = " ".join(words[i : i + n])
            if cand in terms:
                out.append((i, i + n, cand))
                i += n
                break
        else:
            i += 1
    return out


# -- medical words: what the re-decoding of tiny.en's spans and the benchmark's medical-word WER count ----
@lru_cache(maxsize=1)
def _normalizer():
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


# spoken and written units are the same word for scoring ("25 milligrams" == "25 mg")
UNIT_WORDS = {
    "milligram": "mg",
    "milligrams": "mg",
    "mgs": "mg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "ug": "mcg",
    "milliliter": "ml",
    "milliliters": "ml",
    "millilitre": "ml",
    "millilitres": "ml",
    "mls": "ml",
    "kilogram": "kg",
    "kilograms": "kg",
    "gram": "g",
    "grams": "g",
    "gm": "g",
    "milliequivalent": "meq",
    "milliequivalents": "meq",
    "unit": "units",
    "iu": "units",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "litres": "l",
    "cc": "cc",
    "ccs": "cc",
    "percent": "%",
}
UNIT_TOKENS = frozenset(UNIT_WORDS.values()) | {
    "mg",
    "mcg",
    "ml",
    "kg",
    "g",
    "meq",
    "units",
    "l",
    "cc",
    "%",
    "mmhg",
    "puffs",
    "tablets",
    "tabs",
}


def normalize(text: str) -> str:
    """Whisper's English normalizer, then one spelling per unit (``UNIT_WORDS``)."""
    return " ".join(UNIT_WORDS.get(w, w) for w in _normalizer()(text).split())


@lru_cache(maxsize=1)
def medical_word_entries() -> tuple[frozenset[str], int]:
    """What counts as a medical word: medwer's public term list plus the shipped vocabulary's drug
    names (label MEDICATION) and the lexicon's medication terms, in normalized spelling; and the
    longest entry's length in words."""
    import medwer

    entries, _ = medwer.load_terms(medwer.default_terms_path())
    out = set(entries)
    for e in read_vocabulary():
        if e.label == "MEDICATION":
            out.add(normalize(e.term))
    for term, label in read_lexicon_terms().items():
        if label == "MEDICATION":
            out.add(normalize(term))
    out.discard("")
    return frozenset(out), max(len(e.split()) for e in out)


_DOSE_NUMBER = re.compile(r"[\d.,/]+")


def medical_spans(tokens: list[str]) -> list[tuple[int, int]]:
    """(start, end) token spans of the medical words in normalized ``tokens``: terms (greedy longest
    match), units, and doses (a number right before a unit)."""
    entries, longest = medical_word_entries()
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t in UNIT_TOKENS or (i + 1 < len(tokens) and tokens[i + 1] in UNIT_TOKENS and _DOSE_NUMBER.fullmatch(t)):
            out.append((i, i + 1))
            i += 1
            continue
        for n in range(min(longest, len(tokens) - i), 0, -1):
            if " ".join(tokens[i : i + n]) in entries:
                out.append((i, i + n))
                i += n
                break
        else:
            i += 1
    return out
