"""One importer per kind; `importer_for(kind, ctx)` is the only entry point."""
from __future__ import annotations

from ..models import ImportKind
from .base import Action, Context, Importer, Plan, RowPlan
from .engagement import ComplaintImporter, InteractionImporter
from .prospects import ProspectImporter
from .records import AttendanceImporter, ContractImporter, ExamImporter, PaymentImporter
from .students import StudentImporter

IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.STUDENTS: StudentImporter,
    ImportKind.CONTRACTS: ContractImporter,
    ImportKind.ATTENDANCE: AttendanceImporter,
    ImportKind.PAYMENTS: PaymentImporter,
    ImportKind.EXAMS: ExamImporter,
    ImportKind.INTERACTIONS: InteractionImporter,
    ImportKind.COMPLAINTS: ComplaintImporter,
    ImportKind.PROSPECTS: ProspectImporter,
}


def importer_for(kind: str, ctx: Context, *, preview: bool = True) -> Importer:
    return IMPORTERS[kind](ctx, preview=preview)


__all__ = ["IMPORTERS", "Action", "Context", "Importer", "Plan", "RowPlan", "importer_for"]
