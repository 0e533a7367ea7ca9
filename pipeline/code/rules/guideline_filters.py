"""Which scored codes a coder is shown, and which become alternatives with the reason why.

After the re-ranker has scored every code, the document's list goes through the guideline
filters below, in this order. Each one names the codes it moves to the alternatives and the
reason, which the alternative carries in its rationale for the coder to read:

0. :func:`specified_elsewhere`: the code of a bare mention of a condition the documentation gives
   with more detail, in another mention or in the words around this one ("cataract" H26.9 next to
   "nuclear sclerotic cataract, right eye" H25.11; "atrial fibrillation" I48.91 next to "atrial
   fibrillation chronic" I48.20), is an alternative;
1. :func:`one_per_finding`: one code per finding (a second code of the same category, or PCS body
   part, for the same words);
2. :func:`excludes1_with_guideline_codes`: no code the re-ranker added that an Excludes1 note forbids
   next to a guideline-pass code;
3. :func:`contradicts_the_mentions`: no statistics-only code whose disease kind (type 1/2,
   atrial/ventricular, the hepatitis letter) the mentions contradict;
4. :func:`neoplasm_behaviour`: no statistics-only neoplasm code whose behaviour (Table of Neoplasms
   column) contradicts the one the guideline pass coded for the same site;
5. :func:`less_specific_for_the_same_words`: of two index matches for the very same words, the one
   naming less of what the mention states is an alternative;
6. :func:`acute_on_chronic`: an acute or chronic code next to the acute-on-chronic code of the condition;
7. :func:`unspecified_illness`: R69 (and in a dictation R52, B99.9, L98.9, L53.9) only without a
   documented diagnosis;
8. :func:`past_history_only`: a condition documented only as past history is reported by its
   personal-history code;
9. :func:`stated_words_read_once`: the words of a stated diagnosis are not read a second time;
    :func:`organism_in_the_diagnosis`: no organism code (B95-B97, B34.-) beside a code whose title names the organism;
10. :func:`operative_report_procedures`: an operative report's PCS codes are the procedures it lists;
11. :func:`unspecified_site_malignancy`: C80.1 only when no primary site is documented, and
    :func:`unspecified_behaviour_neoplasm`: D49.- only while no code gives the site's neoplasm a behaviour;
12. :func:`unspecified_region_injury`: T14 only when no injury of a stated site is proposed, and a
    suicide attempt NOS (T14.91) only when no self-harm poisoning or external cause says how;
13. :func:`outpatient_procedures`: no ICD-10-PCS for an outpatient encounter;
14. :func:`statistics_need_a_document`: no code only case statistics suggest in a note of a few lines;
15. :func:`integral_symptoms`: no symptom code integral to a proposed diagnosis;
16. :func:`symptoms_the_diagnoses_leave_out`: in a note whose physician states diagnoses, no sign or
    symptom read only from the history, review of systems or examination;
17. :func:`family_history_unless_stated`: family history codes are the coder's call unless the
    physician names the history among the diagnoses or the reason for the encounter;
18. :func:`past_tobacco_with_current_use`: no personal history of nicotine dependence next to current
    dependence (Z87.891 Excludes1 F17.2-);
19. :func:`statistics_only_in_a_dictation`: in a note laid out under section headings, no code that
    only case statistics suggest;
20. :func:`review_of_systems_only`: no code read only from the review of systems;
21. :func:`substance_use_hierarchy`: of one substance's use, abuse and dependence, only the highest
    (Guidelines I.C.5.b.1);
22. :func:`malignancy_history_with_current_malignancy`: no history of a malignancy (Z85) next to a
    current malignancy of the same site (Guidelines I.C.2.d);
23. :func:`external_cause_without_injury`: an external cause code (V00-Y38, Y90-Y99) only beside an
    injury or poisoning code (Guidelines I.C.20).

Codes the guidelines require (:attr:`FilterContext.required`) pass the first filter whatever else
shares their finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pipeline.code.edits.integral import GUIDELINE as INTEGRAL_GUIDELINE
from pipeline.code.edits.integral import integral_to
from pipeline.code.rules import external_causes, history, neoplasm, specificity
from pipeline.code.rules.alternates import (
    disease_kind,
    excludes1_conflict,
    qualifiers_named,
)
from pipeline.code.rules.history import is_chronic
from pipeline.code.types import CM, PCS, CodeProposal, Reason, ReasonKind

OUTPATIENT_PCS = (
    "outpatient encounter: not proposed, ICD-10-PCS reports inpatient hospital procedures "
    "(outpatient procedures are reported with CPT/HCPCS)"
)
UNSPECIFIED_ILLNESS = ("R69",)  # never next to a documented diagnosis (Guidelines I.B.4-5, II.A)
# in a dictated note, the catch-alls for a finding of no stated kind or site: "Pain, unspecified" (R52),
# "Infection, unspecified" (B99.9), "Disorder of the skin, unspecified" (L98.9), "Erythematous condition,
# unspecified" (L53.9). Next to a documented diagnosis the word is that diagnosis's (the toe's infection is
# its cellulitis, the lesion's pain is the lesion), even under the assessment heading (Guidelines I.B.4-5, I.B.18)
UNSPECIFIED_KIND_IN_A_DICTATION = frozenset({"R52", "B99.9", "L98.9", "L53.9"})
UNSPECIFIED_SITE_MALIGNANCY = ("C80.1",)  # only when no primary site is documented (Tabular C80.1, Guidelines I.C.2)


@dataclass(frozen=True)
class FilterContext:
    """What the filters read besides the list: the encounter and what the guideline pass decided."""

    setting: str
    rule_codes: frozenset[str] = frozenset()  # codes the guideline pass wrote (not only the statistics)
    required: frozenset[str] = frozenset()  # codes the guidelines require whatever the score
    stated: dict[str, str] = field(default_factory=dict)  # the physician's stated diagnoses: code -> why
    operative_report: bool = False  # the document lists procedures under a procedure heading
    mentions: tuple[tuple[int, int, str], ...] = ()  # (start, end, text) of the mentions coded
    words: int | None = None  # the document's length in words, when known
    past_history: frozenset[int] = frozenset()  # starts of mentions coded to a personal-history code
    # starts of the mentions under the physician's own conclusions (assessment, impression, diagnosis
    # headings, plan, indications); empty when the note states none
    concluded: frozenset[int] = frozenset()
    symptoms: frozenset[int] = frozenset()  # starts of the mentions extraction labelled SYMPTOM
    review_of_systems: frozenset[int] = frozenset()  # starts of the mentions under the review of systems
    dictation: bool = False  # the document is laid out under section headings, as dictated notes are
    family_history_bears: bool = False  # the physician gives the family history as a reason (screening, risk)
    # the proposal with only the evidence of the mentions it codes (the coder's evidence owner); None: as is
    owned: Callable[[CodeProposal], CodeProposal] | None = None

    def own_evidence(self, p: CodeProposal) -> list:
        """The evidence of the mentions ``p`` codes (not every mention whose candidates named it)."""
        return self.owned(p).evidence if self.owned else p.evidence


#: a filter: the positions in the list it moves to the alternatives, each with its reason
# a filter names the codes it moves, each with why: the sentence, or a NOT_PROPOSED reason that also
# names the code that takes the moved one's place (:func:`specified_elsewhere`)
Filter = Callable[[list[CodeProposal], FilterContext], Mapping[int, str | Reason]]


def one_per_finding(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """One code per category (PCS: per body part) for the same or overlapping evidence: a second code
    for the same words and category (R05.8 next to R05.9, excision 0FB44ZZ next to resection 0FT44ZZ,
    I50.9 next to the stated I50.20, a similar-case code whose sentence holds the mention) becomes an
    alternative. Codes the guidelines require always stay, and a code of the same finding yields to them.
    ``shown`` is ranked, best first."""
    taken: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for p in shown:
        if p.code in ctx.required:
            taken.setdefault((p.system, finding_key(p)), []).extend((ev.start, ev.end, p.code) for ev in p.evidence)
    out = {}
    for i, p in enumerate(shown):
        if p.code in ctx.required:
            continue
        spans = taken.setdefault((p.system, finding_key(p)), [])
        other = next((code for ev in p.evidence for a, b, code in spans if ev.start < b and a < ev.end), None)
        if other:
            out[i] = f"the same finding as {other}"
        else:
            spans += [(ev.start, ev.end, p.code) for ev in p.evidence]
    return out


def finding_key(p: CodeProposal) -> str:
    """What one finding is coded once by: the CM category; for a PCS medical-surgical code the body
    system and body part (resection 0FT44ZZ and excision 0FB44ZZ of the gallbladder are one procedure)."""
    if p.system == PCS and p.code[0] == "0" and len(p.code) == 7:
        return p.code[:2] + p.code[3]
    return p.code.replace(".", "")[:3]


def excludes1_with_guideline_codes(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code the re-ranker added that an Excludes1 note forbids together with a guideline-pass code
    (E11.9 next to E10.9)."""
    rule_cm = [p.code for p in shown if p.system == CM and p.code in ctx.rule_codes]
    out = {}
    for i, p in enumerate(shown):
        if p.system == CM and p.code not in ctx.rule_codes:
            other = next((r for r in rule_cm if excludes1_conflict(p.code, r)), None)
            if other:
                out[i] = f"Excludes1 with {other}, which the documentation supports"
    return out


