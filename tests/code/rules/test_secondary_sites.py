"""Secondary neoplasm sites read from the note's words (Index: Metastasis, to specified site - see
Neoplasm, secondary, by site; :func:`pipeline.code.rules.neoplasm.secondary_sites`)."""

from __future__ import annotations

import pytest

from pipeline.code.coder import propose_codes
from pipeline.code.rules.neoplasm import SECONDARY_MORPHOLOGY, secondary_sites
from pipeline.extract.types import Entity
from pipeline.settings import get_settings


def _entity(text: str, words: str, section: str = "assessment") -> Entity:
    start = text.index(words)
    return Entity(start, start + len(words), words, "PROBLEM", section=section)


@pytest.mark.parametrize(
    ("text", "mention", "query"),
    [
        # the site after the word, with a site's own site read with it
        (
            "Metastatic adenocarcinoma in one lymph node in the right obturator fossa.",
            "Metastatic adenocarcinoma in one lymph node in the right obturator fossa",
            "secondary malignant neoplasm of lymph node obturator fossa",
        ),
        ("Lung cancer metastatic to the bone.", "metastatic to the bone", "secondary malignant neoplasm of bone"),
        # the site right before the word
        ("Pancreatic mass with liver metastases.", "liver metastases", "secondary malignant neoplasm of liver"),
        ("He has multiple liver mets.", "liver mets", "secondary malignant neoplasm of liver"),
    ],
)
def test_a_site_the_words_say_a_cancer_spread_to_is_a_mention_of_its_secondary_site(text: str, mention: str, query: str):
    (site,) = secondary_sites([], text)
    assert (site.mention.text, site.mention.query_text, site.mention.uncertain) == (mention, query, False)


@pytest.mark.parametrize(
    "text",
    [
        "Bone scan: Negative for distant metastasis.",  # denied
        "No evidence of metastatic disease in the liver.",
        "Lung cancer with metastasis most likely.",  # the words before are the primary's, no site
        "Known widespread metastatic disease.",  # no site
    ],
)
def test_no_secondary_site_where_the_note_denies_it_or_names_none(text: str):
    assert secondary_sites([], text) == []


def test_a_suspected_site_is_uncertain_and_a_mention_with_its_site_is_left_to_itself():
    (site,) = secondary_sites([], "Possible bone metastases.")
    assert site.mention.uncertain
    text = "Uterine cancer with pulmonary metastases."
    assert secondary_sites([_entity(text, "pulmonary metastases")], text) == []


def test_the_metastasis_is_coded_by_its_site_and_its_morphology_is_no_primary():
    text = "POSTOPERATIVE DIAGNOSIS: Metastatic adenocarcinoma in the brain from the breast."
    morphology = _entity(text, "adenocarcinoma", "postoperative_diagnosis")
    site, origin = secondary_sites([morphology], text)
    assert site.replaces == (morphology,) and site.mention.section == "postoperative_diagnosis"
    assert origin.mention.long_form == "malignant neoplasm of breast" and origin.replaces == ()
    result = propose_codes([morphology], settings=get_settings(), setting="inpatient", text=text)
    codes = [p.code for p in result.proposals]
    assert "C79.31" in codes and "C50.919" in codes and "C80.1" not in codes, codes
    assert any(s.reason == SECONDARY_MORPHOLOGY for s in result.skipped)


def test_the_site_a_metastasis_comes_from_is_the_primary_and_the_statements_tumor_its_secondary_site():
    """Index: Metastasis, from specified site - see Neoplasm, malignant, by site."""
    text = "POSTOPERATIVE DIAGNOSES:\nBrain tumors multiple - adenocarcinoma and metastasis from breast.\n"
    tumor = _entity(text, "tumors", "postoperative_diagnosis")
    sites = {s.mention.long_form: s for s in secondary_sites([tumor], text)}
    assert set(sites) == {"malignant neoplasm of breast", "secondary malignant neoplasm of brain"}
    assert sites["malignant neoplasm of breast"].replaces == ()
    assert sites["secondary malignant neoplasm of brain"].replaces == (tumor,)
    assert sites["secondary malignant neoplasm of brain"].mention.text == "Brain tumors"
    result = propose_codes([tumor], settings=get_settings(), setting="inpatient", text=text)
    codes = [p.code for p in result.proposals]
    # the tumor's behaviour is now documented: no D49.6 (neoplasm of unspecified behaviour of the brain)
    assert {"C79.31", "C50.919"} <= set(codes) and "D49.6" not in codes, codes
    # "to" and "from" in one statement; a denied origin is none
    text = "Metastatic adenocarcinoma in the brain from the breast."
    assert [s.mention.long_form for s in secondary_sites([], text)] == [
        "secondary malignant neoplasm of brain",
        "malignant neoplasm of breast",
    ]
    assert secondary_sites([], "No metastasis from the lung cancer.") == []
