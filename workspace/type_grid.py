"""The 12 customer types as the 4 x 3 grid managers read (DOMAIN.md §5): value segments
down, phases across, each cell the accounts of that type in the branches shown, linked
to the student list filtered to exactly those accounts."""
from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from lifecycle.periods import Phase
from lifecycle.strategies import type_label
from lifecycle.value import PHASES, Segment


def type_grid(cells: dict[int, dict[str, dict[str, Any]]], branch_ids: list[int], *,
              branch_id: int | None = None) -> dict[str, Any]:
    """Rows of the grid from the type matrix ({branch_id: {"core.maintenance": {"n",
    "revenue"}}}, workspace.selectors.type_matrix), summed over `branch_ids`.

    Each cell links to students:list?segment=..&phase=.. (and &branch= when the dashboard
    shows one branch of several), the same segment and phase-of-period rule the matrix
    counts by, so the list holds the cell's accounts.
    """
    base = reverse("students:list")
    rows = []
    for segment in Segment:
        row = {"segment": segment.value, "label": str(segment.label), "cells": []}
        for phase in PHASES:
            key = f"{segment.value}.{phase}"
            n = sum(int(cells[b][key]["n"]) for b in branch_ids)
            revenue = sum((cells[b][key]["revenue"] for b in branch_ids), Decimal("0"))
            query = {"segment": segment.value, "phase": phase}
            if branch_id:
                query["branch"] = branch_id
            row["cells"].append({"type": key, "n": n, "revenue": revenue,
                                 "label": type_label(key),
                                 "url": f"{base}?{urlencode(query)}"})
        rows.append(row)
    return {"phases": [{"code": p, "label": str(Phase(p).label)} for p in PHASES],
            "rows": rows, "total": sum(c["n"] for r in rows for c in r["cells"])}
