"""Reading the Alphabetic Index (pipeline.code.lookup.index_lookup) on the shipped FY Index."""

import pytest

from pipeline.code.lookup.index_lookup import lookup


@pytest.mark.parametrize(
    "mention, code",
    [
        # a spine region named by its adjective or by a vertebral level: Radiculopathy, cervical region
        ("cervical radiculopathy", "M54.12"),
        ("left C6 radiculopathy", "M54.12"),
        ("L5 radiculopathy", "M54.16"),
        ("lumbar spinal stenosis", "M48.061"),
        ("cervical spinal stenosis", "M48.02"),
        ("stage 2 sacral decubitus ulcer", "L89.152"),
        # a mention that names no other type is read under "without", not "specified NEC"
        ("lumbar spondylosis", "M47.816"),
        ("cervical spondylosis with radiculopathy", "M47.22"),
        # a level that names a cause is read only when stated
        ("acute anemia", "D64.9"),
        ("acute on chronic anemia", "D64.9"),
        ("acute blood loss anemia", "D62"),
        ("C6 radiculopathy due to disc disorder", "M50.122"),
        # a disc by its level; the disc between two regions is in the region named by both
        ("L4-L5 disc herniation", "M51.26"),
        ("L5-S1 disc herniation", "M51.27"),
        ("L5/S1 herniated nucleus pulposus", "M51.27"),
        ("T12-L1 disc herniation", "M51.25"),
        ("L5-S1 radiculopathy", "M54.17"),
        ("left S1 radiculopathy", "M54.17"),
        # Hematoma (traumatic): a subterm's ", traumatic" is the term's own default, read on where the
        # reference sends it; a stated "nontraumatic" reads its own subterm, never the traumatic one
        ("intracerebral hematoma", "S06.36AA"),
        ("traumatic intracerebral hematoma", "S06.36AA"),
        ("cerebellar hematoma", "S06.37AA"),
        ("subdural hematoma", "S06.5XAA"),
        ("nontraumatic subdural hematoma", "I62.00"),
        ("nontraumatic intracerebral hematoma", "I61.9"),
        # Compression, fracture, nontraumatic NOS - see Collapse, vertebra: a compression fracture of no
        # stated cause; with its level, the region's code
        ("compression fracture", "M48.50XA"),
        ("L1 compression fracture", "M48.56XA"),
        ("compression fracture T12", "M48.54XA"),
        ("traumatic compression fracture", "T14.8XXA"),
        # "C5-6" is C5-C6, "disk" the Index's disc
        ("C5-6 disk herniation", "M50.20"),
        ("L4-5 disc herniation", "M51.26"),
        ("intracerebral hemorrhage", "I61.9"),
        ("intracerebral abscess", "G06.0"),
        # a chamber names the heart; an acuity modifier of a reference is not read on with (no rheumatic I01.8)
        ("left atrial enlargement", "I51.7"),
        ("left ventricular aneurysm", "I25.3"),
        ("cardiac dilatation", "I51.7"),
        ("atrial fibrillation", "I48.91"),
        # a condition's adjective reads its "with" subterm, through a "see" reference too
        ("gangrenous appendicitis", "K35.891"),
        ("acute gangrenous appendicitis", "K35.891"),
        ("perforated appendicitis", "K35.32"),
        ("perforated duodenal ulcer", "K26.5"),
        # a one-entry main term's qualifier is read only when stated
        ("endometrial implant", "N80.9"),
        ("difficult intubation", "T88.4XXA"),
        # a limb by the Tabular's word for it: Pain, limb, lower M79.60- is "pain in leg" (the side is read
        # later); "leg pain" reads Pain, leg - see Pain, limb, lower, not its "lower leg" (M79.66-)
        ("leg pain", "M79.606"),
        ("lower extremity pain", "M79.606"),
        ("upper extremity pain", "M79.603"),
        ("arm pain", "M79.603"),
        ("pain in the left lower leg", "M79.669"),
        ("foot pain", "M79.673"),
        ("lower extremity edema", "R60.0"),
        # a site level is never skipped: a lung's "right upper lobe" is not Hemorrhage, cerebral, lobe
        ("right temporoparietal hemorrhage", "I61.1"),
        ("intraparenchymal hemorrhage", "I61.9"),
        ("pontine hemorrhage", "I61.3"),
        # a main term with a code of its own reads on at its "see also" for words it does not read
        ("respiratory illness", "J98.9"),
        ("viral illness", "B34.9"),
        ("mental illness", "F99"),
        ("knee arthrosis", "M17.9"),
    ],
)
def test_the_index_reads_what_the_mention_states(mention, code):
    hit = lookup(mention)
    assert hit is not None and hit.code == code, hit


