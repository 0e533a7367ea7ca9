"""Operations named by names the PCS tables lack, in the tables' words (pipeline.code.rules.named_procedures)."""

from __future__ import annotations

import pytest

from pipeline.code.coder import propose_codes
from pipeline.code.rules.named_procedures import named_procedure_query
from pipeline.code.types import PCS
from pipeline.extract.pipeline import extract


@pytest.mark.parametrize(
    ("mention", "sentence", "text", "query"),
    [
        # hernia repair: the region of the hernia, mesh placed or not, laparoscopic or open
        (
            "Epigastric herniorrhaphy",
            "",
            "The fascial defect was closed with interrupted sutures.",
            "repair abdominal wall open approach",
        ),
        (
            "Umbilical hernia repair",
            "",
            "A Ventralex mesh was placed.",
            "supplement abdominal wall with synthetic substitute open approach",
        ),
        ("Umbilical hernia repair", "", "No mesh was needed.", "repair abdominal wall open approach"),
        ("Laparoscopic repair of right inguinal hernia", "", "", "repair right inguinal region percutaneous endoscopic approach"),
        ("inguinal herniorrhaphy", "", "", None),  # the side decides the body part: none stated, none read
        # chest tube, carpal tunnel release, cataract extraction
        ("Left chest tube placement", "", "", "drainage of left pleural cavity with drainage device percutaneous approach"),
        ("Endoscopic carpal tunnel release", "", "", "release median nerve percutaneous endoscopic approach"),
        ("carpal tunnel release", "Right carpal tunnel release.", "", "release median nerve open approach"),
        (
            "Kelman phacoemulsification",
            "Kelman phacoemulsification with posterior chamber intraocular lens, right eye.",
            "",
            "replacement of right lens with synthetic substitute percutaneous approach",
        ),
        ("cataract extraction", "Cataract extraction, OS.", "", "extraction of left lens percutaneous approach"),
        ("Laparoscopic cholecystectomy", "", "", "resection of gallbladder percutaneous endoscopic approach"),
        # cesarean: low or classical by the incision, else the mention's words; heart catheterization by side
        ("Low transverse cesarean section", "", "", "extraction of products of conception low open approach"),
        (
            "Repeat cesarean section",
            "Repeat cesarean section via classical incision.",
            "",
            "extraction of products of conception high open approach",
        ),
        ("Cesarean section", "Cesarean section for arrest of dilation.", "", None),
        ("Left heart catheterization", "", "", "measurement of cardiac sampling and pressure left heart percutaneous approach"),
        (
            "Right and left heart catheterization",
            "",
            "",
            "measurement of cardiac sampling and pressure bilateral percutaneous approach",
        ),
        ("Cardiac catheterization", "", "", None),
    ],
)
def test_a_named_operation_is_written_in_the_tables_words(mention: str, sentence: str, text: str, query: str | None):
    assert named_procedure_query(mention, sentence, text) == query


def test_an_operative_reports_operations_heading_names_its_procedures():
    """ "OPERATIONS:" after the operative diagnoses is the report's procedure heading, not a past surgical history."""
    text = (
        "PREOPERATIVE DIAGNOSIS: , Epigastric hernia.\nPOSTOPERATIVE DIAGNOSIS: , Epigastric hernia.\n"
        "OPERATIONS:\nEpigastric herniorrhaphy.\nANESTHESIA: , General inhalation.\n"
        "PROCEDURE: The fascial defect was closed with interrupted sutures.\n"
    )
    result = propose_codes(extract(text), setting="inpatient", text=text)
    assert "0WQF0ZZ" in [p.code for p in result.proposals if p.system == PCS], [p.code for p in result.proposals]


