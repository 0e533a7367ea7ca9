"""An encounter for the administration of antineoplastic therapy, coded first (Guidelines I.C.2.e.2).

"She was admitted ... for cycle six of CIVI-CAD", "she presented for cycle seven of VP-16, ifosfamide,
and mesna infusions", "he is here for his third course of chemotherapy": the encounter is for giving
the therapy, so its Z51 code is the principal or first-listed diagnosis and the malignancy treated is
coded after it. The Index gives the code:

* Chemotherapy (session) (for), neoplasm: Z51.11 (a numbered cycle or course is a chemotherapy's);
* Immunotherapy, antineoplastic: Z51.12;
* Admission (for), radiation therapy (antineoplastic): Z51.0.

Read only where a sentence says the patient came for it: a verb of arrival (admitted, presented, came
in, is here) and, within the same sentence, "for" followed within a few words by the therapy or a
numbered cycle or course of it, in a note that names a neoplasm. Not the encounter: a plan ("will be
admitted for chemotherapy"), a past course ("admitted ... following her first course of
chemotherapy"), talk about it ("here for evaluation of chemotherapy options"), its complication ("admitted for
chemotherapy-induced nausea").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.code.lookup.index_lookup import lookup

_NUMBER = (
    r"(?:#\s*)?(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|first|second|third|fourth|"
    r"fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\d+(?:st|nd|rd|th))"
)
_CYCLE = rf"(?:(?:{_NUMBER}|next|another|last|final)\s+)?(?:cycle|course|round)s?(?:\s+{_NUMBER})?(?=\W)"
_THERAPY = {
    "chemotherapy": r"(?:chemotherapy|chemo)",
    "immunotherapy": r"immunotherapy",
    "radiation therapy": r"(?:radiation(?:\s+(?:therapy|treatments?))?|radiotherapy)",
}
_ARRIVAL = re.compile(
    r"\b(?:admitted|readmitted|presented|presents|came\s+in|comes\s+in|is\s+here|was\s+here|returns|returned)\b", re.I
)
_FOR_THERAPY = re.compile(
    r"\bfor\s+(?:(?:his|her|their|the|a|an|scheduled|planned|elective|continued|continuous|inpatient|outpatient)\s+)*"
    rf"(?P<what>{_CYCLE}|{'|'.join(_THERAPY.values())})\b"
    # its complication is not its administration: "admitted for chemotherapy-induced nausea"
    r"(?!-|\s+(?:induced|related|associated|toxicity|complications?|side\s+effects?)\b)",
    re.I,
)
_PLANNED = re.compile(r"\b(?:will|would|should|may|might|to\s+be|plan(?:s|ned)?\s+to|scheduled\s+to)\s+(?:be\s+)?$", re.I)
_TITLES = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|St|Drs)\.")
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)|\n")
_NEOPLASM = re.compile(
    r"\w*(?:carcinoma|sarcoma|lymphoma|leuka?emia|myeloma|blastoma|melanoma|mesothelioma|seminoma|cancer|malignan\w*|"
    r"neoplasm|metasta\w*)\b",
    re.I,
)
# the Index's entry for each therapy (main term, the words read under it)
_INDEX = {
    "chemotherapy": ("chemotherapy", "chemotherapy neoplasm"),
    "immunotherapy": ("immunotherapy", "immunotherapy antineoplastic"),
    "radiation therapy": ("admission", "admission radiation therapy"),
}


@dataclass(frozen=True)
class TherapyEncounter:
    """The therapy the encounter is for: its code, the words that say so (start, end) and the Index path."""

    code: str
    therapy: str
    start: int
    end: int
    path: tuple[str, ...]

    @property
    def why(self) -> str:
        return (
            f"the encounter is for {self.therapy} (Index: {', '.join(self.path)} {self.code}); "
            "coded first, the malignancy after it (Guidelines I.C.2.e.2)"
        )


def _therapy_of(words: str, sentence_rest: str) -> str:
    """Which therapy the words after "for" name; a cycle or course is chemotherapy's unless the
    sentence names immunotherapy or radiation."""
    for therapy, pattern in _THERAPY.items():
        if re.match(pattern, words, re.I):
            return therapy
    for therapy in ("immunotherapy", "radiation therapy"):
        if re.search(rf"\b{_THERAPY[therapy]}\b", sentence_rest, re.I):
            return therapy
    return "chemotherapy"


def therapy_encounter(text: str | None) -> TherapyEncounter | None:
    """The antineoplastic therapy the note says the encounter is for (the first such sentence), or None."""
    if not text or not _NEOPLASM.search(text):
        return None
    plain = _TITLES.sub(lambda m: m.group(0)[:-1] + " ", text)  # "Dr. XYZ" does not end the sentence
    for arrival in _ARRIVAL.finditer(plain):
        if _PLANNED.search(plain[max(0, arrival.start() - 30) : arrival.start()]):
            continue
        end = _SENTENCE_END.search(plain, arrival.end())
        sentence_end = end.start() if end else len(plain)
        found = _FOR_THERAPY.search(plain, arrival.end(), sentence_end)
        if found is None:
            continue
        therapy = _therapy_of(found.group("what"), plain[found.end() : sentence_end])
        main_term, query = _INDEX[therapy]
        hit = lookup(query, main_term=main_term)
        if hit is None or not hit.code.startswith("Z51"):
            continue
        return TherapyEncounter(hit.code, therapy, arrival.start(), found.end(), tuple(hit.path))
    return None
