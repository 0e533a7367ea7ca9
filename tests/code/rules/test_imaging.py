"""Imaging studies get the body part PCS needs from the words around the mention (pure functions)."""

from __future__ import annotations

import re

import pytest

from pipeline.code.edits.integral import integral_to
from pipeline.code.rules.imaging import imaging_query


@pytest.mark.parametrize(
    "sentence, mention, query",
    [
        ("The abdominal-pelvic CT showed no changes.", "CT", "computerized tomography of abdomen and pelvis"),
        (
            "A CT scan of the chest, abdomen and pelvis showed nodes.",
            "CT scan",
            "computerized tomography of chest, abdomen and pelvis",
        ),
        ("Thoraco-abdominal CT was normal.", "CT", "computerized tomography of chest and abdomen"),
        ("Renal ultrasound showed a cyst.", "ultrasound", "ultrasonography of kidneys"),
        ("Brain MRI showed two lesions.", "MRI", "magnetic resonance imaging of brain"),
        ("MRI of the lumbar spine without contrast.", "MRI", "magnetic resonance imaging of lumbar spine"),
        ("Her cervical MRI reveals stenosis at C6-7.", "MRI", "magnetic resonance imaging of cervical spine"),
        ("CT of the neck showed a mass.", "CT", "computerized tomography of neck"),
        ("The MRI of his C spine showed spondylosis.", "MRI", "magnetic resonance imaging of cervical spine"),
        ("MRI T-spine was unremarkable.", "MRI", "magnetic resonance imaging of thoracic spine"),
        ("A thoracic spine CT was done.", "CT", "computerized tomography of thoracic spine"),
        ("Cervical spine x-rays showed spondylosis.", "x-rays", "plain radiography of cervical spine"),
        ("Chest X-ray and CT scan confirmed it.", "CT scan", None),  # the chest belongs to the x-ray
        ("Laparoscopic cholecystectomy was done.", "cholecystectomy", None),  # not imaging
    ],
)
def test_imaging_query_reads_the_body_part_next_to_the_mention(sentence, mention, query):
    m = re.search(re.escape(mention), sentence)
    assert imaging_query(mention, sentence, m.start(), m.end()) == query


def test_integral_symptoms_table():
    assert integral_to("R05.9", ["E11.9", "J20.9"]) == "J20.9"  # cough with acute bronchitis
    assert integral_to("R50.9", ["J18.9"]) == "J18.9"  # fever with pneumonia
    assert integral_to("R07.9", ["I21.4"]) == "I21.4"  # chest pain with NSTEMI
    assert integral_to("R05.9", ["I10"]) is None  # not part of hypertension
    assert integral_to("R53.83", ["J18.9"]) is None  # no row: fatigue stays coded