def contradicts_the_mentions(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code only the statistics suggest whose title names a disease kind the mentions contradict:
    B19.10 (hepatitis B) where the record's mentions say hepatitis A only, E10.9 where they say type 2."""
    said: dict[int, set[str]] = {}
    for _, _, text in ctx.mentions:
        for g, kind in disease_kind(text).items():
            said.setdefault(g, set()).add(kind)
    out = {}
    for i, p in enumerate(shown):
        if p.system != CM or p.code in ctx.rule_codes:
            continue
        for g, kind in disease_kind(p.description).items():
            if g in said and kind not in said[g]:
                out[i] = f"the documentation says {' / '.join(sorted(said[g]))}, this code {kind}"
                break
    return out


def neoplasm_behaviour(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code only the statistics suggest for a neoplasm of a site whose documented neoplasm the
    guideline pass coded with another behaviour (Table of Neoplasms): C67.9 (malignant) where the
    record's "bladder leiomyoma" is D30.3 (benign); a behaviour is coded as documented (Guidelines I.C.2)."""
    order = {p.code: i for i, p in enumerate(shown)}  # the guideline pass's codes as ranked, never a set's hash order
    documented = sorted((c for c in ctx.rule_codes if c[:1] in "CD"), key=lambda c: (order.get(c, len(order)), c))
    out = {}
    for i, p in enumerate(shown):
        if p.system != CM or p.code in ctx.rule_codes or p.code[:1] not in "CD":
            continue
        for code in documented:
            if conflict := neoplasm.behaviour_conflict(p.code, code):
                mine, theirs = (c.replace("_primary", "").replace("_", " ") for c in conflict)
                out[i] = f"the documentation's {code} is a {theirs} neoplasm of this site, this code {mine} (Table of Neoplasms)"
                break
    return out


def less_specific_for_the_same_words(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """Two index matches of one chapter for the very same words, one naming a qualifier the mention
    states that the other does not: the other is less specific ("chronic hepatitis C": B18.2 chronic
    viral hepatitis C stays, B19.20 unspecified viral hepatitis C becomes an alternative)."""
    by_span: dict[tuple[int, int, str], list[int]] = {}
    for i, p in enumerate(shown):  # index matches of the mention, of one chapter (not co-occurring codes)
        # a code the guideline pass wrote for several findings (J44.0, COPD with pneumonia) is a combination,
        # no rival of the code it keeps for one of them (J18.9, the code-also code)
        combined = len({(ev.start, ev.end) for ev in p.evidence}) > 1
        # nor is an acute form coded beside its chronic one (I.B.8)
        if (
            p.system == CM
            and p.evidence
            and p.code in ctx.rule_codes
            and not combined
            and not p.has(ReasonKind.ACUTE_AND_CHRONIC)
        ):
            by_span.setdefault((p.evidence[0].start, p.evidence[0].end, p.code[0]), []).append(i)
    out = {}
    for positions in by_span.values():
        if len(positions) < 2:
            continue
        mention = shown[positions[0]].evidence[0].text
        named = {i: qualifiers_named(mention, shown[i].description) for i in positions}
        best = max(named.values())
        if best:
            most = next(i for i in positions if named[i] == best)
            out.update({i: f"less specific than {shown[most].code} for the same words" for i in positions if named[i] < best})
    return out


def acute_on_chronic(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """An acute or a chronic code next to the acute-on-chronic code of the same condition (I50.21 and
    I50.22 next to I50.23)."""
    included = specificity.acuity_included([p.code for p in shown if p.system == CM])
    return {i: f"included in {included[p.code]} (acute on chronic)" for i, p in enumerate(shown) if p.code in included}


def unspecified_illness(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """ "Illness, unspecified" only without a documented diagnosis; in a dictated note, the catch-alls
    of no kind or site too (:data:`UNSPECIFIED_KIND_IN_A_DICTATION`: pain, infection, skin disorder,
    erythema), even under the assessment heading: pain of no stated site next to a diagnosis is the
    diagnosis's pain (postoperative pain, the fracture's pain). Case reports' coders give R52 beside
    diagnoses (CodiEsp: 6 of 12 such R52 codes were theirs), so there it stays the re-ranker's call."""
    unspecified = UNSPECIFIED_ILLNESS + (tuple(sorted(UNSPECIFIED_KIND_IN_A_DICTATION)) if ctx.dictation else ())
    if not any(p.system == CM and p.code[0] not in "RZ" and p.code not in unspecified for p in shown):
        return {}
    return {
        i: "not reported next to a documented diagnosis (Guidelines I.B.4-5)"
        for i, p in enumerate(shown)
        if p.code in unspecified and (p.code not in ctx.stated or p.code in UNSPECIFIED_KIND_IN_A_DICTATION)
    }


def past_history_only(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A condition code whose only evidence is the patient's past history: the personal-history code
    stands for it (Guidelines I.C.21.c.4); the condition itself is for the coder to add if it is current."""
    return {
        i: "documented only as past history, which its personal-history code reports (Guidelines I.C.21.c.4)"
        for i, p in enumerate(shown)
        if p.system == CM
        and p.code not in ctx.rule_codes
        and not p.code.startswith("Z8")
        and p.code not in ctx.required
        and (evidence := ctx.own_evidence(p))
        and all(ev.start in ctx.past_history for ev in evidence)
    }


def stated_words_read_once(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code only the statistics suggest (not the guideline pass), of the same chapter as a diagnosis
    the physician states and with all its evidence inside that statement's words, reads those words
    differently (C16.9 stomach from "adenocarcinoma" in "adenocarcinoma of the sigmoid colon", C18.7)."""
    spans = [(p.code[0], ev.start, ev.end) for p in shown if p.code in ctx.stated for ev in p.evidence]
    return {
        i: "the physician's stated diagnosis reads these words otherwise"
        for i, p in enumerate(shown)
        if p.system == CM
        and p.code not in ctx.rule_codes
        and p.evidence
        and all(any(ch == p.code[0] and a <= ev.start and ev.end <= b for ch, a, b in spans) for ev in p.evidence)
    }


# infectious agents as the cause of diseases classified elsewhere (B95-B97), and a viral infection
# of unstated site (B34.-): codes of the organism alone
ORGANISM_CODES = ("B95", "B96", "B97", "B34")
_ORGANISM_GENERIC = frozenset("virus viral bacteria bacterial infection positive organism cause".split())


def organism_in_the_diagnosis(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """An organism is coded apart only where the diagnosis's code does not name it ("code also" /
    "use additional code to identify the infectious agent"): "bronchiolitis, respiratory syncytial
    virus positive" is J21.0, acute bronchiolitis due to respiratory syncytial virus, and no B97.4 or
    B34.8 beside it."""
    out = {}
    for i, p in enumerate(shown):
        if p.system != CM or not p.code.startswith(ORGANISM_CODES) or not p.evidence:
            continue
        organism = frozenset().union(*(_title_words(ev.text) for ev in p.evidence)) - _ORGANISM_GENERIC
        if not organism:
            continue
        named_by = next(
            (
                q.code
                for q in shown
                if q.system == CM and not q.code.startswith(ORGANISM_CODES) and organism <= _title_words(q.description)
            ),
            None,
        )
        if named_by:
            out[i] = f"the organism is part of {named_by}, whose title names it (no separate organism code)"
    return out


def operative_report_procedures(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """An operative report lists what was done under its procedure heading: PCS codes only the
    statistics suggest (similar cases, wording) stay alternatives."""
    if not ctx.operative_report:
        return {}
    return {
        i: "not among the procedures the report lists"
        for i, p in enumerate(shown)
        if p.system == PCS and p.code not in ctx.rule_codes and p.code not in ctx.required
    }


def unspecified_site_malignancy(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """C80.1 (malignant neoplasm, unspecified) only when no primary site is documented."""
    return _yields_to_a_stated_site(shown, lambda c: c in UNSPECIFIED_SITE_MALIGNANCY, site_malignancy, "malignancy")


def unspecified_behaviour_neoplasm(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A neoplasm of unspecified behaviour (D49.-) only while no code gives the same site's neoplasm a
    behaviour ("Brain tumors" D49.6 next to "metastasis" of the brain, C79.31)."""
    known = [p.code for p in shown if p.system == CM and p.code[:1] in "CD"]
    out = {}
    for i, p in enumerate(shown):
        if p.system == CM and p.code.startswith("D49"):
            if other := next((c for c in known if neoplasm.behaviour_known(p.code, c)), None):
                out[i] = f"the neoplasm's behaviour is documented ({other}, Table of Neoplasms)"
    return out


def unspecified_region_injury(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """T14 (injury of unspecified body region) only when no injury of a stated site is proposed; and a
    suicide attempt NOS (T14.91) only when no code says how: the Index's "Suicide, attempt, by
    poisoning - see Table of Drugs", a poisoning or toxic effect whose intent is self-harm (T36-T65,
    6th character 2), or a self-harm external cause (X71-X83)."""
    moved = _yields_to_a_stated_site(
        shown, lambda c: c.startswith(specificity.UNSPECIFIED_BODY_REGION), lambda c: c.startswith("S"), "injury"
    )
    how = next((p.code for p in shown if p.system == CM and _self_harm_by_a_stated_means(p.code)), None)
    if how:
        moved.update(
            {
                i: f"the suicide attempt is coded by its means ({how}; Index: Suicide, attempt, by poisoning)"
                for i, p in enumerate(shown)
                if p.system == CM and p.code.startswith(SUICIDE_ATTEMPT_NOS)
            }
        )
    return moved


SUICIDE_ATTEMPT_NOS = "T14.91"


def _self_harm_by_a_stated_means(code: str) -> bool:
    """T36-T65 poisoning or toxic effect with intent self-harm (T42.6X2A), or X71-X83 (self-harm by a means)."""
    c = code.replace(".", "")
    return ("T36" <= c[:3] <= "T65" and len(c) >= 6 and c[5] == "2") or ("X71" <= c[:3] <= "X83")


def _yields_to_a_stated_site(
    shown: list[CodeProposal], unspecified: Callable[[str], bool], stated_site: Callable[[str], bool], what: str
) -> dict[int, str]:
    """The ``unspecified``-site CM codes, once a CM code of a ``stated_site`` is in the list."""
    site = next((p.code for p in shown if p.system == CM and stated_site(p.code)), None)
    if not site:
        return {}
    return {i: f"the {what}'s site is documented ({site})" for i, p in enumerate(shown) if p.system == CM and unspecified(p.code)}


def site_malignancy(code: str) -> bool:
    """A malignant neoplasm of a stated site: C00-C79 or C81-C96 (not C80, site unspecified)."""
    return code[0] == "C" and code[1:3].isdigit() and code[1:3] != "80"


def external_cause_without_injury(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """An external cause code (how, where, doing what: V00-Y38, Y90-Y99) tells how an injury or
    poisoning came about, so it stands beside one (S00-T88; Guidelines I.C.20): a fall the note
    mentions with no injury coded ("fell at home", a pregnant patient's "falling") is an alternative.
    Complications of care (Y62-Y84), which explain a condition of any chapter, are not touched. The
    external cause pass writes its codes when any injury code is among the candidates; this reads the
    list the coder is shown, after the other filters."""
    if any(p.system == CM and p.code[0] in "ST" for p in shown):
        return {}
    return {
        i: "an external cause with no injury or poisoning coded beside it (Guidelines I.C.20)"
        for i, p in enumerate(shown)
        if p.system == CM and external_causes.is_external_cause_code(p.code)
    }


def outpatient_procedures(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """ICD-10-PCS reports inpatient hospital procedures; clinics report CPT/HCPCS."""
    if ctx.setting != "outpatient":
        return {}
    return {i: OUTPATIENT_PCS for i, p in enumerate(shown) if p.system == PCS}


INSPECTION = "J"  # the root operation of a Medical and Surgical code (3rd character)
# Inspection body parts that name a tract of several body parts (Gastrointestinal System): the parts it covers
_TRACTS = {"0D0": frozenset("123456789A"), "0D6": frozenset("67"), "0DD": frozenset("BCEFGHKLMNPQ")}


def inspection_within_a_procedure(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """An inspection is not coded on its own where a procedure through the same approach on the body
    part it looks at achieves its objective (PCS guideline B3.11a): a colonoscopy with a polypectomy
    is the Excision, not also Inspection of Lower Intestinal Tract. Through another approach it is
    coded (B3.11c)."""

    def covered(inspection: str, other: str) -> bool:
        if other[0] != "0" or other[2] == INSPECTION or other[:2] != inspection[:2] or other[4] != inspection[4]:
            return False
        tract = _TRACTS.get(inspection[:2] + inspection[3])
        return other[3] in tract if tract is not None else True

    procedures = [p.code for p in shown if p.system == PCS]
    return {
        i: "the inspection is part of a procedure through the same approach (PCS guideline B3.11a)"
        for i, p in enumerate(shown)
        if p.system == PCS and p.code[0] == "0" and p.code[2] == INSPECTION and any(covered(p.code, c) for c in procedures)
    }


MIN_WORDS_FOR_STATISTICS = 40  # CodiEsp cases have 68 words and more, the sample dictations 69-105


def statistics_need_a_document(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code no mention stands for (the document-level model's, similar cases') in a note of a few
    lines: the statistics learned whole case reports, and a single word of a short note ("chronic"
    -> N18.9) is no ground for them."""
    if ctx.words is None or ctx.words >= MIN_WORDS_FOR_STATISTICS:
        return {}
    spans = {(start, end) for start, end, _ in ctx.mentions}
    return {
        i: f"only case statistics suggest this code, and a note of {ctx.words} words is too short for them"
        for i, p in enumerate(shown)
        if p.code not in ctx.rule_codes
        and p.code not in ctx.required
        and not any((ev.start, ev.end) in spans for ev in p.evidence)
    }


def integral_symptoms(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A symptom code routinely part of a proposed diagnosis (cough with acute bronchitis), unless the
    physician states it as a diagnosis."""
    diagnoses = [p.code for p in shown if p.system == CM and p.code[0] not in "RZ"]
    out = {}
    for i, p in enumerate(shown):
        dx = integral_to(p.code, [d for d in diagnoses if d != p.code]) if p.system == CM and p.code not in ctx.stated else None
        if dx:
            out[i] = f"integral to {dx}: {INTEGRAL_GUIDELINE}"
    return out


def symptoms_the_diagnoses_leave_out(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A note whose physician states diagnoses (assessment, impression, diagnosis headings): a sign or
    symptom code (chapter R, or a finding extraction read as a symptom) whose words are all outside
    those conclusions is an alternative. The physician's diagnoses account for the encounter; a
    symptom from the history, the review of systems or the examination is coded only when the
    physician carries it into the conclusions (Guidelines I.B.4-6, IV.D)."""
    if not ctx.concluded:
        return {}
    out = {}
    for i, p in enumerate(shown):
        evidence = ctx.own_evidence(p)
        if p.system != CM or p.code in ctx.stated or not evidence:
            continue
        symptom = p.code[0] == "R" or all(ev.start in ctx.symptoms for ev in evidence)
        if symptom and not any(ev.start in ctx.concluded for ev in evidence):
            out[i] = (
                "a sign or symptom the physician does not carry into the assessment or diagnoses, "
                "which account for the encounter (Guidelines I.B.4-6, IV.D)"
            )
    return out


def family_history_unless_stated(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A relative's condition (Z80-Z84) is reported when it bears on this encounter (Guidelines
    I.C.21.c.4: a screening, a work-up, a risk the physician names); in a dictated note (section
    headings) or one whose physician states conclusions, a family history section's list is the coder's call, so its codes are alternatives
    unless the physician names the history among the conclusions or gives it as a reason ("because of her family history, referred for a screening
    colonoscopy": :func:`family_history_bears`)."""
    if ctx.family_history_bears or not (ctx.concluded or ctx.dictation):
        return {}
    return {
        i: "a relative's condition from the family history: report it when it bears on this encounter (Guidelines I.C.21.c.4)"
        for i, p in enumerate(shown)
        if p.system == CM
        and p.code.startswith(history.FAMILY)
        and not any(ev.start in ctx.concluded for ev in ctx.own_evidence(p))
    }


def malignancy_history_with_current_malignancy(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """No personal history of a malignancy (Z85) next to a current malignancy of the same site that the
    documentation codes: Z85 is for a malignancy excised or eradicated, with no treatment directed to
    the site and none remaining there (Guidelines I.C.2.d). "History of breast cancer ... scheduled for
    mastectomy" is C50.-, not Z85.3; next to a tumor of no stated site ("history of lung cancer ...
    tumor occluding the right middle lobe") the malignancy is not shown gone either."""
    # the guideline pass's malignancies, shown or not; a neoplasm of no stated site may be the same one
    current = sorted(c for c in ctx.rule_codes if c.startswith("C") or c in UNSTATED_SITE_NEOPLASM)
    return {
        i: f"the note documents this malignancy as current ({c}): Z85 is for one excised or eradicated (Guidelines I.C.2.d)"
        for i, p in enumerate(shown)
        if p.system == CM
        and p.code.startswith(history.MALIGNANCY)
        and (c := next((c for c in current if c in UNSTATED_SITE_NEOPLASM or history.covers_malignancy(p.code, c)), None))
    }


# neoplasms of no stated site: "tumor" (D49.9), "malignancy" (C80.1), "metastatic disease" (C79.9)
UNSTATED_SITE_NEOPLASM = frozenset({"D49.9", "C80.1", "C80.0", "C79.9"})


_FAMILY_HISTORY_AS_REASON = re.compile(
    r"\b(?:because\s+of|due\s+to|given|in\s+view\s+of|in\s+light\s+of|based\s+on)\s+(?:\w+\s+){0,2}family\s+history\b"
    r"|\bfamily\s+history\b[^.]{0,80}\b(?:screening|surveillance|increased\s+risk|high\s+risk|at\s+risk)\b"
    r"|\b(?:screening|surveillance|increased\s+risk|high\s+risk)\b[^.]{0,80}\bfamily\s+history\b",
    re.I,
)


def family_history_bears(text: str | None) -> bool:
    """Whether the note gives the family history as a reason for this encounter's care: "because of her
    family history, she was referred for a screening colonoscopy", "high risk given a family history"."""
    return bool(text and _FAMILY_HISTORY_AS_REASON.search(text))


UNSPECIFIED_NICOTINE_DEPENDENCE = "F17.200"


def past_tobacco_with_current_use(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """ "Smoked heavily until last year, now smokes three cigarettes a day": the current dependence is
    coded, and Z87.891 (personal history of nicotine dependence) excludes it (Tabular Excludes1 F17.2-).
    One dependence code per patient: F17.200 (product not stated) yields to the code that names it."""
    current = [p.code for p in shown if p.system == CM and p.code.startswith("F17.2")]
    if not current:
        return {}
    named = next((c for c in current if c != UNSPECIFIED_NICOTINE_DEPENDENCE), None)  # the product is stated
    out = {}
    for i, p in enumerate(shown):
        if p.system != CM:
            continue
        if p.code == "Z87.891":
            out[i] = f"Excludes1 with {current[0]}: the patient uses tobacco now (Tabular Z87.891)"
        elif p.code == UNSPECIFIED_NICOTINE_DEPENDENCE and named:
            out[i] = f"the documentation names the product: {named}"
    return out


STATISTICS = (ReasonKind.CODED_CASES, ReasonKind.SIMILAR_CASES, ReasonKind.DOCUMENT_MODEL)


def statistics_only_in_a_dictation(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A dictated note (laid out under section headings): a code that only the case statistics suggest
    (CodiEsp cases coded the words so, similar cases, the document-level model) and no guideline rule
    wrote is an alternative. The statistics learned published case reports; on the dictation set's dev
    notes 30 of the 31 such codes proposed were not codes the hand coder gave."""
    if not ctx.dictation:
        return {}
    return {
        i: "only case-report statistics suggest this code; a dictated note's codes come from its words"
        for i, p in enumerate(shown)
        if p.code not in ctx.rule_codes and p.code not in ctx.required and p.reasons and p.reasons[0].kind in STATISTICS
    }


def review_of_systems_only(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """A code whose every mention is in the review of systems: the patient's answers to the system
    questions are not the physician's diagnoses, and a coder does not code from them (a condition that
    matters comes back in the history, the examination or the assessment)."""
    if not ctx.review_of_systems:
        return {}
    return {
        i: "read only from the review of systems, which records the patient's answers, not the physician's diagnoses"
        for i, p in enumerate(shown)
        if p.system == CM
        and p.code not in ctx.stated
        and p.code not in ctx.required
        and not is_chronic(p.code)
        and (evidence := ctx.own_evidence(p))
        and all(ev.start in ctx.review_of_systems for ev in evidence)
    }


# F10-F19, by the 4th character: 1 abuse, 2 dependence, 9 use (F17 nicotine has dependence only)
_SUBSTANCE_LEVEL = {"9": 0, "1": 1, "2": 2}


def substance_use_hierarchy(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str]:
    """One substance's use, abuse and dependence documented together are coded once, at the highest
    (Guidelines I.C.5.b.1): abuse and dependence, dependence only (F19.10 yields to F19.20); use and
    abuse, abuse only."""
    level: dict[int, tuple[str, int]] = {}
    for i, p in enumerate(shown):
        c = p.code.replace(".", "")
        if p.system == CM and c[:2] == "F1" and len(c) >= 4 and c[3] in _SUBSTANCE_LEVEL:
            level[i] = (c[:3], _SUBSTANCE_LEVEL[c[3]])
    out = {}
    for i, (category, rank) in level.items():
        higher = next((shown[j].code for j, (cat, r) in level.items() if cat == category and r > rank), None)
        if higher:
            out[i] = f"{higher} documents this substance at a higher level (Guidelines I.C.5.b.1)"
    return out


# "unspecified", "unspecified site", "site unspecified" ("Discitis, unspecified, site unspecified"), "NOS"
_NOT_SPECIFIED = re.compile(
    r"\bnot specified as\b.*$|\b(?:(?:site|type|part|organism)\s+)?unspecified\b(?:\s+(?:site|type|part|organism))?|\bNOS\b",
    re.I,
)


def specified_elsewhere(shown: list[CodeProposal], ctx: FilterContext) -> dict[int, str | Reason]:
    """A condition is coded once, to the detail the note documents (Guidelines I.B.1-2): a code whose
    title says only what another shown code of the same finding says, and less ("Unspecified
    cataract" next to "Age-related nuclear cataract, right eye"; "Obesity, unspecified" next to
    "Morbid (severe) obesity"), for mentions of the same head word, is an alternative; so is the
    code the guideline pass read for a bare word the other title says ("hernia", K46.9, next to "right
    inguinal hernia", K40.90). A code kept alongside a combination code stays, and only a code the
    guideline pass read from the documentation counts as the detail."""
    kept = tuple(c.rstrip("-") for p in shown for r in p.reasons if r.kind is ReasonKind.KEPT_ALONGSIDE for c in r.codes)
    heads: dict[int, set[str]] = {}
    for i, p in enumerate(shown):
        if p.system == CM and p.evidence:
            heads[i] = {_singular(h) for ev in ctx.own_evidence(p) if (h := specificity.head_word(ev.text))}
    out: dict[int, str | Reason] = {}
    for i, p in enumerate(shown):
        if i not in heads or not heads[i] or p.code.startswith(kept) or not _NOT_SPECIFIED.search(p.description):
            continue
        said = _title_words(_NOT_SPECIFIED.sub(" ", p.description))
        stated = frozenset().union(*(_title_words(ev.text) for ev in ctx.own_evidence(p)))
        bare_word = len(stated) == 1 and p.code in ctx.rule_codes
        for j, q in enumerate(shown):
            if j == i or j not in heads or j in out or q.code not in ctx.rule_codes:
                continue
            if q.code[:1] != p.code[:1] or not heads[i] <= heads[j]:
                continue
            theirs = _title_words(_NOT_SPECIFIED.sub(" ", q.description))
            # less than the other title, or the Index's code for a bare word the other title says: "hernia"
            # (K46.9, an abdominal hernia by default) next to "right inguinal hernia" (K40.90), or the
            # category's unspecified code next to one of its codes that says more
            if (said and said < theirs) or (bare_word and stated <= theirs) or _detailed_in_its_category(p, q, ctx):
                out[i] = Reason(
                    ReasonKind.NOT_PROPOSED, (q.code,), f"the note documents this condition with more detail: {q.code}"
                )
                break
    return out


def _detailed_in_its_category(p: CodeProposal, q: CodeProposal, ctx: FilterContext) -> bool:
    """``p`` is its category's unspecified code (R10.9, H66.90) and ``q``, read from another mention, a
    code of the same category that leaves less unspecified, and not an "other" code ("abdominal pain"
    R10.9 next to "left lower quadrant pain" R10.32; not "severe sleep apnea" G47.30 next to its own
    "other sleep apnea" G47.39, nor a basal cell carcinoma of one site next to another site's)."""
    if q.code[:3] != p.code[:3] or p.code[4:5] != "9" or _OTHER.search(q.description):
        return False
    if _unspecified(q.description) >= _unspecified(p.description):
        return False
    return not {ev.start for ev in ctx.own_evidence(p)} & {ev.start for ev in ctx.own_evidence(q)}


_OTHER = re.compile(r"\bother\b", re.I)


def _unspecified(title: str) -> int:
    """How many things a title leaves unspecified ("Unspecified abdominal pain": 1)."""
    return len(_NOT_SPECIFIED.findall(title))


def _title_words(title: str) -> frozenset[str]:
    """A title's content words, without a plural ending (whole words: "tachycardia" is not "tachypnea")."""
    return frozenset(_singular(w) for w in re.findall(r"[a-z]+", title.lower()) if len(w) > 2 and w not in _TITLE_STOP)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "is", "us")) else word


_TITLE_STOP = frozenset("and the with for due other without".split())


FILTERS: tuple[Filter, ...] = (
    specified_elsewhere,
    one_per_finding,
    excludes1_with_guideline_codes,
    contradicts_the_mentions,
    neoplasm_behaviour,
    less_specific_for_the_same_words,
    acute_on_chronic,
    unspecified_illness,
    past_history_only,
    stated_words_read_once,
    organism_in_the_diagnosis,
    operative_report_procedures,
    inspection_within_a_procedure,
    unspecified_site_malignancy,
    unspecified_behaviour_neoplasm,
    unspecified_region_injury,
    outpatient_procedures,
    statistics_need_a_document,
    integral_symptoms,
    symptoms_the_diagnoses_leave_out,
    family_history_unless_stated,
    past_tobacco_with_current_use,
    statistics_only_in_a_dictation,
    review_of_systems_only,
    substance_use_hierarchy,
    malignancy_history_with_current_malignancy,
    external_cause_without_injury,
)


def apply_filters(
    ranked: list[CodeProposal], ctx: FilterContext, filters: tuple[Filter, ...] = FILTERS
) -> tuple[list[CodeProposal], list[CodeProposal]]:
    """(shown, alternatives): ``ranked`` (best first) through the filters in order; each code a filter
    moves carries its reason in its rationale."""
    shown, moved = list(ranked), []
    for rule in filters:
        reasons = rule(shown, ctx)
        moved += [
            p.because(why if isinstance(why := reasons[i], Reason) else Reason(ReasonKind.NOT_PROPOSED, (), why))
            for i, p in enumerate(shown)
            if i in reasons
        ]
        shown = [p for i, p in enumerate(shown) if i not in reasons]
    return shown, moved