def test_a_type_not_elsewhere_classified_at_the_end_of_a_path_is_still_read():
    """Only a "specified NEC" level with levels below it is read past: as the deepest level it stays the
    term's catch-all (the RSV reading does not lose its code)."""
    hit = lookup("respiratory syncytial virus")
    assert hit is not None and hit.code


def test_a_sites_code_states_its_detail():
    from pipeline.code.rules.specificity import names_the_site

    assert names_the_site("M46.46") and names_the_site("M54.12")
    assert not names_the_site("M46.40") and not names_the_site("I10")
    assert not names_the_site("C79.51")  # a neoplasm's site is the Table of Neoplasms' to read


@pytest.mark.parametrize(
    "code, context, specific",
    [
        ("M50.20", "C5-C6 disc herniation", "M50.222"),
        ("M50.10", "C5-6 radiculopathy", "M50.122"),
        ("M50.20", "herniated disc at C4/C5", "M50.221"),
        ("M50.30", "C6-C7 degenerative disc disease", "M50.323"),
        ("M50.20", "C7-T1 disc herniation", "M50.23"),  # the cervicothoracic region
        ("M51.26", "L4-L5 disc herniation", None),  # lumbar discs are coded by region only
        ("M50.20", "cervical disc herniation", None),  # no level stated
        ("M50.222", "C5-C6", None),  # already at its level
        ("M50.20", "herniated nucleus pulposus C4-C5, C5-C6, and C6-C7", "M50.221"),  # the most superior level
    ],
)
def test_a_stated_disc_level_is_the_tabulars_level(code, context, specific):
    from pipeline.code.rules.specificity import stated_disc_level

    assert stated_disc_level(code, context) == specific


@pytest.mark.parametrize("mention", ["implant", "breast implant rupture", "intubation", "movements"])
def test_a_main_terms_qualifier_that_names_the_condition_is_never_read_unstated(mention):
    """ "Implant, endometrial" (N80.9) is an endometrial implant, not a breast implant; "Intubation,
    difficult or failed" (T88.4) is no intubation done; "Movements, dystonic" (R25.8) no movements."""
    hit = lookup(mention)
    assert hit is None or hit.code not in {"N80.9", "T88.4XXA", "R25.8"}, hit


def test_a_lobe_of_another_organ_is_not_the_brains():
    hit = lookup("right upper lobe hemorrhage")
    assert hit is not None and not hit.code.startswith("I61"), hit


@pytest.mark.parametrize(
    "code, mention, specific",
    [
        ("L03.119", "cellulitis of the left leg", "L03.116"),
        ("L03.119", "right foot cellulitis", "L03.115"),
        ("L03.119", "left arm cellulitis", "L03.114"),
        ("L02.419", "abscess of the right thigh", "L02.415"),
        ("L03.119", "cellulitis, left", "L03.119"),  # no limb named: the part stays unspecified
        ("M79.606", "left leg pain", "M79.605"),
        ("M79.603", "right arm pain", "M79.601"),
    ],
)
def test_a_stated_side_and_limb_make_the_tabulars_code(code, mention, specific):
    """The side where the Tabular titles a limb ("cellulitis of left lower limb") or orders its words
    otherwise ("pain in left leg" for "pain in leg, unspecified")."""
    from pipeline.code.rules.specificity import lateral

    assert lateral(code, mention)[0] == specific