@pytest.mark.parametrize(
    ("mention", "sentence", "query"),
    [
        # an organ its Greek or Latin name says is taken out, of its side: the Resection of it
        ("Left nephrectomy", "", "resection of left kidney open approach"),
        (
            "Laparoscopic radical nephrectomy",
            "Laparoscopic radical nephrectomy, right.",
            "resection of right kidney percutaneous endoscopic approach",
        ),
        ("Nephrectomy", "", None),  # a kidney of no stated side is left to the mention's words
        ("Bilateral salpingo-oophorectomy", "", "resection of bilateral ovaries open approach"),
        ("Splenectomy", "", "resection of spleen open approach"),
        ("right pneumonectomy", "", "resection of right lung open approach"),
        ("Total vaginal hysterectomy", "", "resection of uterus via natural or artificial opening"),
        (
            "Laparoscopic-assisted vaginal hysterectomy",
            "",
            "resection of uterus via natural or artificial opening with percutaneous endoscopic assistance",
        ),
        ("Total abdominal hysterectomy", "", "resection of uterus open approach"),
        # the colon: a named segment or side is that body part's Resection, a part of it the Excision
        ("Right hemicolectomy", "", "resection of right large intestine open approach"),
        ("Laparoscopic sigmoid colectomy", "", "resection of sigmoid colon percutaneous endoscopic approach"),
        ("Partial colectomy", "", "excision of large intestine open approach"),
        ("Hemicolectomy", "", None),
        # part of an organ, a lobe
        ("Partial nephrectomy", "Left partial nephrectomy.", "excision of left kidney open approach"),
        ("Wedge hepatectomy", "", "excision of liver open approach"),
        ("Hepatectomy", "", None),
        ("Right upper lobectomy", "", "resection of right upper lung lobe open approach"),
        ("VATS left lower lobectomy", "", "resection of left lower lung lobe percutaneous endoscopic approach"),
        ("Right thyroid lobectomy", "", "resection of right thyroid gland lobe open approach"),
        ("Total thyroidectomy", "", "resection of thyroid gland open approach"),
        ("Right breast lumpectomy", "", "excision of right breast open approach"),
        # no organ: the operation's words stand
        ("Lumbar laminectomy", "", None),
        ("Lesionectomy", "", None),
        # bedside and endoscopic procedures by their usual names
        ("Endotracheal intubation", "", "insertion of endotracheal airway into trachea via natural or artificial opening"),
        ("thoracentesis", "Ultrasound-guided left thoracentesis.", "drainage of left pleural cavity percutaneous approach"),
        ("Thoracentesis", "", None),  # the side decides the body part
        ("Paracentesis", "", "drainage of peritoneal cavity percutaneous approach"),
        ("paracentesis", "A paracentesis was created at 2 o'clock.", None),  # a step of a cataract operation
        (
            "central line",
            "Right internal jugular central line placement.",
            "insertion of infusion device into superior vena cava percutaneous approach",
        ),
        ("PICC line", "Her PICC line was removed.", None),
        (
            "Transfusion",
            "Transfusion of 2 units of packed red blood cells.",
            "transfusion of nonautologous red blood cells into peripheral vein percutaneous approach",
        ),
        ("Flexible sigmoidoscopy", "", "inspection of lower intestinal tract via natural or artificial opening endoscopic"),
        # bone cement in a vertebral body: the Supplement of the vertebra of the level's region
        (
            "vertebroplasty",
            "Unilateral transpedicular T11 vertebroplasty.",
            "supplement thoracic vertebra with synthetic substitute percutaneous approach",
        ),
        ("L1 kyphoplasty", "", "supplement lumbar vertebra with synthetic substitute percutaneous approach"),
        ("Kyphoplasty", "", None),  # no level, no body part
        ("vertebroplasty", "T12 and L1 vertebroplasty.", None),  # two regions: two codes, the coder's
    ],
)
def test_an_organ_taken_out_is_the_resection_of_the_organ_its_name_says(mention: str, sentence: str, query: str | None):
    assert named_procedure_query(mention, sentence) == query


def test_the_narrative_of_an_operation_reads_the_approach_its_heading_states():
    """One operation, one code: the narrative's "vaginal hysterectomy" is the heading's laparoscopically
    assisted one; the paracentesis of an eye operation is no abdominal drainage."""
    text = "OPERATION PERFORMED: Laparoscopic-assisted vaginal hysterectomy.\nAttention was made to the vaginal hysterectomy."
    assisted = "resection of uterus via natural or artificial opening with percutaneous endoscopic assistance"
    assert named_procedure_query("vaginal hysterectomy", "Attention was made to the vaginal hysterectomy.", text) == assisted
    eye = "Phacoemulsification of the cataract. A suture was placed through the inferotemporal paracentesis."
    assert (
        named_procedure_query("inferotemporal paracentesis", "A suture was placed through the inferotemporal paracentesis.", eye)
        is None
    )


@pytest.mark.parametrize(
    ("procedure", "code"),
    [
        ("Right hemicolectomy", "0DTF0ZZ"),
        ("Left nephrectomy", "0TT10ZZ"),
        ("Laparoscopic sigmoid colectomy", "0DTN4ZZ"),
        ("Bilateral orchiectomy", "0VTC0ZZ"),
    ],
)
def test_an_organ_removal_under_the_procedure_heading_is_proposed_alone(procedure: str, code: str):
    """Proposed whatever the re-ranker learned from case reports, and not with a neighbouring body part
    (before: "right hemicolectomy" also the left large intestine, "left nephrectomy" the right kidney)."""
    text = f"PREOPERATIVE DIAGNOSIS: Adenocarcinoma.\nPROCEDURE PERFORMED: {procedure}.\nANESTHESIA: General.\n"
    result = propose_codes(extract(text), setting="inpatient", text=text)
    assert [p.code for p in result.proposals if p.system == PCS] == [code]


INSERTION_CHEST = (
    "insertion of totally implantable vascular access device into chest subcutaneous tissue and fascia open approach"
)


@pytest.mark.parametrize(
    ("mention", "preceding", "query"),
    [
        ("Left subclavian vein MediPort placement", "", INSERTION_CHEST),
        ("Port-A-Cath placement", "", INSERTION_CHEST),
        ("implanted venous access port", "Insertion of an ", INSERTION_CHEST),
        (
            "Port-A-Cath",
            "Removal of ",
            "removal of totally implantable vascular access device from trunk subcutaneous tissue and fascia open approach",
        ),
        (
            "right arm power port placement",
            "",
            "insertion of totally implantable vascular access device into right upper arm subcutaneous tissue and fascia open approach",
        ),
        # a laparoscopy's ports are trocars, and a device named with no operation on it is no procedure
        ("Port placement", "", None),
        ("Port-A-Cath", "She has a ", None),
    ],
)
def test_a_port_is_a_totally_implantable_vascular_access_device(mention: str, preceding: str, query: str | None):
    assert named_procedure_query(mention, "", "", preceding) == query


def test_a_mediport_placement_is_coded_to_the_chest_subcutaneous_tissue():
    text = "PREOPERATIVE DIAGNOSIS: Rhabdomyosarcoma of the left orbit.\nPROCEDURE: Left subclavian vein MediPort placement.\n"
    result = propose_codes(extract(text), setting="inpatient", text=text)
    assert "0JH60WZ" in [p.code for p in result.proposals if p.system == PCS], [p.code for p in result.proposals]
