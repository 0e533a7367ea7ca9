#!/usr/bin/env python
"""Build ``pipeline/extract/data/context_rules.json`` from the NegEx / genConText trigger lists.

Sources (Apache License 2.0, Wendy W. Chapman et al., University of Pittsburgh / University of
Utah; genConText by Xiuyun Shen 2009), as found in ``/work/shared/data/negex/``:

* ``negex_triggers.txt``        -- NegEx negation triggers
  ([PREN]/[POST] negation, [PREP]/[POSP] possible, [PSEU] pseudo, [CONJ] termination)
* ``history_triggers.txt``      -- genConText temporality (historical) triggers
* ``hypothetical_triggers.txt`` -- genConText hypothetical triggers
* ``experiencer_triggers.txt``  -- genConText experiencer (other than the patient) triggers

The lists are mapped onto the ConText categories used by ``mrt_context`` and then edited:
a few entries too broad for dictated notes are dropped (``DROP``) and our own additions
(``ADD``) are appended. The output is self-contained; the product never reads
``/work/shared`` at run time.

Usage: ``python scripts/build_context_rules.py [--src DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SRC = Path("/work/shared/data/negex")
OUT = Path(__file__).resolve().parents[1] / "pipeline" / "extract" / "data" / "context_rules.json"

Rule = tuple[str, str, str]  # (literal, category, direction)

# tag -> (category, direction) per source file; "neg+unc" expands to negated and uncertain
TAGS: dict[str, dict[str, tuple[str, str]]] = {
    "negex_triggers.txt": {
        "PREN": ("negated", "forward"),
        "POST": ("negated", "backward"),
        "PREP": ("uncertain", "forward"),
        "POSP": ("uncertain", "backward"),
        "PSEU": ("negated", "pseudo"),
        "CONJ": ("neg+unc", "terminate"),
    },
    "history_triggers.txt": {
        "PREN": ("historical", "forward"),
        "ONEW": ("historical", "forward"),
        "PSEU": ("historical", "pseudo"),
        "CONJ": ("historical", "terminate"),
    },
    "hypothetical_triggers.txt": {
        "PREN": ("hypothetical", "forward"),
        "PSEU": ("hypothetical", "pseudo"),
        "CONJ": ("hypothetical", "terminate"),
    },
    "experiencer_triggers.txt": {
        "PREN": ("family", "forward"),
        "PSEU": ("family", "pseudo"),
        "CONJ": ("family", "terminate"),
    },
}

# Source entries that misfire on dictated notes.
DROP: set[Rule] = {
    # "return"/"call" alone: "pain returned", "call placed to ..."; "return if"/"call if" are added
    ("return", "hypothetical", "forward"),
    ("returning", "hypothetical", "forward"),
    ("call", "hypothetical", "forward"),
    # pronouns/"patient" would end the scope in "if her fever worsens", "in his father"
    *{(w, "hypothetical", "terminate") for w in ("his", "her", "patient", "patient's", "who", "diagnosis")},
    *{(w, "family", "terminate") for w in ("his", "her", "who")},
    # "evaluate for", "test for", "checked for": the finding is pending, not absent -> uncertain
    ("evaluate for", "negated", "forward"),
    ("test for", "negated", "forward"),
    ("checked for", "negated", "forward"),
    # "ro": a tokenised fragment of other words far more often than "rule out"
    ("ro", "uncertain", "forward"),
    # a cause an uncertain statement names is as uncertain as the rest: "hematuria could be secondary to
    # benign prostatic hypertrophy", "rule out possibility of ascites secondary to mesothelioma" (IV.H)
    *{(w, "uncertain", "terminate") for w in ("secondary to", "due to", "caused by")},
    # "ED"/"recent" end historical scope too eagerly ("history of recent MI")
    ("recent", "historical", "terminate"),
    ("ed", "historical", "terminate"),
}

RELATIVES = (
    "mother",
    "father",
    "brother",
    "sister",
    "brothers",
    "sisters",
    "sibling",
    "siblings",
    "son",
    "sons",
    "daughter",
    "daughters",
    "parent",
    "parents",
    "grandparent",
    "grandparents",
    "grandfather",
    "grandmother",
    "aunt",
    "aunts",
    "uncle",
    "uncles",
    "cousin",
    "cousins",
    "niece",
    "nephew",
    "mom",
    "dad",
    "twin",
    "half-brother",
    "half-sister",
    "relative",
    "relatives",
    "family member",
    "family members",
    "first-degree relative",
    "first degree relative",
)


def _additions() -> list[Rule]:
    """Our own triggers (not in the source lists), grouped by category."""
    neg_fwd = [
        "no evidence of",
        "no signs of",
        "no symptoms of",
        "denies any",
        "deny",
        "denying any",
        "negative for",
        "free of",
        "absence of",
        "not",
        "n't",
        "never",
        "nor",
        "-ve for",
        "neg for",
        "neither",
        "no longer",
        "no known",
        "no history of",
        "no prior",
        "no family history of",
        "without any",
        "without evidence of",
        "absent",
        "no further",
        "did not have",
        "does not have",
        "has not had",
        "no acute",
        "not consistent with",
        "not suggestive of",
        "no clinical signs or symptoms of",
        "no recurrence of",
        # longer than "was negative" (backward), so "Serology was negative for hepatitis B" negates hepatitis B
        "was negative for",
        "were negative for",
        "is negative for",
        "are negative for",
        "without signs of",
        # review-of-systems templates: "(-) constitutional symptoms, such as fever, headache"
        "(-)",
    ]
    neg_bwd = [
        "is negative",
        "was negative",
        "are negative",
        "were negative",
        "is absent",
        "was absent",
        "are absent",
        "were absent",
        "not seen",
        "not identified",
        "not visualized",
        "not detected",
        "not present",
        "not appreciated",
        "not noted",
        "not found",
        "has resolved",
        "have resolved",
        "had resolved",
        "resolved",
        "not demonstrated",
        "was excluded",
        "were excluded",
        "is excluded",
        "has been excluded",
        "have been excluded",
        "not been found",
        "none",
    ]
    unc_fwd = [
        "possible",
        "possibly",
        "probable",
        "probably",
        "suspected",
        "suspect",
        "suspicious for",
        "suspicion for",
        "suspicion of",
        "concern for",
        "concerning for",
        "worrisome for",
        "worry for",
        "cannot exclude",
        "can not exclude",
        "cannot rule out",
        "can not rule out",
        "can't rule out",
        "could not rule out",
        "not excluding",
        "questionable",
        "question of",
        "likely",
        "most likely",
        "may have",
        "may be",
        "may represent",
        "might be",
        "could be",
        "could represent",
        "presumed",
        "presumably",
        # a hedged finding: "There appears to be a small left pleural effusion" (Guidelines II.H: "other
        # similar terms indicating uncertainty")
        "appears to be",
        "appear to be",
        "appeared to be",
        "seems to be",
        "seem to be",
        "presumptive",
        "differential diagnosis includes",
        "differential includes",
        "differential diagnosis",
        "differential",
        "versus",
        "vs",
        "rule out",
        "r/o",
        "evaluate for",
        "evaluation for",
        "to evaluate for",
        "test for",
        "checked for",
        "assess for",
        "workup for",
        "work up for",
        "raises the possibility of",
        "possibility of",
        "equivocal for",
        "?",
        "not ruled out",
        "not been ruled out",
        "to be ruled out",
        "to rule out",
        "consider",
        "considered",
        "cannot be excluded",
        # not a negation: "a mucinous tumor without ruling out malignancy"
        "without ruling out",
        "without being able to rule out",
        "impossibility of ruling out",
        "impossibility to rule out",
        "impossible to rule out",
        "unable to rule out",
    ]
    unc_bwd = [
        # a test result not yet back: "Chlamydia and gonorrhea are pending"
        "is pending",
        "are pending",
        "still pending",
        "results pending",
        "is possible",
        "is likely",
        "is suspected",
        "are suspected",
        "was suspected",
        "is questionable",
        "is not excluded",
        "cannot be excluded",
        "can not be excluded",
        "cannot be ruled out",
        "can not be ruled out",
        "not excluded",
        "versus",
        "vs",
        "is favored",
        "is considered",
        "to be ruled out",
        "not ruled out",
        "not been ruled out",
    ]
    hist_fwd = [
        "history of",
        "h/o",
        "hx of",
        "hx",
        "past history of",
        "previous",
        "previously",
        "prior",
        "prior history of",
        "remote",
        "remote history of",
        "status post",
        "s/p",
        "known history of",
        "longstanding",
        "long-standing",
        "chronic history of",
        "former",
        # imaging that shows an earlier operation ("Postsurgical changes compatible with the partial colectomy")
        "postsurgical changes",
        "post-surgical changes",
        "postoperative changes",
        "post-operative changes",
        # an earlier stay's condition ("she recently had an admission for pneumonia ... she improved")
        "recently had an admission for",
        "recent admission for",
        "recently admitted for",
        "recently admitted with",
        "recently hospitalized for",
        "recently hospitalized with",
        "recent hospitalization for",
        "previous admission for",
        "prior admission for",
        "previous hospitalization for",
        "prior hospitalization for",
        "recently treated for",
        # a past medical history told in the prose ("with past medical condition includes hypertension, ...
        # and skin lymphoma"): what a past medical history section says
        "past medical history significant for",
        "past medical history is significant for",
        "past medical history remarkable for",
        "past medical history includes",
        "past medical history including",
        "past medical condition includes",
        "past medical conditions include",
        "past medical conditions including",
        "medical history significant for",
    ]
    hist_bwd = ["in the past", "years ago", "year ago", "months ago", "in childhood", "as a child", "previously"]
    hist_pseudo = [
        "week history of",
        "weeks history of",
        "month history of",
        "months history of",
        "hour history of",
        "hours history of",
        "days history of",
        "year history of",
        "years history of",
        # a long history of a condition is its course so far, not a past episode ("a long history of
        # gastroparesis dating back to 2000", as "a 10-year history of")
        "long history of",
        "long-standing history of",
        "longstanding history of",
        "lengthy history of",
        "history of present illness",
        "history of the present illness",
        "family history",
        "prior to",
        "previous day",
        "history is obtained",
        "history was obtained",
    ]
    hypo_fwd = [
        "if",
        "return if",
        "return for",
        "return to the emergency department if",
        "call if",
        "call for",
        "call with",
        "should he develop",
        "should she develop",
        "should they develop",
        "should he have",
        "should she have",
        "should there be",
        "in case of",
        "in the event of",
        "in the event that",
        "watch for",
        "monitor for",
        "look for",
        "as needed for",
        "prn",
        "if any",
        "unless",
        "whenever",
        # a consent discussion's list of what may happen ("risks such as infection, bleeding, scarring,
        # hernia"), not what the patient has; "risk factors" are real conditions and are not a trigger
        "risks",
        "risk of",
        "risks of",
        "the risk of",
        "risks such as",
        "risks include",
        "risks including",
        "risks included",
        "potential complications",
        "possible complications",
        "potential risks",
        # what may yet be needed is not done ("possible need for other procedures", "the need for
        # gastrostomy or jejunostomy for feeding", "need for further surgery")
        "need for",
        "the need for",
        "possible need for",
        "potential need for",
        "probable need for",
    ]
    hypo_pseudo = ["if negative", "if positive", "even if", "as if", "if not", "if any questions", "risk factors", "risk factor"]
    fam_fwd = [
        *RELATIVES,
        *(f"{r}'s" for r in RELATIVES if not r.endswith("s")),
        "maternal",
        "paternal",
        "family history of",
        "family history significant for",
        "family history is significant for",
        "family history positive for",
        "family history notable for",
        "family hx of",
        "fh of",
        "strong family history of",
        "family history",
        "familial",
    ]
    fam_bwd = [
        *(
            f"in {p}{r}"
            for p in (
                "",
                "his ",
                "her ",
                "a ",
                "the ",
                "their ",
                "both ",
                "the patient's ",
                "patient's ",
                "multiple ",
                "several ",
                "two ",
            )
            for r in RELATIVES
        ),
        "runs in the family",
        "runs in her family",
        "runs in his family",
        "in the family",
        "on the maternal side",
        "on the paternal side",
        "on her mother's side",
        "on his mother's side",
        "on her father's side",
        "on his father's side",
    ]
    fam_pseudo = [
        "lives with",
        "accompanied by",
        "brought in by",
        "brought by",
        "per his",
        "per her",
        "history obtained from",
        "called her",
        "called his",
        "by his wife",
        "by her husband",
        "by his mother",
        "by her mother",
        "spoke with",
        "discussed with",
        "daughter at bedside",
        "son at bedside",
        "family at bedside",
        "family history of present illness",
        # a caregiver, not whose finding it is: "discharged in the care of his mother with a preliminary
        # diagnosis of bilateral foot contusions"
        *(
            f"care of {who} {relative}"
            for who in ("his", "her", "their")
            for relative in ("mother", "father", "parents", "parent", "wife", "husband", "family", "daughter", "son")
        ),
    ]
    term_all = [
        "but",
        "however",
        "although",
        "though",
        "which",
        ";",
        "except",
        "except for",
        "aside from",
        "apart from",
        "yet",
        "nevertheless",
        "whereas",
        "while",
        "other than",
        "otherwise",
    ]
    term_neg = [
        "secondary to",
        "due to",
        "reports",
        "reported",
        "complains of",
        "endorses",
        "admits to",
        "positive for",
        "presents with",
        "presented with",
        "notes",
        "has had",
        "with the exception of",
        "significant for",
        "remarkable for",
        "notable for",
        "consistent with",
        "caused by",
        "after",
        "because of",
        "status post",
        "s/p",
        "the patient",
        "and he",
        "and she",
        # a new clause with its own verb: "No smoking or alcohol use and lives alone", "no fever and has a cough"
        "and lives",
        "and has",
        "and is",
        "states",
        "stated",
        "says",
        "said",
        # a new clause of the history ("without known allergies, with a history of hypertension, ...";
        # "no fever, presenting with cough"; "did not drink. Admitted for ...")
        ", with",
        "presenting with",
        "presents",
        "presented",
        "consulted for",
        "consulted",
        "admitted for",
        "was admitted",
        "came to",
        "referred for",
        "was referred",
    ]
    term_hist = [
        "presents",
        "presented",
        "presenting",
        "presents with",
        "presented with",
        "presenting with",
        "was admitted",
        "is admitted",
        "admitted for",
        "admitted with",
        "came to",
        "comes to",
        "comes in",
        "came in",
        "consulted for",
        "was referred",
        "referred for",
        "with the diagnosis of",
    ]
    rules: list[Rule] = []
    rules += [(t, "negated", "forward") for t in neg_fwd] + [(t, "negated", "backward") for t in neg_bwd]
    rules += [(t, "uncertain", "forward") for t in unc_fwd] + [(t, "uncertain", "backward") for t in unc_bwd]
    rules += [(t, "historical", "forward") for t in hist_fwd] + [(t, "historical", "backward") for t in hist_bwd]
    rules += [(t, "historical", "pseudo") for t in hist_pseudo]
    rules += [(t, "hypothetical", "forward") for t in hypo_fwd] + [(t, "hypothetical", "pseudo") for t in hypo_pseudo]
    rules += [(t, "family", "forward") for t in fam_fwd] + [(t, "family", "backward") for t in fam_bwd]
    rules += [(t, "family", "pseudo") for t in fam_pseudo]
    rules += [(t, "negated", "pseudo") for t in ("without change", "without significant change", "without interval change")]
    # ICD wording dictated as part of a diagnosis ("type 2 diabetes mellitus without complications")
    # negates nothing that follows it
    rules += [
        (t, "negated", "pseudo") for t in ("without complications", "without complication", "without mention of complication")
    ]
    rules += [(t, "all", "terminate") for t in term_all]
    rules += [(t, c, "terminate") for t in term_neg for c in ("negated", "uncertain")]
    rules += [("(+)", "negated", "terminate")]  # "(-) chest pain, (+) cough": the positive finding ends the negation
    rules += [(t, "hypothetical", "terminate") for t in ("since", "because", "due to", "secondary to")]
    # the present illness begins: "with no relevant past medical history presented with a pruritic rash",
    # "with a history of hypertension, was admitted with the diagnosis of obstructive jaundice"
    rules += [(t, "historical", "terminate") for t in term_hist]
    rules += [(t, "family", "terminate") for t in ("patient", "patient's", "the patient", "pt")]
    # "who" ends a negation or a history ("no fever, who now presents with"), but not a relative's clause: "a
    # paternal grandfather who had lung cancer" is the grandfather's (DROP keeps it off family and hypothetical)
    rules += [("who", c, "terminate") for c in ("negated", "uncertain", "historical")]
    return rules


# Per-literal scope limits (tokens); everything else uses the component's ``max_scope``.
MAX_SCOPE: dict[str, int] = {"none": 3, "prior": 3, "previous": 4, "former": 2, "versus": 2, "vs": 2, "?": 4, "consider": 6}


def read_source(src: Path) -> list[tuple[Rule, str]]:
    """Parse the four trigger lists into (rule, source file) pairs."""
    out: list[tuple[Rule, str]] = []
    for fname, tagmap in TAGS.items():
        for line in (src / fname).read_text(encoding="utf-8").splitlines():
            parts = [p.strip() for p in line.split("\t") if p.strip()]
            if len(parts) < 2:
                continue
            literal, tag = parts[0].lower(), parts[-1].strip("[]")
            category, direction = tagmap[tag]
            cats = ("negated", "uncertain") if category == "neg+unc" else (category,)
            out += [((literal, c, direction), fname) for c in cats]
    return out


def build(src: Path) -> dict[str, object]:
    """Return the JSON document for the rule file."""
    seen: set[Rule] = set()
    rules: list[dict[str, object]] = []

    def add(rule: Rule, source: str) -> None:
        if rule in seen or rule in DROP:
            return
        seen.add(rule)
        entry: dict[str, object] = {"literal": rule[0], "category": rule[1], "direction": rule[2], "source": source}
        if rule[0] in MAX_SCOPE and rule[2] in ("forward", "backward", "bidirectional"):
            entry["max_scope"] = MAX_SCOPE[rule[0]]
        rules.append(entry)

    for rule, fname in read_source(src):
        add(rule, fname.split("_")[0])
    for rule in _additions():
        add(rule, "mrt")
    return {
        "description": "ConText trigger rules for the mrt_context spaCy component",
        "attribution": (
            "Derived from the NegEx trigger list (Chapman WW et al., 2001; negex_triggers.txt) and the "
            "genConText trigger lists (Harkema H, Dowling JN, Thornblade T, Chapman WW, 2009; Xiuyun Shen; "
            "history_triggers.txt, hypothetical_triggers.txt, experiencer_triggers.txt), Apache License 2.0, "
            "https://github.com/chapmanbe/negex. Modified: entries remapped to categories/directions, some "
            "dropped, entries with source 'mrt' added. Generated by scripts/build_context_rules.py."
        ),
        "license": "Apache-2.0",
        "categories": ["negated", "uncertain", "historical", "hypothetical", "family"],
        "directions": ["forward", "backward", "bidirectional", "pseudo", "terminate"],
        "rules": rules,
    }


def dump(doc: dict[str, object], out: Path) -> None:
    """Write one rule per line so diffs stay readable."""
    head = {k: v for k, v in doc.items() if k != "rules"}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "rules": [']
    rules = doc["rules"]
    assert isinstance(rules, list)
    lines += ["  " + json.dumps(r, ensure_ascii=False) + ("," if i < len(rules) - 1 else "") for i, r in enumerate(rules)]
    lines.append("]}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    doc = build(args.src)
    dump(doc, args.out)
    print(f"wrote {len(doc['rules'])} rules to {args.out}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
