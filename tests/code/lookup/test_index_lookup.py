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
