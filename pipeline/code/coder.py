"""Propose ICD-10-CM and ICD-10-PCS codes from extracted entities.

For each mention: read its query with the words around it the Alphabetic Index reads
(:mod:`pipeline.code.rules.index_query`), look it up in the Index first and in the code-set candidate
index (TF-IDF over tabular descriptions, inclusion terms and Index paths), then apply the guideline logic a coder
applies before writing a code down:

* negated or hypothetical findings are not coded;
* uncertain diagnoses ("probable", "rule out") are not coded in the outpatient setting
  (Guidelines IV.H) and are coded as if established for inpatients (II.H, III.C);
* a family-history finding becomes its Z80-Z84 code, never the disease itself;
* "history of" a resolved condition becomes its personal-history code (Z85-Z87, I25.2 ...),
  a lifelong condition stays coded as current;
* ICD-10-PCS codes are proposed for inpatient encounters only: an outpatient encounter's
  procedures are reported with CPT/HCPCS, so its PCS codes become alternatives a coder may still add.

Then, per mention, :mod:`pipeline.code.rules.alternates` keeps one code unless a coder has a real
choice (type words agree, no Excludes1 pair from one mention) and :mod:`pipeline.code.rules.specificity`
matches laterality, episode of care and CKD stage to the text (noting what is missing); per
document, :mod:`pipeline.code.rules.combinations` applies the combination codes the classification
requires (diabetes "with", hypertension with heart / kidney disease).

After the re-ranker has scored them, :mod:`pipeline.code.rules.guideline_filters` settles which codes
are proposed and which become alternatives, each with its reason (one code per finding, R69 and
C80.1 only alone, integral symptoms ...).

Proposals for the same code merge their evidence; ranked by score. Each carries the messages of
the coding edits (``pipeline/code/edits/checks.py``) that name its code, e.g. an Excludes1 pair among
the alternatives or a manifestation code proposed without its etiology.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from pipeline.code.edits.checks import with_edits
from pipeline.code.edits.integral import integral_to
from pipeline.code.edits.tabular import excluded_to
from pipeline.code.lookup.candidates import CANDIDATES_K, Candidate, CodeIndex
from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.lookup.index_lookup import lookup, names_the_main_term, states_the_main_term, without_episode
from pipeline.code.lookup.index_lookup import words as index_words
from pipeline.code.lookup.indexes import CodeIndexes, shared_code_indexes
from pipeline.code.rank import title_overlap
from pipeline.code.rank.dictation_calibration import decide as decide_dictation
from pipeline.code.rank.dictation_calibration import is_dictation
from pipeline.code.rank.rerank import (
    MODEL_PATH,
    Exclusions,
    Reranker,
    load_reranker,
    not_coded_spans,
    word_match,
)
from pipeline.code.rules import index_query, pcs_index_reading, specificity
from pipeline.code.rules.alternates import EXACT, INDEX_READING, select
from pipeline.code.rules.arthroplasty import arthroplasty_query
from pipeline.code.rules.body_mass import body_mass_index
from pipeline.code.rules.combinations import BLEEDING_CODES, combine
from pipeline.code.rules.drug_effects import drug_effects
from pipeline.code.rules.endoscopic_removal import narrated_procedures
from pipeline.code.rules.external_causes import external_causes, is_external_cause
from pipeline.code.rules.guideline_filters import FilterContext, apply_filters, family_history_bears, site_malignancy
from pipeline.code.rules.history import MALIGNANCY as MALIGNANCY_HISTORY
from pipeline.code.rules.history import (
    MALIGNANCY_WORDS,
    acute_only,
    history_code_for,
    is_chronic,
    resolved_after,
    told_as_history,
)
from pipeline.code.rules.imaging import imaging_query
from pipeline.code.rules.medications import StatusKind, status_codes
from pipeline.code.rules.named_procedures import named_procedure_query
from pipeline.code.rules.neoplasm import SECONDARY_MORPHOLOGY, mesothelioma_site, secondary_sites, still_treated
from pipeline.code.rules.note_text import OBSERVATION_SECTIONS, body_system_heading
from pipeline.code.rules.pcs_approach import conventional_order
from pipeline.code.rules.pregnancy import gestation_weeks, trimester
from pipeline.code.rules.screening import screened_for, screening_for, screening_procedure
from pipeline.code.rules.sequencing import sequence
from pipeline.code.rules.social_history import is_social_history, social_code
from pipeline.code.rules.status import (
    PAST_PROCEDURE,
    REPORTED_STATUS,
    device_gone,
    device_statuses,
    index_status,
    names_a_past_procedure,
    ongoing_dependences,
    status_candidate,
    status_query,
)
from pipeline.code.rules.therapy_encounter import therapy_encounter
from pipeline.code.rules.tobacco import is_tobacco, tobacco_code
from pipeline.code.types import CM, PCS, CodeProposal, Evidence, Reason, ReasonKind, SkippedFinding
from pipeline.extract.types import Entity
from pipeline.settings import Settings, get_settings

CM_LABELS = ("PROBLEM", "SYMPTOM")
PCS_LABELS = ("PROCEDURE",)
TEST_LABELS = ("TEST",)  # imaging and other tests: PCS candidates for the re-ranker (section B imaging ...)
MODEL_VERSION = "terminology-tfidf-0.3+rerank"
PCS_MIN_SCORE = 0.6  # PCS titles share many words across body parts; weak matches mislead

log = logging.getLogger(__name__)
IndexFor = Callable[[str], CodeIndex]  # code system -> its candidate index


@dataclass
class CodingResult:
    proposals: list[CodeProposal]
    skipped: list[SkippedFinding] = field(default_factory=list)
    # ranked codes below the product threshold: shown on request, and scored by ranking metrics (MAP, recall@k)
    alternatives: list[CodeProposal] = field(default_factory=list)


@dataclass(frozen=True)
class MentionCandidates:
    """One coded mention and its index candidates (best first): what the re-ranker reads."""

    entity: Entity
    system: str
    candidates: list


def _evidence(e: Entity) -> Evidence:
    return Evidence(e.start, e.end, e.text, e.audio_start, e.audio_end)


_BLOOD_LOSS = re.compile(r"^(?:estimated\s+)?blood\s+loss$|^ebl$", re.I)
_BLOOD_LOSS_AMOUNT = re.compile(
    r"\b(?:estimated|minimal|negligible|scant|less than|approximately|about)\b|\d+\s*(?:ml|cc|milliliters?|millilitres?)\b", re.I
)


def _operative_blood_loss(e: Entity, text: str | None) -> bool:
    """ "Blood loss was minimal", "Estimated blood loss: 50 mL": the operative report's routine
    statement of blood lost, not a diagnosis (hemorrhage or anemia is coded when the physician
    documents one)."""
    if not text or not _BLOOD_LOSS.match(e.text.strip()):
        return False
    return bool(_BLOOD_LOSS_AMOUNT.search(text[max(0, e.start - 20) : e.end + 40]))


# "All hematoma was evacuated", "There was some hematoma at the cath site", "bleeding was controlled with
# cautery": what an operation or a procedure's narrative meets on its way, no injury (T14.8) or hemorrhage
# (R58) of the patient's
_NARRATED_BLEEDING = re.compile(
    r"^\s*(?:(?:a\s+)?(?:small|some|minimal|minor|mild|slight|little)\s+)?"
    r"(?:hematomas?|bleeding|bleeders?|oozing|hemorrhage|ecchymos[ie]s|bruising)\s*$",
    re.I,
)
# ... and so is the bleeding of a sentence that tells its surgical control ("minimal bleeding noted", "after
# clamping the tissue to control bleeding"), whatever its heading
_SURGICAL_CONTROL = re.compile(
    r"\b(?:control(?:led|ling)?|cauteri[sz]\w*|electrocautery|bovie|hemosta\w*|clamp\w*|ligat\w*|"
    r"tolerated the procedure|minimal|estimated blood loss)\b",
    re.I,
)
# "which may cause serious bleeding", "can lead to kidney failure": a warned-of consequence
_CONSEQUENCE_WARNED = re.compile(
    r"\b(?:may|might|could|can|will)\s+(?:\w+\s+)?(?:cause|lead\s+to|result\s+in|precipitate|increase\s+(?:the\s+)?risk\s+of)"
    r"\s+(?:\w+\s+){0,2}$",
    re.I,
)


_ALLERGY_WORD = re.compile(r"^(?:drug\s+|medication\s+)?allerg(?:y|ies|ic)$", re.I)
# the reaction after an allergy list's drug: "Celecoxib (rash)", "penicillin - hives", "sulfa causes a rash"
_REACTION_BEFORE = re.compile(r"[A-Za-z]\s*(?:\(|[-–:]|\bcaus(?:es|ed|ing)\b|\bgives?\b)\s*(?:a\s+|an\s+)?$")


# "sharp dissection", "blunt dissection": the surgeon's technique; a dissection that is a diagnosis names
# its vessel ("aortic dissection", "dissection of the carotid artery")
_SURGICAL_DISSECTION = re.compile(
    r"^(?:(?:sharp|blunt|careful|meticulous|further|electrocautery|cautery|finger|gentle)\s+)*dissection$", re.I
)
# "DISCHARGE DIAGNOSES: 1. Falls": the falls are the diagnosis (Index: Falling, falls (repeated) R29.6),
# not the external cause of an injury
_FALLS = re.compile(r"^(?:(?:recurrent|repeated|frequent|multiple|recent)\s+)?falls?$", re.I)


def _falls_diagnosed(e: Entity) -> bool:
    return e.section in DIAGNOSIS_SECTIONS and bool(_FALLS.match(e.text.strip()))


# a mention cut off at a conjunction ("whether this is chronic or acute" read as "chronic or"): a
# modifier with no finding
_CUT_AT_CONJUNCTION = re.compile(r"^(?:[a-z]+\s+){0,2}(?:or|and|nor|versus|vs)\.?$", re.I)


_ADJECTIVE = re.compile(r"^[a-z]+(?:ic|tic|ous|ed|oid|ive)$", re.I)


def _adjectives_of_findings(mentions: list[Entity], text: str | None) -> list[Entity]:
    """One-word adjectives extraction took for findings that stand right before another finding of the
    same noun phrase ("necrotic sacral decubitus", "erythematous rash"): the phrase's head is the finding,
    and the adjective is read with it, not coded apart (Gangrene I96 for a necrotic pressure ulcer)."""
    if not text:
        return []
    out = []
    for e in mentions:
        if " " in e.text.strip() or not _ADJECTIVE.match(e.text.strip()):
            continue
        if any(o is not e and o.start >= e.end and not text[e.end : o.start].strip() for o in mentions):
            out.append(e)
    return out


# "CTA chest PE study showing no evidence for pulmonary embolism": the name of a test that found nothing
# (an "epigastric pain study" or a "thrombophilia study, which revealed ..." tells of the finding)
_TEST_FOR = re.compile(r"\s*(?:study|protocol)\b[^.;\n]{0,40}?\b(?:no|negative|without)\b", re.I)
# a consent discussion: "I also explained to her complications including rare cases of death secondary to DVT,
# PE, leak, peritonitis, sepsis, shock" names what might happen, not what the patient has (a list no
# hypothetical scope of the extraction runs through, past its "secondary to")
_RISKS_NAMED = re.compile(
    r"\b(?:risks?|complications?)\s+(?:\w+\s+){0,3}?(?:including|include[sd]?|such\s+as|as\s+well\s+as)\b", re.I
)
_DISCUSSED = re.compile(r"\b(?:explain|discuss|review|inform|counsel|consent|understand|aware|agree)", re.I)
# "an indwelling pain catheter", "OpSite over the pain pump", "Marcaine ... for post-op pain relief", "seen
# for his pain management": a symptom word naming the treatment or device for it, not a finding
_TREATMENT_AFTER = re.compile(
    r"\s*(?:catheters?|pumps?|relief|management|control|medications?|meds|regimen|service|clinic|specialists?|"
    r"contract|block|scale|score)\b",
    re.I,
)
_TREATED_SYMPTOM = re.compile(r"^(?:post-?op(?:erative)?\s+)?(?:pain|nausea)$", re.I)
# in the sections that record what was observed (note_text.OBSERVATION_SECTIONS): "Abdomen: Moderately
# overweight." is how the patient looks, which the training notes' coder never coded as overweight
# (E66.3) without the physician's diagnosis
_HABITUS = re.compile(r"^(?:(?:moderately|mildly|slightly|somewhat|very)\s+)?overweight$", re.I)


# "Anesthesia: General endotracheal.", "under general anesthesia": the anesthetic given; anesthesia as a
# finding is of a site ("anesthesia of the left hand", Index: Anesthesia, skin R20.0)
_ANESTHESIA = re.compile(r"^(?:(?:general|local|spinal|epidural|regional|endotracheal|monitored)\s+)*an(?:a)?esthesia$", re.I)
_ANESTHESIA_SITE_AFTER = re.compile(r"^\s*(?:of|in|over|to|along|on)\b", re.I)


# the airway of a general anesthetic ("placed under general endotracheal intubation anesthesia"): part of
# the anesthesia, not an intubation a coder reports (one in the emergency department or for ventilation is)
_INTUBATION = re.compile(r"^(?:(?:general|oral|nasal|endotracheal|orotracheal|nasotracheal)\s+)*intubation$", re.I)
_OF_THE_ANESTHETIC = re.compile(r"\b(?:under|general|an(?:a)?esthe\w*)\b[^.;:]*$", re.I)  # "General anesthesia ... with"
_ANESTHESIA_AFTER = re.compile(r"^\s*an(?:a)?esthe", re.I)


def _anesthetic_given(e: Entity, text: str | None) -> bool:
    """The mention is the anesthesia a procedure was done under: the word alone or with its type, not
    followed by the site a loss of sensation would be of; or the intubation of a general anesthetic."""
    mention = e.text.strip()
    if _INTUBATION.match(mention):
        return e.section == "anesthesia" or bool(
            text
            and (
                _ANESTHESIA_AFTER.match(text[e.end : e.end + 20])
                or _OF_THE_ANESTHETIC.search(text[max(0, e.start - 60) : e.start])
            )
        )
    return bool(_ANESTHESIA.match(mention)) and not (text and _ANESTHESIA_SITE_AFTER.match(text[e.end : e.end + 20]))


# a procedure mention that is only a generic word: "Once adequate study has been performed" is no nerve
# conduction study (the Index's nearest title), "the procedure was explained" no procedure (a test mention
# is left alone: skipping those changes the words the document-level model reads, for no better code)
_NO_PROCEDURE_NAMED = re.compile(
    r"^\s*(?:the\s+)?(?:stud(?:y|ies)|procedures?|tests?|testing|exam(?:ination)?s?|evaluations?|work-?ups?|imaging|scans?)\s*$",
    re.I,
)


def _skip_reason(e: Entity, setting: str, text: str | None = None, diagnosed: bool = False) -> str | None:
    """Why the guidelines leave the mention uncoded, or None. ``diagnosed``: the note states its
    diagnoses under a diagnosis heading (:data:`DIAGNOSIS_SECTIONS`)."""
    if _SURGICAL_DISSECTION.match(e.text.strip()):
        return "a dissection that names no vessel: the surgeon's technique, not a diagnosis"
    if _CUT_AT_CONJUNCTION.match(e.text.strip()):
        return "words cut off at a conjunction: they name no finding"
    if _anesthetic_given(e, text):
        return (
            "the anesthesia given for the procedure (general, endotracheal, local): not a loss of sensation (R20.0),"
            " nor an intubation reported apart from it"
        )
    if _operative_blood_loss(e, text):
        return "operative blood loss stated: a routine operative report statement, not a diagnosis"
    if (
        e.label in CM_LABELS
        and _NARRATED_BLEEDING.match(e.text)
        and (e.section == "procedure" or (text and _SURGICAL_CONTROL.search(_sentence_of(e, text))))
    ):
        return (
            "bleeding or a hematoma the procedure's narrative reports (evacuated, controlled, at the puncture site): "
            "part of the procedure; a complication is coded only where the physician documents one (Guidelines I.B.16)"
        )
    if e.label in CM_LABELS and text and text[e.start : e.end] == e.text and _risk_discussed(e, text):
        return 'a risk or complication a consent discussion names ("complications including ... sepsis"), not a finding'
    if e.label in CM_LABELS and _CONSEQUENCE_WARNED.search(_sentence_before(e, text)):
        return 'a consequence the note warns of ("antibiotics ... may cause serious bleeding"), not a finding'
    if text and body_system_heading(text, e.start, e.end):
        return 'the heading of a body system the examination or review of systems reports on ("SKIN:"), not a finding'
    if e.negated:
        return "negated: documented as absent, not coded"
    if text and e.label in CM_LABELS and _TEST_FOR.match(text[e.end : e.end + 60]):
        return 'the name of a test that found no such thing ("PE study showing no evidence for ..."), not a finding'
    if (
        text
        and e.label in CM_LABELS
        and _TREATED_SYMPTOM.match(e.text.strip())
        and _TREATMENT_AFTER.match(text[e.end : e.end + 20])
    ):
        return 'the name of a treatment or device for the symptom ("pain pump", "pain management"): not a finding'
    if e.section in OBSERVATION_SECTIONS and _HABITUS.match(e.text.strip()):
        return "the body habitus the examination describes, not a diagnosis the physician makes (E66.3 needs one)"
    if e.section == "allergies" and _ALLERGY_WORD.match(e.text):
        return "an allergy list's heading word: the drug it names is reported by its allergy status code (Z88)"
    if (
        e.section == "allergies"
        and e.label in CM_LABELS
        and text
        and _REACTION_BEFORE.search(text[max(0, e.start - 25) : e.start])
    ):
        return 'a reaction the allergy list gives for a drug ("celecoxib (rash)"): a past reaction, reported by the allergy status code (Z88)'
    if e.hypothetical:
        return "hypothetical: a possible future condition, not coded"
    if e.label in PCS_LABELS and _NO_PROCEDURE_NAMED.match(e.text):
        return 'a word that names no procedure or test ("the study", "the procedure"): not coded on its own'
    if e.section == "plan" and e.label in PCS_LABELS + TEST_LABELS:
        return "a procedure or test the plan or recommendations name: planned, not performed in this encounter"
    if e.uncertain and not e.family and setting == "outpatient":
        return "uncertain diagnosis in the outpatient setting: not coded (Guidelines IV.H); code the symptoms instead"
    if e.uncertain and not e.family and diagnosed and e.section not in CONCLUSION_SECTIONS:
        return (
            "uncertain, and not in the physician's diagnostic statement: only a diagnosis documented as the "
            "conclusion is coded as if established (Guidelines II.H, III.C); the diagnosis headings say what was found"
        )
    return None


class Coder:
    """Owns what coding loads for one process or worker: the code indexes (:class:`CodeIndexes`, by
    default the process's shared ones, which the NER linker reads too) and the re-ranker model
    (loaded on first use). The stage runner creates one per process; ``propose`` codes one document."""

    def __init__(self, settings: Settings | None = None, indexes: CodeIndexes | None = None) -> None:
        self.settings = settings or get_settings()
        self.indexes = indexes or shared_code_indexes(self.settings.cache_dir / "code-index")
        self._reranker: Reranker | None = None
        self._reranker_loaded = False
        self._lock = threading.Lock()

    def index(self, system: str) -> CodeIndex:
        """The candidate index of ``system`` ("ICD-10-CM" or "ICD-10-PCS")."""
        return self.indexes.get(system)

    @property
    def reranker(self) -> Reranker | None:
        """The shipped re-ranker, or None when turned off (``MRT_RERANK=false``) or absent."""
        if not self.settings.rerank:
            return None
        with self._lock:
            if not self._reranker_loaded:
                self._reranker, self._reranker_loaded = load_reranker(MODEL_PATH), True
            return self._reranker

    def first_pass(
        self, entities: list[Entity], setting: str | None = None, text: str | None = None
    ) -> tuple[list[CodeProposal], list[SkippedFinding], list[MentionCandidates], Exclusions]:
        """The guideline pass alone (:func:`first_pass`)."""
        return first_pass(entities, self.settings, setting or self.settings.care_setting, text, self.index)

    def propose(self, entities: list[Entity], setting: str | None = None, text: str | None = None) -> CodingResult:
        """Ranked code proposals (best first) for one document's entities. ``text``, the document the
        entities come from, lets the coder read details stated next to a mention (CKD stage, episode
        of care); without it only the mention's own words count.

        The guideline pass (:func:`first_pass`) makes the codes; the re-ranker
        (:mod:`pipeline.code.rank.rerank`, trained on CodiEsp train) adds candidates the mentions support and
        gives every code a calibrated score. Codes scoring at least ``settings.proposal_threshold`` are
        the proposals; the next ``max_alternatives`` of each system are kept as ranked alternatives."""
        return _propose(self, entities, setting or self.settings.care_setting, text)


_coders: dict[str, Coder] = {}
_coders_lock = threading.Lock()


def coder_for(settings: Settings | None = None) -> Coder:
    """One :class:`Coder` per distinct settings in this process, for callers that code a document
    now and then (the CLI, evaluation scripts) rather than holding a coder of their own."""
    settings = settings or get_settings()
    key = settings.model_dump_json()
    with _coders_lock:
        if key not in _coders:
            _coders[key] = Coder(settings)
        return _coders[key]


def propose_codes(
    entities: list[Entity], settings: Settings | None = None, setting: str | None = None, text: str | None = None
) -> CodingResult:
    """:meth:`Coder.propose` of :func:`coder_for` ``settings``."""
    return coder_for(settings).propose(entities, setting, text)


def _propose(coder: Coder, entities: list[Entity], setting: str, text: str | None) -> CodingResult:
    settings = coder.settings
    log.debug("coding %d entities (%s)", len(entities), setting)
    # a cancer's secondary sites the words state ("metastatic adenocarcinoma in the brain"): mentions of their own
    secondary = secondary_sites(entities, text)
    replaced = [e for site in secondary for e in site.replaces]
    if secondary:
        entities = sorted(
            [e for e in entities if e not in replaced] + [site.mention for site in secondary], key=lambda e: e.start
        )
    proposals, skipped, mentions, exclusions = first_pass(entities, settings, setting, text, coder.index)
    skipped += [SkippedFinding(e.text, e.start, e.end, SECONDARY_MORPHOLOGY) for e in replaced]
    own = _EvidenceOwner(proposals, mentions)
    stated = stated_diagnoses(proposals, entities, coder.index)
    # procedures named under the procedure heading, and what an endoscopy report narrates as removed,
    # destroyed or biopsied, segment by segment (PCS codes are the inpatient setting's)
    performed = (
        stated_procedures(proposals, entities)
        | {p.code: "the report narrates this procedure" for p in proposals if p.has(ReasonKind.NARRATED_PROCEDURE)}
        if setting != "outpatient"
        else {}
    )
    # what the encounter is for, as the note states it, whatever the re-ranker learned: a screening
    # (I.C.21.c.5), the administration of antineoplastic therapy (I.C.2.e.2)
    encounter_reasons = {
        p.code: "the note states the encounter screens for this"
        if p.has(ReasonKind.SCREENING)
        else "the note states the encounter is for this therapy"
        for p in proposals
        if p.has(ReasonKind.SCREENING, ReasonKind.THERAPY_ENCOUNTER)
    }
    specific = documented_specific(proposals, exclusions, settings.min_code_score)
    # codes that stand on the documentation alone: near word-for-word matches, and codes the guideline
    # rules wrote (K81.9 -> K80.00 with calculus), where the mention is what the code names; a side
    # stated does not make a loose match right ("pain" of "pain to the left lower mandible area" is no
    # S03.42XA "sprain of jaw, left", "contusions" no S35.492A "injury of left renal artery")
    firm = {
        p.code
        for p in proposals
        if (p.score >= STATED_CLOSE_MATCH or _head_agrees(p))
        and (p.has(ReasonKind.SPECIFIED) or _spelled_out(p, coder.index(p.system)))
    } | {p.code for p in proposals if p.has(ReasonKind.COMBINATION) and p.code in stated}  # the statement's combination code
    required = guideline_required(proposals)
    rule_codes = {p.code for p in proposals}
    model = coder.reranker
    if model is not None:
        proposals = model.rescore(
            proposals, mentions, text, not_coded_spans(entities, skipped), exclusions, index_for=coder.index
        )
        # the codes the note's lists document keep the score they earned on the dictation set's dev notes
        # (11 of 12 right), not the re-ranker's, which learned case reports without such lists
        proposals = [replace(p, score=max(p.score, LIST_STATUS_SCORE)) if _documented_status(p) else p for p in proposals]
        # ... and so do the procedures the report names under its heading or narrates as done (10 of 15
        # right on the training notes, 4 of 6 on the dev notes): the re-ranker, which learned case reports,
        # gives an operation it never saw coded there (a vertebroplasty's 0PU43JZ) 0.01
        proposals = [_scored_as_performed(p, performed[p.code]) if p.code in performed else p for p in proposals]
        # a looser match stands on the physician's word only where the re-ranker does not rule it out
        # ("community acquired pneumonia of the right lower lobe" is not M21.961 "acquired deformity of right lower leg")
        scored = {p.code: p.score for p in proposals}
        specific = {c for c in specific if c in firm or scored.get(c, 0.0) >= STATED_MIN_RERANK}
        stated = {c: why for c, why in stated.items() if c in firm or scored.get(c, 0.0) >= STATED_MIN_RERANK}
    required |= specific | set(stated) | set(performed) | set(encounter_reasons)
    proposals, required, stated = _both_sides(proposals, required, stated)
    proposals.sort(key=lambda p: (-p.score, p.evidence[0].start if p.evidence else 0))
    threshold = settings.proposal_threshold if model is not None else 0.0  # without the model: every match, as before
    operative = any(e.label in PCS_LABELS and e.section in PROCEDURE_SECTIONS for e in entities)
    context = FilterContext(
        setting,
        frozenset(rule_codes),
        frozenset(required),
        stated,
        operative,
        tuple((m.entity.start, m.entity.end, m.entity.text) for m in mentions),
        len(text.split()) if text else None,
        past_history(entities, rule_codes, [own.trim(p) for p in proposals]),
        concluded=frozenset(e.start for e in entities if e.section in CONCLUSION_SECTIONS),
        symptoms=frozenset(e.start for e in entities if e.label == "SYMPTOM"),
        review_of_systems=frozenset(e.start for e in entities if e.section == REVIEW_OF_SYSTEMS),
        dictation=is_dictation(entities, text),
        owned=own.trim,
        family_history_bears=family_history_bears(text),
    )
    why_required = {
        c: stated.get(c) or performed.get(c) or encounter_reasons.get(c) or "the guidelines require this code" for c in required
    }
    shown, rest = apply_filters([p for p in proposals if p.score >= threshold or p.code in required], context)
    stated = _stated_with_its_detail(rest, stated, {p.code for p in shown})
    why_required |= {c: why for c, why in stated.items() if c not in why_required}
    shown = [
        p
        if p.score >= threshold
        else p.because(
            Reason(
                ReasonKind.REQUIRED_BELOW_THRESHOLD, (), f"proposed although scored below {threshold:.2f}: {why_required[p.code]}"
            )
        )
        for p in shown
    ]
    below = _with_guideline_reasons([p for p in proposals if p.score < threshold and p.code not in required], shown, context)
    rest = sorted(rest + below, key=lambda p: -p.score)
    if model is not None and settings.calibrate_dictations:
        shown, rest = decide_dictation(
            shown, rest, setting, why_required, set(stated) | set(performed) | set(encounter_reasons), entities
        )
    rest = _first_per_system(rest, settings.max_alternatives)
    shown = with_edits(sequence(shown, setting, list(stated)), setting=setting)
    return CodingResult([own.trim(p) for p in shown], skipped, [own.trim(p) for p in rest])


def _stated_with_its_detail(moved: list[CodeProposal], stated: dict[str, str], shown: set[str]) -> dict[str, str]:
    """The codes that took a stated diagnosis's place because the note documents it with more detail
    ("Anemia" among the discharge diagnoses, "microcytic anemia" in the present illness: D50.9, not
    D64.9): stated in its place, so what the physician states is proposed (Guidelines I.B.1-2). The
    stated codes, each detail right after the code it details (the physician's order decides sequencing)."""
    detail = {
        p.code: r.codes[0]
        for p in moved
        if p.code in stated
        for r in p.reasons
        if r.kind is ReasonKind.NOT_PROPOSED and r.codes and r.codes[0] in shown and r.codes[0] not in stated
    }
    out: dict[str, str] = {}
    for code, why in stated.items():
        out[code] = why
        if code in detail:
            out.setdefault(detail[code], f"{why} ({code}), to the detail the note documents")
    return out


def _both_sides(
    proposals: list[CodeProposal], required: set[str], stated: dict[str, str]
) -> tuple[list[CodeProposal], set[str], dict[str, str]]:
    """Each side's code of a bilateral condition (Guidelines I.B.13) is one decision: both get the
    better score of the two, both are required when one is, and both are stated when one is (the
    re-ranker, which learned case reports, scores the right side's code and the left side's apart)."""
    pairs = [r.codes for p in proposals for r in p.reasons if r.kind is ReasonKind.BOTH_SIDES and len(r.codes) == 2]
    if not pairs:
        return proposals, required, stated
    score = {p.code: p.score for p in proposals}
    best: dict[str, float] = {}
    required, stated = set(required), dict(stated)
    for pair in pairs:
        if all(c in score for c in pair):
            top = max(score[c] for c in pair)
            for c in pair:
                best[c] = max(best.get(c, 0.0), top)
            if required & set(pair):
                required |= set(pair)
            if why := next((stated[c] for c in pair if c in stated), None):
                stated.update({c: why for c in pair if c not in stated})
    return [replace(p, score=best[p.code]) if p.code in best else p for p in proposals], required, stated


class _EvidenceOwner:
    """Which mentions a code codes, so its evidence lists those words only (not every mention whose
    similar CodiEsp cases or near-miss index matches brought the code up). In order, the first that
    applies: the mentions the guideline pass coded to it (a combination code: each finding it
    combines); the mentions whose best index match it is; the mentions whose index candidates
    name it in the mention's own words; the mentions whose index candidates hold it; else the
    first evidence found (a code suggested by similar cases or the document model: the first
    mention or sentence that suggested it)."""

    WORD_MATCH = 0.5

    def __init__(self, rule: list[CodeProposal], mentions: list[MentionCandidates]) -> None:
        self.coded = {p.code: frozenset(ev.start for ev in p.evidence) for p in rule}
        self.best: dict[str, set[int]] = {}
        self.worded: dict[str, set[int]] = {}
        self.listed: dict[str, set[int]] = {}
        for m in mentions:
            if m.candidates:
                self.best.setdefault(m.candidates[0].code, set()).add(m.entity.start)
            for c in m.candidates:
                self.listed.setdefault(c.code, set()).add(m.entity.start)
                if word_match(m.entity.query_text, c.alias) >= self.WORD_MATCH:
                    self.worded.setdefault(c.code, set()).add(m.entity.start)

    def trim(self, p: CodeProposal) -> CodeProposal:
        for owners in (self.coded, self.best, self.worded, self.listed):
            starts = owners.get(p.code)
            kept = [ev for ev in p.evidence if starts and ev.start in starts]
            if kept:
                return p if len(kept) == len(p.evidence) else replace(p, evidence=kept)
        return p if len(p.evidence) <= 1 else replace(p, evidence=p.evidence[:1])


def _with_guideline_reasons(below: list[CodeProposal], shown: list[CodeProposal], context: FilterContext) -> list[CodeProposal]:
    """Codes scored below the threshold, each with the guideline reason a filter would give it next
    to the proposals ("integral to J20.9 (I.B.5)"): a score can put a code below the threshold (on a
    dictation, the calibration does) before a filter has said why a coder would not report it."""
    if not below:
        return below
    keys = {(p.system, p.code) for p in below}
    _, moved = apply_filters(sorted(shown + below, key=lambda p: -p.score), context)
    why = {(p.system, p.code): p.reasons for p in moved if (p.system, p.code) in keys}
    return [replace(p, reasons=why.get((p.system, p.code), p.reasons)) for p in below]


def past_history(entities: list[Entity], rule_codes: set[str], proposals: list[CodeProposal]) -> frozenset[int]:
    """Starts of the mentions documented as the patient's past history and coded to a personal-history
    code (not kept current as a lifelong condition). ``proposals`` carry their own evidence only
    (:class:`_EvidenceOwner`): a current code that similar cases brought up lists other mentions too."""
    current = {
        ev.start
        for p in proposals
        if p.code in rule_codes and p.system == CM and not p.code.startswith("Z8")
        for ev in p.evidence
    }
    return frozenset(
        e.start for e in entities if e.historical and not e.family and e.label in CM_LABELS and e.start not in current
    )


def _first_per_system(ranked: list[CodeProposal], n: int) -> list[CodeProposal]:
    """The first ``n`` codes of each system, in ranked order."""
    seen: dict[str, int] = {}
    out = []
    for p in ranked:
        seen[p.system] = seen.get(p.system, 0) + 1
        if seen[p.system] <= n:
            out.append(p)
    return out


DIAGNOSIS_SECTIONS = {
    "assessment": "the assessment",
    "assessment_and_plan": "the assessment",
    "impression": "the impression",
    "admission_diagnosis": "the admission diagnosis",
    "discharge_diagnosis": "the discharge diagnosis",
    "preoperative_diagnosis": "the preoperative diagnosis",
    "postoperative_diagnosis": "the postoperative diagnosis",
}
# where the physician concludes: the diagnosis headings, the plan and indications that name what is treated,
# and the pathology diagnosis a summary reports
CONCLUSION_SECTIONS = frozenset(DIAGNOSIS_SECTIONS) | {"plan", "indications", "pathology"}
REVIEW_OF_SYSTEMS = "review_of_systems"
PROCEDURE_SECTIONS = {"procedure"}  # "Procedure:", "Operation performed:", "Description of procedure:" ...
LIST_STATUS_REASONS = (
    ReasonKind.LONG_TERM_DRUG_THERAPY,
    ReasonKind.DEPENDENCE_STATUS,
    ReasonKind.ALLERGY_STATUS,
    ReasonKind.TOBACCO_USE,
    ReasonKind.EXTERNAL_CAUSE,
    ReasonKind.WEEKS_OF_GESTATION,
    ReasonKind.BODY_MASS_INDEX,
    ReasonKind.SOCIAL_DETERMINANT,
    ReasonKind.DRUG_EFFECT,
)
LIST_STATUS_SCORE = 0.9
PERFORMED_SCORE = 0.65  # a procedure the report names as done: how often coders code it (training notes)
UNREPORTED_DRUG_CLASS = "a long-term drug therapy class this facility does not report (setting MRT_LONG_TERM_DRUG_CODES)"


def _scored_as_performed(p: CodeProposal, why: str) -> CodeProposal:
    """A procedure the report names as done, scored at least :data:`PERFORMED_SCORE`, with why."""
    if p.score >= PERFORMED_SCORE:
        return p
    return replace(p, score=PERFORMED_SCORE).because(
        Reason(
            ReasonKind.PERFORMED_PROCEDURE,
            (),
            f"{why}: scored {PERFORMED_SCORE:.2f}, as often as coders code such a procedure (hand-coded training dictations)",
        )
    )


def _documented_status(p: CodeProposal) -> bool:
    """A code the note's lists document outright: long-term drugs, allergies, tobacco, an injury's
    external causes, and the statuses a coder always reports (a graft, an implant, dialysis, an absent
    spleen, a malignancy's former site, Guidelines I.C.2.d)."""
    return (
        p.has(*LIST_STATUS_REASONS)
        or (p.has(ReasonKind.PAST_PROCEDURE_STATUS) and p.code.startswith(REPORTED_STATUS))
        or (
            p.has(ReasonKind.PERSONAL_HISTORY)
            and p.code.startswith(MALIGNANCY_HISTORY)
            and any(MALIGNANCY_WORDS.search(ev.text) for ev in p.evidence)
        )
    )


STATED_MIN_SCORE = 0.75  # the diagnosis's words match the code's Index entry or title closely ...
STATED_CLOSE_MATCH = 0.9  # ... and either nearly word for word
STATED_MIN_RERANK = 0.1  # ... or the re-ranker gives it at least this
# a provisional diagnosis heading, and the final one that supersedes it in the same note
PROVISIONAL_DIAGNOSIS_SECTIONS = frozenset({"preoperative_diagnosis", "admission_diagnosis"})
FINAL_DIAGNOSIS_SECTIONS = frozenset({"postoperative_diagnosis", "discharge_diagnosis"})


def stated_diagnoses(proposals: list[CodeProposal], entities: list[Entity], index_for: IndexFor) -> dict[str, str]:
    """Codes of the physician's own diagnostic statement (a problem named in the assessment,
    impression or a diagnosis section, its best code matching it closely): proposed whatever the
    re-ranker's score, which learned CodiEsp case reports rather than dictated assessments.
    A symptom the physician lists is a statement too ("Discharge diagnoses: Abdominal pain of uncertain
    etiology", "Innocent heart murmur"), unless the final diagnosis supersedes it (a symptom given only
    as the preoperative or admitting diagnosis of a note with a postoperative or discharge diagnosis) or
    it is integral to a stated diagnosis (Guidelines I.B.4-5).
    Code -> why, in the order the physician states them."""
    headed = {e.section for e in entities if e.section in DIAGNOSIS_SECTIONS}
    superseded = PROVISIONAL_DIAGNOSIS_SECTIONS if headed & FINAL_DIAGNOSIS_SECTIONS else frozenset()
    where = {e.start: DIAGNOSIS_SECTIONS[e.section] for e in entities if e.label == "PROBLEM" and e.section in DIAGNOSIS_SECTIONS}
    symptoms = {
        e.start: DIAGNOSIS_SECTIONS[e.section]
        for e in entities
        if e.label == "SYMPTOM" and e.section in DIAGNOSIS_SECTIONS and e.section not in superseded
    }

    def stated_in(said: dict[int, str]) -> dict[int, CodeProposal]:
        # a close match, or one whose title names the diagnosis's head word and most of its words
        # ("community acquired pneumonia" J18.9 "pneumonia, unspecified organism", match score 0.59)
        return best_per_mention(
            proposals,
            lambda p: (
                [ev.start for ev in p.evidence if ev.start in said]
                if p.system == CM
                and (
                    p.score >= STATED_MIN_SCORE
                    or (_head_agrees(p) and _spelled_out(p, index_for(p.system)))
                    or bool(p.evidence and _read_whole(p.evidence[0].text, p.code))
                )
                else []
            ),
        )

    best = stated_in(where)
    problems = [p.code for p in best.values()]
    best |= {start: p for start, p in stated_in(symptoms).items() if not integral_to(p.code, problems)}
    return {p.code: f"the physician states this diagnosis in {(where | symptoms)[start]}" for start, p in sorted(best.items())}


def stated_procedures(proposals: list[CodeProposal], entities: list[Entity]) -> dict[str, str]:
    """PCS codes of the procedures the operative report names under its procedure heading, built
    from the tables' words nearly word for word (score at least :data:`STATED_CLOSE_MATCH`): proposed
    whatever the re-ranker's score (CodiEsp case reports rarely code, say, a total knee replacement).
    Code -> why; one code per mention, its best."""
    named = {e.start for e in entities if e.label in PCS_LABELS and e.section in PROCEDURE_SECTIONS}
    best = best_per_mention(
        proposals,
        lambda p: (
            [p.evidence[0].start]
            if p.system == PCS and p.evidence and p.score >= STATED_CLOSE_MATCH and p.evidence[0].start in named
            else []
        ),
    )
    return {p.code: "the operative report names this procedure under its procedure heading" for p in best.values()}


def best_per_mention(proposals: list[CodeProposal], mentions: Callable[[CodeProposal], list[int]]) -> dict[int, CodeProposal]:
    """Per mention (its start offset), the best-scoring proposal of those ``mentions`` ties to it (the
    first of equals): one code per mention, not :func:`pipeline.code.rules.alternates.select`'s alternates."""
    best: dict[int, CodeProposal] = {}
    for p in proposals:
        for start in mentions(p):
            if start not in best or p.score > best[start].score:
                best[start] = p
    return best


SPELLED_OUT_SHARE = 0.6
_WITHOUT = re.compile(r"\bwithout\b(.*)", re.I)


def _spelled_out(p: CodeProposal, index: CodeIndex) -> bool:
    """The mention spells out at least :data:`SPELLED_OUT_SHARE` of the content words of the code's
    title or of one of its Index names: "closed fracture of the left distal radius" S52.502A, but
    not "intubation" T88.4XXA "failed or difficult intubation", "loss of consciousness" S06.0X0A
    "concussion without loss of consciousness" or "right lateral" S83.421A (an index match that
    close on a few words is not documentation enough to propose a code the re-ranker rules out)."""
    if not p.evidence:
        return False
    mention = p.evidence[0].text
    words = title_overlap.stems(specificity.index_query(mention))
    absent = _WITHOUT.search(p.description)
    if absent and not re.search(r"\b(?:without|no|not)\b", mention, re.I) and title_overlap.stems(absent.group(1)) & words:
        return False  # the title rules out what the mention names
    return (
        title_overlap.overlap(p.system, p.code, words) >= SPELLED_OUT_SHARE
        or title_overlap.best_alias(index, p.code, words)[0] >= SPELLED_OUT_SHARE
        or _read_whole(mention, p.code)
    )


def _read_whole(mention: str, code: str) -> bool:
    """The Alphabetic Index reads every word of the mention, to this code: "elevated liver enzymes" is
    Elevated, liver function, test, hepatic enzyme, R74.8, though it spells out little of either's words."""
    query = without_episode(specificity.index_query(mention))
    hit = lookup(query)
    if hit is None or hit.share < 1.0 or (hit.code != code and not _at_the_site_stated(hit.code, code)):
        return False
    return states_the_main_term(query, hit)  # "patterns" states no "Pattern, sleep-wake, irregular"


def _at_the_site_stated(read: str, code: str) -> bool:
    """``code`` is the code ``read`` (of site unspecified) at the site the note states around the
    mention: "T11 compression fracture" is M48.54XA, the Index's reading of "compression fracture"
    (M48.50XA, site unspecified) in the thoracic region."""
    title = (get_codeset().cm_description(read) or "").lower()
    return read[:5] == code[:5] and read[6:] == code[6:] and ("site unspecified" in title or "unspecified site" in title)


def _head_agrees(p: CodeProposal) -> bool:
    """The finding's head word is what the code's title names, before any "of": "fracture" of "closed
    fracture of the left distal radius" in S52.502A's "fracture of lower end of left radius", but
    "pneumonia" of "community acquired pneumonia of the right lower lobe" not in M21.961 "acquired
    deformity of right lower leg", nor "tuberosity" of "the left tuberosity region" (of the maxilla)
    the site of S82.152A "displaced fracture of left tibial tuberosity"."""
    stem = specificity.head_stem(p.evidence[0].text) if p.evidence else None
    return stem is not None and stem in _OF_SITE.split(p.description.lower(), maxsplit=1)[0]


_OF_SITE = re.compile(r"\bof\b")


def guideline_required(proposals: list[CodeProposal]) -> set[str]:
    """Codes of the guideline pass a coder must report whatever the score: family history codes
    (I.C.21.c.4), combination codes (I.A.15, I.C.9.a) and the codes their "use additional code"
    notes keep (the CKD stage, the heart failure type). Personal history codes are scored like any
    other: whether a past condition still matters is the coder's call (on CodiEsp dev, forcing them
    in added 30+ false positives)."""
    out: set[str] = set()
    for p in proposals:
        if _documented_status(p):
            out.add(p.code)  # what the medication, allergy and social history lists say, whatever the score
        if p.has(ReasonKind.ACUTE_AND_CHRONIC):
            out.add(p.code)  # both forms are coded (I.B.8)
        if p.has(ReasonKind.FAMILY_HISTORY, ReasonKind.COMBINATION):
            out.add(p.code)
            for kept in (c for r in p.reasons if r.kind is ReasonKind.KEPT_ALONGSIDE for c in r.codes):
                prefix = kept[:-1] if kept.endswith("-") else None
                found = [q.code for q in proposals if (q.code.startswith(prefix) if prefix else q.code == kept)]
                # "use additional code ... (I50.-)": the most specific of the matches (I50.20, not also I50.9)
                out |= {c for c in found if len(c) == max(map(len, found))}
    return out


def documented_specific(proposals: list[CodeProposal], exclusions: Exclusions, min_score: float) -> set[str]:
    """Index matches whose side or stage the documentation states (an episode of care may be the
    assumed initial encounter of active treatment): the most specific code the text supports
    (S52.502A for "closed fracture of the left distal radius"), proposed whatever the score."""
    best = best_per_mention(
        proposals,
        lambda p: (
            [p.evidence[0].start]
            if p.system == CM
            and p.evidence
            and p.code in exclusions.specified
            and p.score >= min_score
            and not p.has(ReasonKind.MISSING_LATERALITY)
            and _states_more_than_the_episode(p)
            else []
        ),
    )
    return {p.code for p in best.values()}


def _states_more_than_the_episode(p: CodeProposal) -> bool:
    """The documentation decides more of the code than an assumed initial encounter: its side or
    CKD stage, or the episode itself (T14.8XXA for a bare "hematoma" decides nothing stated)."""
    return not p.has(ReasonKind.MISSING_EPISODE_OF_CARE) or _side_or_stage(p.code)


def first_pass(
    entities: list[Entity], settings: Settings, setting: str, text: str | None, index_for: IndexFor
) -> tuple[list[CodeProposal], list[SkippedFinding], list[MentionCandidates], Exclusions]:
    """Guideline-driven codes for the mentions (index match, assertion, history, specificity,
    combination codes) with the raw match scores; the skipped findings; each live mention's candidates;
    the codes the guidelines rule out (less specific codes it replaced, categories of negated,
    uncertain-outpatient, hypothetical and family-history findings). ``index_for``: the candidate
    index of a code system (:meth:`Coder.index`)."""
    k = settings.max_codes_per_entity
    found: dict[tuple[str, str], dict] = {}
    skipped: list[SkippedFinding] = []

    def add(system: str, code: str, description: str, score: float, e: Entity, *why: Reason) -> None:
        slot = found.setdefault(
            (system, code),
            {"description": description, "score": 0.0, "evidence": [], "why": why, "first": e.start},
        )
        if score > slot["score"]:
            slot["score"], slot["why"] = score, why
        if all(ev.start != e.start for ev in slot["evidence"]):
            slot["evidence"].append(_evidence(e))

    def add_documented(code: str, mention: Entity, kind: ReasonKind, why: str) -> None:
        """A code the documentation states outright (an external cause, a status, a list's drug, a screening)."""
        add(CM, code, _cm_title(code) or code, 1.0, mention, Reason(kind, (code,), why))

    cm_mentions = [e for e in entities if e.label in CM_LABELS]
    pcs_mentions = [e for e in entities if e.label in PCS_LABELS]
    diagnosed = any(e.section in DIAGNOSIS_SECTIONS for e in cm_mentions)
    skip = {id(e): _skip_reason(e, setting, text, diagnosed) for e in entities}
    for e in cm_mentions + pcs_mentions:
        if reason := skip[id(e)]:
            log.debug("not coded: %r (%s)", e.text, reason)  # patient text: debug level only
            skipped.append(SkippedFinding(e.text, e.start, e.end, reason))
    cm_live = [e for e in cm_mentions if not skip[id(e)]]
    # what the note denies of the patient ("no history of established coronary artery disease")
    denied = frozenset(e.query_text.lower() for e in cm_mentions if e.negated and not e.family)
    for e in _adjectives_of_findings(cm_live, text):  # "necrotic" of "necrotic sacral decubitus"
        skipped.append(SkippedFinding(e.text, e.start, e.end, "an adjective of the finding it precedes, read with that finding"))
        cm_live.remove(e)
    # a device or past procedure extraction took for a finding ("status post AICD"): its status code
    devices = [e for e in cm_live if e.historical and not e.family and names_a_past_procedure(e.query_text)]
    cm_live = [e for e in cm_live if e not in devices]
    # findings the guidelines keep out: their codes are not brought back by the re-ranker
    cm_out = [e for e in cm_mentions if skip[id(e)] or e.family]
    exclusions = Exclusions()
    pcs_live = [e for e in pcs_mentions if not skip[id(e)] and not e.family]
    test_live = [e for e in entities if e.label in TEST_LABELS and not skip[id(e)] and not e.family]
    mentions: list[MentionCandidates] = []
    cause_mentions: list[Entity] = []

    if cm_live or cm_out:
        site_queries = [_site_query(e, text) for e in cm_live + cm_out]
        # "Colonoscopy ... showed diverticulosis": the organ the endoscope examines states the site
        examined = {id(e): organ for e, (_, organ) in zip(cm_live + cm_out, site_queries) if organ}
        befores = [_sentence_before(e, text) for e in cm_live + cm_out]
        queries = [
            index_query.read_query(q, e, text, before, cm_mentions)
            for e, (q, _), before in zip(cm_live + cm_out, site_queries, befores)
        ]
        cands = _cm_candidates(queries, settings, index_for(CM), [index_query.lead(before) for before in befores])
        for e, q, cs in zip(cm_live, queries, cands):
            # "pain in the right testicle", "ankle pain" coded by its site: R52 "pain, unspecified" does not apply
            if (
                cs
                and cs[0].score >= settings.min_code_score
                and cs[0].code not in specificity.UNSPECIFIED_SITE
                and (q != specificity.index_query(e.query_text) or specificity.names_a_site(e.query_text))
            ):
                exclusions.codes |= specificity.UNSPECIFIED_SITE
            # "left ear infection": the Index reads the infection at its site (Infection, ear - see Otitis media),
            # so the bare word's own code (B99.9 "infection") is no reading of it
            if cs and cs[0].alias.startswith(INDEX_READING) and cs[0].score >= 1.0 and q != specificity.index_query(e.query_text):
                exclusions.codes |= {c.code for c in cs[1:] if c.alias.lower() == e.query_text.lower().strip()}
        for e, cs in zip(cm_out, cands[len(cm_live) :]):
            if cs and cs[0].score >= settings.min_code_score:
                exclusions.categories.add(cs[0].code.replace(".", "")[:3])
        past = told_as_history(cm_live, cands[: len(cm_live)], settings.min_code_score)
        for e, q, cs in zip(cm_live, queries, cands):
            if is_external_cause(e) and not _falls_diagnosed(e):  # coded below, once the record's injury codes are known
                cause_mentions.append(e)
                continue
            if text and screened_for(_sentence_before(e, text), text[e.end : e.end + 20]):  # "colon cancer screening"
                if cs and cs[0].score >= settings.min_code_score:
                    exclusions.categories.add(cs[0].code.replace(".", "")[:3])  # what is screened for is not diagnosed
                screening = screening_for(e.query_text)
                if screening.code is None:
                    skipped.append(SkippedFinding(e.text, e.start, e.end, screening.why))
                    continue
                mentions.append(MentionCandidates(e, CM, []))  # its own candidates are the condition's
                add_documented(screening.code, e, ReasonKind.SCREENING, f'"{e.text}" is {screening.why}')
                continue
            if is_tobacco(e):  # "Smoker.", "smokes a pack a day", "former smoker": the Index's tobacco entries
                read = tobacco_code(e, text)
                if read is None:
                    skipped.append(SkippedFinding(e.text, e.start, e.end, "a relative's tobacco use, not the patient's"))
                    continue
                code, path = read
                mentions.append(MentionCandidates(e, CM, cs))
                add(CM, code, _cm_title(code) or code, 1.0, e, Reason(ReasonKind.TOBACCO_USE, (code,), f"Index: {path}"))
                continue
            if is_social_history(e):  # "lives alone", "unemployed": the Index's social determinant codes
                social = social_code(e)
                if social is None:
                    skipped.append(SkippedFinding(e.text, e.start, e.end, "no social determinant code in the Index"))
                    continue
                mentions.append(MentionCandidates(e, CM, cs))
                add(
                    CM,
                    social.code,
                    _cm_title(social.code) or social.code,
                    1.0,
                    e,
                    Reason(ReasonKind.SOCIAL_DETERMINANT, (social.code,), social.why),
                )
                continue
            # "ocular trauma": an eye injury, and "subdural hematoma" a head's: not T14 (unspecified region)
            if specificity.injury_site_named(q) or _index_reads_a_region(q):
                cs = [c for c in cs if not c.code.startswith(specificity.UNSPECIFIED_BODY_REGION)]
            mentions.append(MentionCandidates(e, CM, cs))
            cs = _episode_of_care(cs[: max(k, 5)])
            cs = [c for c in cs if c.score >= settings.min_code_score]
            if not cs:
                skipped.append(SkippedFinding(e.text, e.start, e.end, "no ICD-10-CM code matched well enough"))
                continue
            treated = (e.historical or id(e) in past) and not e.family and _still_treated_malignancy(e, cs[0].code, text)
            if (e.family or e.historical or id(e) in past) and not treated:
                resolved = resolved_after(_words_after(e, text))
                _add_history(add, skipped, e, cs[0], denied, past.get(id(e)), resolved)
                # a relative's condition is never the patient's, nor an acute code a past one (a past one may be
                # ranked), nor one the diagnoses give as history
                if e.family or acute_only(cs[0].code) or id(e) in past:
                    exclusions.categories.add(cs[0].code.replace(".", "")[:3])
                continue
            certainty = (
                (
                    Reason(
                        ReasonKind.UNCERTAIN_CODED_AS_ESTABLISHED,
                        (),
                        "documented as uncertain; coded as established (inpatient, Guidelines II.H)",
                    ),
                )
                if e.uncertain
                else ()
            ) + (
                (
                    Reason(
                        ReasonKind.LIFELONG_CONDITION,
                        (cs[0].code,),
                        f'"{e.text}" told as history, but treatment is still directed at it: a current malignancy '
                        "(Guidelines I.C.2.d)",
                    ),
                )
                if treated
                else ()
            )
            for c, score in select(CM, e.query_text, cs, k):
                code, notes, left = _specific(c.code, e, text, cm_mentions)
                why = [_match(e, c), *certainty]
                if id(e) in examined and c is cs[0] and c.alias.startswith(INDEX_READING):
                    organ = examined[id(e)]
                    why.append(Reason(ReasonKind.SPECIFIED, (code,), f"the endoscopy that shows it examines the {organ}: {code}"))
                    exclusions.specified.add(code)
                if code != c.code:
                    why.append(Reason(ReasonKind.SPECIFIED, (code,), f"specified as {code}"))
                    exclusions.codes.add(c.code)
                if code != c.code or _has_stated_detail(code):
                    exclusions.specified.add(code)
                add(CM, code, _cm_title(code) or c.description, score, e, *why, *notes)
                if left:  # a bilateral condition with no bilateral code: each side is coded (I.B.13)
                    exclusions.specified.add(left)
                    both = Reason(
                        ReasonKind.BOTH_SIDES,
                        (code, left),
                        f"bilateral, and the category has no bilateral code: {code} and {left} (Guidelines I.B.13)",
                    )
                    add(CM, left, _cm_title(left) or left, score, e, _match(e, c), *certainty, both, *notes)
                if c is cs[0] and (acute := index_query.acute_form(q, _sentence_before(e, text), code)):
                    acute_code, path = acute
                    both = Reason(
                        ReasonKind.ACUTE_AND_CHRONIC,
                        (acute_code, code),
                        f'"acute on {e.text}": the acute form is coded too, to be sequenced first (Index: {path}; Guidelines I.B.8, '
                        "acute and chronic conditions with separate subentries)",
                    )
                    add(CM, acute_code, _cm_title(acute_code) or acute_code, score, e, both, *certainty)

    device_found = device_statuses(entities, text)
    # a past procedure whose words a device statement holds is that device ("status post a stent placement"
    # for a ureteral obstruction is the ureter's stent, not a coronary one)
    past_procedures = [
        e
        for e in [e for e in pcs_live if e.historical] + devices
        if not any(d.mention.start <= e.start < d.mention.end for d in device_found)
        and not (text and device_gone(text[e.end : e.end + 40]))  # "status post colostomy takedown": no colostomy now
    ]
    pcs_live = [e for e in pcs_live if not e.historical]
    if past_procedures:
        status_queries = [status_query(e.query_text) for e in past_procedures]
        found_status = index_for(CM).candidates(status_queries, k=1)
        for e, q, cs in zip(past_procedures, status_queries, found_status):
            skipped.append(SkippedFinding(e.text, e.start, e.end, PAST_PROCEDURE))
            if status := index_status(q) or status_candidate(cs):
                add(
                    CM,
                    status.code,
                    _cm_title(status.code) or status.description,
                    status.score,
                    e,
                    Reason(
                        ReasonKind.PAST_PROCEDURE_STATUS,
                        (status.code,),
                        f'"{e.text}" is a past procedure: its status code {status.code} ({status.alias}; Guidelines I.C.21.c.3)',
                    ),
                )

    if pcs_live or test_live:
        queries = [
            arthroplasty_query(e.query_text, text)
            or named_procedure_query(e.query_text, _sentence_of(e, text), text, _sentence_before(e, text))
            or e.query_text
            for e in pcs_live
        ] + [imaging_query(e.query_text, text, e.start, e.end) or e.query_text for e in test_live]  # modality + body part
        cands = index_for(PCS).candidates(queries, k=CANDIDATES_K)
        # the approach and root operation the words leave unstated, as a coder reads them (B5.3a, B3.8)
        cands = [conventional_order(cs, e.query_text, _sentence_of(e, text)) for e, cs in zip(pcs_live, cands)] + cands[
            len(pcs_live) :
        ]
        # the PCS Index from the procedure's word to its root operation and body part, where no title matches
        cands = [_pcs_index_first(e, cs, text, index_for(PCS)) for e, cs in zip(pcs_live, cands)] + cands[len(pcs_live) :]
        # an operation read into the tables' words ("right hemicolectomy": resection of right large
        # intestine) whose title matches is that body part's code, not also its neighbours' (the left
        # large intestine): its other candidates are only the same operation by another approach
        read_exactly = [
            query != e.query_text and bool(cs) and cs[0].score >= EXACT for e, query, cs in zip(pcs_live, queries, cands)
        ]
        cands = [
            [c for c in cs if _by_another_approach(c.code, cs[0].code)] if exact else cs for cs, exact in zip(cands, read_exactly)
        ] + cands[len(pcs_live) :]
        mentions += [MentionCandidates(e, PCS, cs) for e, cs in zip(pcs_live + test_live, cands)]
        for e, exact, cs in zip(pcs_live, read_exactly, cands):
            cs = [c for c in cs[: max(k, 5)] if c.score >= max(settings.min_code_score, PCS_MIN_SCORE)]
            if not cs:
                skipped.append(SkippedFinding(e.text, e.start, e.end, "no ICD-10-PCS code matched well enough"))
                continue
            for c, score in select(PCS, e.query_text, cs, 1 if exact else k):
                add(PCS, c.code, c.description, score, e, _match(e, c))

    for e in pcs_live + test_live:  # "PROCEDURE: Screening colonoscopy.": the encounter's screening code
        if e.section in PROCEDURE_SECTIONS and (screened := screening_procedure(e.query_text)) and screened.code:
            add_documented(screened.code, e, ReasonKind.SCREENING, f'"{e.text}" is {screened.why}')
    if encounter := therapy_encounter(text):  # "admitted ... for cycle six of CIVI-CAD": Z51.11, coded first
        words = Entity(encounter.start, encounter.end, text[encounter.start : encounter.end] if text else "", "PROBLEM")
        add_documented(encounter.code, words, ReasonKind.THERAPY_ENCOUNTER, encounter.why)
    pcs_codes = get_codeset()
    for narrated in narrated_procedures(text):  # "five polyps in the rectum. One was resected ...": 0DBP8ZZ
        if text and pcs_codes.pcs_is_valid(narrated.code):
            words = Entity(narrated.start, narrated.end, text[narrated.start : narrated.end], "PROCEDURE")
            narrated_reason = Reason(ReasonKind.NARRATED_PROCEDURE, (narrated.code,), narrated.why)
            add(PCS, narrated.code, pcs_codes.pcs_description(narrated.code) or narrated.code, 1.0, words, narrated_reason)

    injuries = sorted((code for system, code in found if system == CM), key=lambda c: found[(CM, c)]["first"])
    for cause in external_causes(cause_mentions, injuries):
        add_documented(cause.code, cause.mention, ReasonKind.EXTERNAL_CAUSE, cause.why)
    if weeks := gestation_weeks(entities, text, [code for system, code in found if system == CM]):
        add_documented(weeks.code, weeks.mention, ReasonKind.WEEKS_OF_GESTATION, weeks.why)
    if text and (bmi := body_mass_index(text, [code for system, code in found if system == CM])):
        words = Entity(bmi.start, bmi.end, text[bmi.start : bmi.end], "PROBLEM")
        add_documented(bmi.code, words, ReasonKind.BODY_MASS_INDEX, bmi.why)
    for dependence in ongoing_dependences(entities, text):
        add_documented(dependence.code, dependence.mention, ReasonKind.DEPENDENCE_STATUS, dependence.why)
    for device in device_found:
        add_documented(device.code, device.mention, ReasonKind.PAST_PROCEDURE_STATUS, device.why)
    reported_drug_classes = tuple(settings.long_term_drug_codes)
    for drug in status_codes(entities, text):
        kind = ReasonKind.LONG_TERM_DRUG_THERAPY if drug.kind is StatusKind.LONG_TERM else ReasonKind.ALLERGY_STATUS
        if drug.kind is StatusKind.LONG_TERM and not drug.code.startswith(reported_drug_classes):
            skipped += [SkippedFinding(e.text, e.start, e.end, f"{UNREPORTED_DRUG_CLASS} ({drug.code})") for e in drug.mentions]
            continue
        for e in drug.mentions:
            add_documented(drug.code, e, kind, drug.why)
    for harm in drug_effects(entities, text):
        for e in harm.mentions:
            add_documented(harm.code, e, ReasonKind.DRUG_EFFECT, harm.why)

    proposals = [
        CodeProposal(
            system=system,
            code=code,
            description=v["description"],
            score=round(min(1.0, max(0.0, v["score"])), 3),
            evidence=sorted(v["evidence"], key=lambda ev: ev.start),
            reasons=v["why"],
        )
        for (system, code), v in found.items()
    ]
    combined = combine(proposals, text)
    exclusions.codes |= {p.code for p in proposals} - {p.code for p in combined}  # replaced by combination codes
    if any(r.kind is ReasonKind.COMBINATION and set(r.codes) & set(BLEEDING_CODES) for p in combined for r in p.reasons):
        exclusions.codes |= set(BLEEDING_CODES)  # the bleed is coded by its source's "with bleeding" code
    exclusions.categories -= {p.code.replace(".", "")[:3] for p in combined}  # also documented as present
    return combined, skipped, mentions, exclusions


_SITE_PHRASE = re.compile(r"\s+(?:of|in|involving)\s+(?:the\s+)?(?:\w+\s+){0,3}\w+$", re.I)


def _site_query(e: Entity, text: str | None) -> tuple[str, str | None]:
    """The mention's Index query with the site its words state around it, or, for a finding (not a
    symptom) an endoscopy shows, the organ the scope examines (:mod:`pipeline.code.rules.specificity`),
    with that organ (None where the query reads none)."""
    query = specificity.site_query(e.query_text, text[e.end : e.end + 60] if text else "", _sentence_before(e, text))
    if not text or e.label == "SYMPTOM":
        return query, None
    organ = specificity.examined_organ(query, _sentence_of(e, text))
    return (f"{query} {organ}", organ) if organ else (query, None)


def _cm_candidates(queries: list[str], settings: Settings, index: CodeIndex, leads: list[str] | None = None) -> list:
    """Index candidates per mention, the Alphabetic Index first (:func:`_index_first`), then the
    char-3-gram search. A mention that matches nothing well with its site phrase, or whose best
    match does not name its head word ("community acquired pneumonia of the right lower lobe"
    matched "acquired deformity of right lower leg"), is searched again without it. ``leads``:
    per query, words right before the mention that the Index reads with it (:func:`pipeline.code.rules.index_query.lead`)."""
    cands = index.candidates(queries, k=CANDIDATES_K)
    weak = [
        i
        for i, cs in enumerate(cands)
        if (not cs or cs[0].score < settings.min_code_score or not _names_the_head(queries[i], cs[0]))
        and _SITE_PHRASE.search(queries[i])
    ]
    if weak:
        for i, cs in zip(weak, index.candidates([_SITE_PHRASE.sub("", queries[i]) for i in weak], k=CANDIDATES_K)):
            if cs and (not cands[i] or cs[0].score > cands[i][0].score):
                cands[i] = cs
    leads = leads or [""] * len(queries)
    return [_index_first(q, cs, index, settings, lead) for q, cs, lead in zip(queries, cands, leads)]


INDEX_BASE_SCORE = 0.5  # an Index entry's score: this plus the rest times the share of the mention's words it reads


def _index_first(query: str, cands: list, index, settings: Settings, lead: str = "") -> list:
    """The Alphabetic Index entry a coder reads for the mention (:mod:`pipeline.code.lookup.index_lookup`)
    first, when it reads every word of the mention ("acute exacerbation of chronic obstructive
    pulmonary disease": Disease, lung, obstructive, with, exacerbation, J44.1), or when its main
    term is the mention's head word and it reads every word the Index lists under that term
    ("pneumonia of the right lower lobe": Pneumonia, J18.9, not J18.1 lobar pneumonia) or the best
    char-3-gram match is off the finding or weak ("community acquired pneumonia of the right lower
    lobe" is not "acquired deformity of right lower leg"). Otherwise the char-3-gram candidates
    stand ("nicotine dependence": nicotine is under Dependence, drug, which the mention skips)."""
    if query == specificity.UNSPECIFIED_REGION_INJURY_QUERY:
        return cands  # T14.8's title words: no Index entry reads them
    if index_query.disc_without_region(query):
        return []  # no region, no code: what the words otherwise match is another hernia
    read = without_episode(query)
    hit = lookup(f"{lead} {read}" if lead else read)
    if hit is None:
        return cands
    top = cands[0] if cands else None
    stem = specificity.head_stem(read)
    heads = stem is not None and names_the_main_term(stem, hit)  # the entry's main term is the finding
    if hit.by_adjective and not heads:
        return cands  # "diabetic polyneuropathy": the document's diabetes type decides (pipeline.code.rules.combinations)
    by_group = heads and _read_by_its_group(read, hit.code, hit.path)
    if not (hit.share == 1.0 or (heads and hit.complete) or by_group):
        if not heads or (top is not None and top.score >= settings.min_code_score and _names_the_head(query, top)):
            return cands
    same = next((c for c in cands if c.code == hit.code), None)
    share = 1.0 if by_group else hit.share  # the words it leaves unread are what the code's block is about
    score = max(INDEX_BASE_SCORE + (1 - INDEX_BASE_SCORE) * share, same.score if same else 0.0)
    first = Candidate(
        hit.code, index.description(hit.code) or (_cm_title(hit.code) or ""), f"{INDEX_READING}{hit.phrase()}", round(score, 4)
    )
    return [first, *(c for c in cands if c.code != hit.code)][: len(cands) or 1]


PCS_INDEX_SCORE = 0.9  # a code the PCS Index and the table give: as sure as a near word-for-word title match


def _pcs_index_first(e: Entity, cands: list, text: str | None, index) -> list:
    """The code the PCS Index reads for the procedure mention (:mod:`pipeline.code.rules.pcs_index_reading`)
    first, where no code's title or Index term matches the mention nearly word for word: "evacuation of
    acute subdural hematoma" is Evacuation, Hematoma, see Extirpation; Subdural Space, Intracranial."""
    if cands and cands[0].score >= PCS_INDEX_SCORE:
        return cands
    found = pcs_index_reading.read(e.query_text, _sentence_of(e, text))
    if found is None:
        return cands
    first = Candidate(found.code, index.description(found.code) or found.code, found.alias, PCS_INDEX_SCORE)
    return [first, *(c for c in cands if c.code != found.code)][: max(len(cands), 1)]


def _by_another_approach(code: str, read: str) -> bool:
    """The code is ``read`` or the same operation on the same body part by another approach (5th character)."""
    return code[:4] == read[:4] and code[5:] == read[5:]


def _read_by_its_group(query: str, code: str, path: Sequence[str]) -> bool:
    """Every word of the mention the Index entry leaves unread names what the code's whole category or
    block is about: "thyroid" of "thyroid goiter" is in "Disorders of thyroid gland (E00-E07)", so the
    entry Goiter (E04.9) reads all the mention says."""
    unread = set(index_words(query)) - set(index_words(" ".join(path)))
    return bool(unread) and unread <= set(index_words(" ".join(get_codeset().cm_group_titles(code))))


def _index_reads_a_region(query: str) -> bool:
    """The Index reads the mention past its main term to a code of a body region ("subdural hematoma":
    Hematoma, subdural, S06.5X-), so T14 (injury of unspecified body region) does not apply."""
    hit = lookup(without_episode(query))
    return hit is not None and len(hit.path) >= 2 and not hit.code.startswith(specificity.UNSPECIFIED_BODY_REGION)


def _names_the_head(query: str, c) -> bool:
    """The match names the finding the query is about: "pneumonia" of "community acquired pneumonia
    of the right lower lobe" is not in M21.961 "acquired deformity of right lower leg", which the
    site phrase's words brought up."""
    stem = specificity.head_stem(query)
    return stem is None or stem in f"{c.alias} {c.description}".lower()


def _episode_of_care(cands):
    """Dictations describe active treatment unless they say otherwise: 7th-character
    "subsequent encounter" and "sequela" codes rank below the initial-encounter code."""

    def adjusted(c):
        d = c.description.lower()
        return replace(c, score=c.score * 0.7) if ("sequela" in d or "subsequent encounter" in d) else c

    return sorted((adjusted(c) for c in cands), key=lambda c: -c.score)


def _cm_title(code: str) -> str | None:
    return get_codeset().cm_description(code)


def _has_stated_detail(code: str) -> bool:
    """A code whose category the specificity rules decide among (CKD stage, 7th character, side, a site
    beside the category's unspecified one)."""
    return len(code.replace(".", "")) == 7 or _side_or_stage(code) or specificity.names_the_site(code)


def _side_or_stage(code: str) -> bool:
    """A CKD stage code, or a code whose title names a side."""
    return code.startswith("N18.") or bool(re.search(r"\b(right|left|bilateral)\b", (_cm_title(code) or "").lower()))


def _sentence_after(e: Entity, text: str | None) -> str:
    """The mention and the rest of its sentence (at most 80 characters): where "stage 3a" or
    "initial encounter" is dictated."""
    if not text or text[e.start : e.end] != e.text:
        return e.query_text
    tail = text[e.end : e.end + 80]
    cut = min((i for i in (tail.find(". "), tail.find("\n"), tail.find(";")) if i >= 0), default=len(tail))
    return e.text + tail[:cut]


def _match(e: Entity, c: Candidate) -> Reason:
    return Reason(ReasonKind.INDEX_MATCH, (c.code,), f'"{e.text}" matches {c.code} ({c.alias})')


def _specific(code: str, e: Entity, text: str | None, findings: Sequence[Entity] = ()) -> tuple[str, list[Reason], str | None]:
    """The code at the detail the documentation states, notes on detail that is missing (each of the
    kind of the rule that wrote it), and for a bilateral condition with no bilateral code the left
    side's code (the first is the right side's, :func:`specificity.other_side`). ``findings``: the
    note's other findings (a side in the mention's sentence is its own only where no other finding
    there could own it)."""
    notes: list[Reason] = []

    def note_of(kind: ReasonKind, found: tuple[str, str | None]) -> str:
        code, note = found
        if note:
            notes.append(Reason(kind, (code,), note))
        return code

    context = _sentence_after(e, text)
    before = _sentence_before(e, text)
    phrase = specificity.same_phrase(context)
    if site := specificity.site_before(e.query_text, before):  # "right knee" pain
        phrase = f"{site} {phrase}"
    if not specificity.mention_side(f"{e.query_text} {phrase}") and (side := _sentence_side(e, text, findings)):
        phrase = f"{phrase} {side}"  # "The cyst was noted on the left, a 3-cm, ovarian cyst"
    if sent := excluded_to(code, frozenset(index_words(e.query_text))):  # G20.C Excludes1 "Parkinson's disease NOS (G20.A1)"
        code = note_of(ReasonKind.SPECIFIED, sent)
    code = note_of(ReasonKind.MISSING_LATERALITY, specificity.lateral(code, e.query_text, phrase))
    code = specificity.stated_site(code, f"{before} {phrase}") or code
    code = specificity.stated_disc_level(code, f"{before} {context}") or code
    code = note_of(ReasonKind.SPECIFIED, mesothelioma_site(code, text))
    if code.startswith("N18.") and (stage := specificity.ckd_stage(context)):
        code = stage
    code = specificity.pressure_ulcer_stage(code, f"{before} {context}")
    code = specificity.remission(code, _line_after(e, text))
    code = note_of(ReasonKind.SPECIFIED, trimester(code, text))
    code = note_of(ReasonKind.MISSING_EPISODE_OF_CARE, specificity.episode(code, context))
    after = context[len(e.text) :] if context.startswith(e.text) else ""
    code = note_of(ReasonKind.MISSING_ACUITY, specificity.acuity(code, e.query_text, before, after))
    code = note_of(ReasonKind.MISSING_TOBACCO_PRODUCT, specificity.tobacco_product(code, before + " " + context))
    # "with gallbladder calculus": the combination code the Index gives (Calculus, gallbladder, with cholecystitis)
    code = note_of(ReasonKind.COMBINATION, specificity.gallbladder_calculus(code, before + " " + context))
    return code, notes, specificity.other_side(code, e.query_text, phrase)


_SENTENCE_BREAK = re.compile(r"\.\s|\n|;")


def _sentence_side(e: Entity, text: str | None, findings: Sequence[Entity]) -> str | None:
    """The one side (right, left, bilateral) the mention's sentence states when the mention states
    none and no other finding in the sentence could own it; None otherwise."""
    if not text or text[e.start : e.end] != e.text:
        return None
    begin, end = _sentence_bounds(e, text)
    others = [f for f in findings if begin <= f.start < end and f.text.lower() != e.text.lower()]
    return specificity.mention_side(text[begin:end]) if not others else None


def _sentence_bounds(e: Entity, text: str) -> tuple[int, int]:
    """Where the mention's sentence (or line, or clause up to a semicolon) begins and ends in ``text``."""
    starts = [m.end() for m in _SENTENCE_BREAK.finditer(text, 0, e.start)]
    stop = _SENTENCE_BREAK.search(text, e.end)
    return (starts[-1] if starts else 0), (stop.start() if stop else len(text))


def _words_after(e: Entity, text: str | None) -> str:
    """The rest of the mention's sentence after its words (empty where the text is not the note's)."""
    if not text or text[e.start : e.end] != e.text:
        return ""
    return text[e.end : _sentence_bounds(e, text)[1]]


def _still_treated_malignancy(e: Entity, code: str, text: str | None) -> bool:
    """A malignancy told as history whose sentence, or the next, says treatment still goes on
    (:func:`pipeline.code.rules.neoplasm.still_treated`)."""
    if not text or not site_malignancy(code) or text[e.start : e.end] != e.text:
        return False
    begin, end = _sentence_bounds(e, text)
    after = _SENTENCE_BREAK.search(text, end + 1)
    return still_treated(text[begin : after.start() if after else len(text)])


def _risk_discussed(e: Entity, text: str) -> bool:
    """Whether the mention follows, in its sentence, the risks or complications a discussion with the
    patient names (:data:`_RISKS_NAMED`, :data:`_DISCUSSED`)."""
    begin, end = _sentence_bounds(e, text)
    named = _RISKS_NAMED.search(text, begin, e.start)
    return named is not None and _DISCUSSED.search(text, begin, end) is not None


def _sentence_of(e: Entity, text: str | None) -> str:
    """The mention's sentence (:func:`_sentence_bounds`), or its own words where the text is not the note's."""
    if not text or text[e.start : e.end] != e.text:
        return e.query_text
    begin, end = _sentence_bounds(e, text)
    return text[begin:end]


def _line_after(e: Entity, text: str | None) -> str:
    """The mention and the rest of its line of the note, up to 300 characters (an assessment item:
    "mantle cell lymphoma ... He is without evidence of disease at the present time.")."""
    if not text or text[e.start : e.end] != e.text:
        return e.query_text
    tail = text[e.end : e.end + 300]
    return e.text + tail.split("\n", 1)[0]


def _sentence_before(e: Entity, text: str | None) -> str:
    """Up to 40 characters of the mention's sentence before it ("acute calculous" cholecystitis)."""
    if not text or text[e.start : e.end] != e.text:
        return ""
    head = text[max(0, e.start - 40) : e.start]
    return re.split(r"[.;:\n]\s", head)[-1]


def _add_history(
    add,
    skipped: list[SkippedFinding],
    e: Entity,
    best,
    denied: frozenset[str] = frozenset(),
    told: str | None = None,
    resolved: bool = False,
) -> None:
    """The code of a historical or family mention: a lifelong condition's own code (unless the note
    denies the condition in other words of its own: "coronary artery disease workup many years ago"
    beside "no history of established coronary artery disease"), else the history code. ``told``: the
    diagnosis that gives an unflagged mention's condition as history (:func:`told_as_history`);
    ``resolved``: the words after it say the condition is gone, so even a lifelong one is history."""
    kind = "family" if e.family else "personal"
    if kind == "personal" and is_chronic(best.code, e.text) and not resolved:
        if e.query_text.lower() in denied:
            skipped.append(
                SkippedFinding(e.text, e.start, e.end, f"documented as history and denied elsewhere in the note ({best.code})")
            )
            return
        add(
            CM,
            best.code,
            best.description,
            best.score * 0.9,
            e,
            Reason(
                ReasonKind.LIFELONG_CONDITION,
                (best.code,),
                f'"{e.text}" documented as history; a lifelong condition is coded as current ({best.code})',
            ),
        )
        return
    h = history_code_for(best.code, e.query_text, kind)
    if h is None:
        skipped.append(SkippedFinding(e.text, e.start, e.end, f"{kind} history of {best.code}: no history code applies"))
        return
    label = "family history" if kind == "family" else "personal history"
    add(
        CM,
        h.code,
        h.description,
        best.score,
        e,
        Reason(
            ReasonKind.FAMILY_HISTORY if kind == "family" else ReasonKind.PERSONAL_HISTORY,
            (best.code,),
            f'"{e.text}" is {label} (condition {best.code}'
            + (f'; the diagnoses give it as history: "{told}"' if told else "")
            + f"); coded to {h.code}, not to the condition itself",
        ),
    )
