"""``mrt claim``: a record's DRG, HCCs and CDI queries; the claim export (FHIR R4 Claim, UB-04 CSV); the claims report."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipeline.records.cli import write_output

err = Console(stderr=True)
claim_app = typer.Typer(no_args_is_help=True, help="Inpatient claim: DRG/HCC/CDI of a record, claim export, claims report.")


def _load(s, record_id: int):
    from pipeline.records.records import RecordError, load_records

    try:
        found = load_records(s, [record_id])
    except RecordError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2)
    if not found:
        err.print(f"[red]No record {record_id}.[/red]")
        raise typer.Exit(2)
    return found[0]


@claim_app.command("group")
def group_cmd(
    record_id: int,
    principal: Optional[str] = typer.Option(None, "--principal", help="What if this code were the principal diagnosis"),
    remove: list[str] = typer.Option([], "--remove", help="What if this code were removed (repeatable)"),
) -> None:
    """The record's MS-DRG, MDC, weight, CC/MCC drivers, V28 HCCs, CDI queries (JSON); with a what-if."""
    from pipeline.claim.record import claim_json, record_claim, record_what_if
    from pipeline.store.db import session_scope

    with session_scope() as s:
        rc = record_claim(s, _load(s, record_id))
        write_output(json.dumps(claim_json(rc, record_what_if(rc, principal, tuple(remove))), indent=2, default=str) + "\n", None)


@claim_app.command("export")
def export_cmd(
    record_ids: list[int] = typer.Argument(..., help="Finalized inpatient records"),
    fmt: str = typer.Option(
        "fhir", "--format", help="fhir (a Bundle of FHIR R4 Claims, validated) or ub04 (CSV in UB-04 field order)"
    ),
    draft: bool = typer.Option(False, "--draft", help="Also records not yet finalized (FHIR status draft)"),
    output: Optional[Path] = typer.Option(None, "-o", "--output"),
) -> None:
    """Export finalized inpatient stays as claims."""
    from pipeline.claim.claim_export import ClaimExportError, claim_resource, ub04_csv
    from pipeline.store.db import session_scope

    if fmt not in ("fhir", "ub04"):
        err.print("[red]--format is fhir or ub04[/red]")
        raise typer.Exit(2)
    with session_scope() as s:
        records = [_load(s, i) for i in record_ids]
        try:
            if fmt == "ub04":
                text = ub04_csv(s, records, draft)
            else:
                claims = [claim_resource(s, d, draft) for d in records]
                text = (
                    json.dumps(
                        {
                            "resourceType": "Bundle",
                            "type": "collection",
                            "entry": [{"fullUrl": f"urn:mrt:claim:{c['id']}", "resource": c} for c in claims],
                        },
                        indent=2,
                    )
                    + "\n"
                )
        except ClaimExportError as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(2)
    write_output(text, output)


@claim_app.command("report")
def report_cmd(output: Optional[Path] = typer.Option(None, "-o", "--output")) -> None:
    """CMI by period/physician/service, DNFB with aging, DRG and HCC distributions, CDI query metrics (JSON)."""
    from pipeline.claim.reports import claim_report
    from pipeline.store.db import session_scope

    with session_scope() as s:
        rep = claim_report(s)
    write_output(json.dumps(asdict(rep), indent=2, default=str) + "\n", output)


def register(app: typer.Typer) -> None:
    app.add_typer(claim_app, name="claim")
