"""CDI (clinical documentation integrity) queries tied to their impact.

A query is suggested only where a clearer answer would change the MS-DRG or a V28 HCC:

* heart failure of unspecified type or acuity (I50.9, I50.20, I50.30, I50.40);
* pneumonia without its cause (J18.x) when the text has aspiration or organism clues;
* a lab value without its diagnosis (serum sodium under 135 with no hyponatremia coded).

Each suggestion carries its options, in a fixed clinical order that does not depend on their
impact, always with "other" and "unable to determine"; for each option the CDI specialist sees the
codes it gives and the DRG (and HCCs) the stay would then group to. The physician-facing question
(:attr:`QuerySuggestion.question`) lists the clinical indicators and the options only: no codes,
no DRG, no weight, no option singled out (ACDIS/AHIMA "Guidelines for Achieving a Compliant Query
Practice": a query must not lead or mention financial impact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pipeline.claim.drg import DrgResult, GroupingInput, group
from pipeline.claim.hcc import hcc_profile
from pipeline.claim.poa import undotted


class CdiKind(str, Enum):
    HEART_FAILURE = "heart_failure_specificity"
    PNEUMONIA = "pneumonia_specificity"
    LAB_WITHOUT_DIAGNOSIS = "lab_without_diagnosis"


class OptionEffect(str, Enum):
    REPLACE = "replace"  # the answer's code replaces the queried code
    ADD = "add"  # the answer's code is added
    NONE = "none"  # other / unable to determine / not clinically significant: codes stay


@dataclass(frozen=True)
class QueryOption:
    label: str  # clinical wording shown to the physician
    codes: tuple[str, ...]  # codes the answer gives (empty: no change)
    effect: OptionEffect
    drg: int | None  # the DRG the stay groups to with this answer
    drg_title: str | None
    weight: float | None
    hccs: tuple[str, ...]  # V28 HCCs that stand with this answer
    specific: bool  # a documented diagnosis (counts as agreement when chosen)


@dataclass(frozen=True)
class QuerySuggestion:
    kind: CdiKind
    target_code: str | None  # the code the query is about (None: a missing diagnosis)
    topic: str
    indicators: tuple[str, ...]  # the sentences of the record that prompt it
    options: tuple[QueryOption, ...]
    current_drg: int | None
    current_hccs: tuple[str, ...]

    @property
    def changes_drg(self) -> bool:
        return any(o.drg != self.current_drg for o in self.options)

    @property
    def changes_hcc(self) -> bool:
        return any(set(o.hccs) != set(self.current_hccs) for o in self.options)

    @property
    def question(self) -> str:
        """The physician-facing query text: indicators and options, nothing about payment."""
        ind = " ".join(f"“{s}”" for s in self.indicators[:4]) or "(see the record)"
        opts = "; ".join(o.label for o in self.options)
        return (
            f"Clinical indicators in the record: {ind} Based on your clinical judgment, please clarify {self.topic}. "
            f"Options: {opts}."
        )


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")

HF_UNSPECIFIED = ("I509", "I5020", "I5030", "I5040")
HF_OPTIONS = (
    ("Acute systolic (HFrEF) heart failure", "I50.21"),
    ("Chronic systolic (HFrEF) heart failure", "I50.22"),
    ("Acute on chronic systolic (HFrEF) heart failure", "I50.23"),
    ("Acute diastolic (HFpEF) heart failure", "I50.31"),
    ("Chronic diastolic (HFpEF) heart failure", "I50.32"),
    ("Acute on chronic diastolic (HFpEF) heart failure", "I50.33"),
    ("Acute on chronic combined systolic and diastolic heart failure", "I50.43"),
)
HF_CUES = re.compile(
    r"\b(?:heart failure|chf|bnp|ejection fraction|ef of|lvef|diures\w*|lasix|furosemide|pulmonary edema|jvd|edema)\b", re.I
)

PNEUMONIA_UNSPECIFIED = ("J189", "J181", "J180", "J188")
ASPIRATION_CUES = re.compile(r"\b(?:aspirat\w*|vomit\w*|emesis|dysphagia|chok\w*|swallow\w*)\b", re.I)
ORGANISM_CUES = re.compile(
    r"\b(?:mrsa|methicillin|staph\w*|pseudomonas|klebsiella|e\.? coli|escherichia|gram[- ]negative|haemophilus|"
    r"streptococc\w*|strep|legionella|sputum culture|culture grew|cultures? (?:positive|grew))\b",
    re.I,
)
ASPIRATION_OPTIONS = (("Aspiration pneumonia (pneumonitis due to inhalation of food or vomit)", "J69.0"),)
ORGANISM_OPTIONS = (
    ("Pneumonia due to methicillin-resistant Staphylococcus aureus", "J15.212"),
    ("Pneumonia due to methicillin-susceptible Staphylococcus aureus", "J15.211"),
    ("Pneumonia due to Pseudomonas", "J15.1"),
    ("Pneumonia due to Klebsiella pneumoniae", "J15.0"),
    ("Pneumonia due to other gram-negative bacteria", "J15.69"),
    ("Pneumonia due to Streptococcus pneumoniae", "J13"),
    ("Bacterial pneumonia, organism not determined", "J15.9"),
)

SODIUM = re.compile(r"\b(?:serum\s+)?(?:sodium|na\+?)\s*(?:level\s*)?(?:of|was|is|=|:|at)?\s*(\d{3})\b", re.I)
HYPONATREMIA_CODES = ("E871",)


def _sentences(text: str, pattern: re.Pattern) -> tuple[str, ...]:
    return tuple(m.group(0).strip() for m in _SENTENCE.finditer(text or "") if pattern.search(m.group(0)))


def _option(
    label: str,
    codes: tuple[str, ...],
    effect: OptionEffect,
    base: GroupingInput,
    target: str | None,
    dx_codes: list[str],
    age: int | None,
    sex: str | None,
    version: int,
) -> QueryOption:
    inp, dx = base, list(dx_codes)
    if effect is OptionEffect.REPLACE and target and codes:
        inp = base.replacing(target, codes[0])
        dx = [codes[0] if undotted(c) == undotted(target) else c for c in dx]
    elif effect is OptionEffect.ADD:
        for c in codes:
            inp = inp.adding(c)
            dx.append(c)
    r: DrgResult = group(inp, version)
    return QueryOption(
        label,
        codes,
        effect,
        r.drg,
        r.drg_title,
        r.weight,
        tuple(c.hcc for c in hcc_profile(dx, age, sex).kept),
        effect is not OptionEffect.NONE,
    )


def _closing_options(base, target, dx, age, sex, version, no_change_label: str | None = None) -> tuple[QueryOption, ...]:
    labels = ["Other (please specify)", "Unable to determine"]
    if no_change_label:
        labels.insert(1, no_change_label)
    return tuple(_option(label, (), OptionEffect.NONE, base, target, dx, age, sex, version) for label in labels)


def suggest_queries(
    text: str,
    dx_codes: list[str],
    base: GroupingInput,
    *,
    age: int | None = None,
    sex: str | None = None,
    version: int = 431,
) -> list[QuerySuggestion]:
    """The CDI queries worth asking on one record: each changes the DRG or an HCC for some answer."""
    out: list[QuerySuggestion] = []
    current = group(base, version)
    current_hccs = tuple(c.hcc for c in hcc_profile(dx_codes, age, sex).kept)
    coded = {undotted(c) for c in dx_codes}

    def add(kind, target, topic, indicators, options):
        s = QuerySuggestion(kind, target, topic, indicators, tuple(options), current.drg, current_hccs)
        if s.changes_drg or s.changes_hcc:
            out.append(s)

    hf = next((c for c in dx_codes if undotted(c) in HF_UNSPECIFIED), None)
    if hf:
        opts = [
            _option(label, (code,), OptionEffect.REPLACE, base, hf, dx_codes, age, sex, version) for label, code in HF_OPTIONS
        ]
        add(
            CdiKind.HEART_FAILURE,
            hf,
            "the type and acuity of the heart failure",
            _sentences(text, HF_CUES),
            opts + list(_closing_options(base, hf, dx_codes, age, sex, version)),
        )

    pna = next((c for c in dx_codes if undotted(c) in PNEUMONIA_UNSPECIFIED), None)
    if pna:
        asp, org = _sentences(text, ASPIRATION_CUES), _sentences(text, ORGANISM_CUES)
        choices = (ASPIRATION_OPTIONS if asp else ()) + (ORGANISM_OPTIONS if org else ())
        if choices:
            opts = [
                _option(label, (code,), OptionEffect.REPLACE, base, pna, dx_codes, age, sex, version) for label, code in choices
            ]
            add(
                CdiKind.PNEUMONIA,
                pna,
                "the type or cause of the pneumonia",
                asp + tuple(s for s in org if s not in asp),
                opts + list(_closing_options(base, pna, dx_codes, age, sex, version)),
            )

    if not coded & set(HYPONATREMIA_CODES):
        low = [(m, s) for s in _sentences(text, SODIUM) for m in SODIUM.finditer(s) if 100 <= int(m.group(1)) < 135]
        if low:
            opts = [_option("Hyponatremia", ("E87.1",), OptionEffect.ADD, base, None, dx_codes, age, sex, version)]
            add(
                CdiKind.LAB_WITHOUT_DIAGNOSIS,
                None,
                "the clinical significance of the low serum sodium",
                tuple(dict.fromkeys(s for _m, s in low)),
                opts + list(_closing_options(base, None, dx_codes, age, sex, version, "Lab value without clinical significance")),
            )
    return out
