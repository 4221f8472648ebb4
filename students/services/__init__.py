"""Student-side services; import from `students.services`."""
from .accounts import ConsentInput, consent_record, student_create, student_merge
from .ledger import attendance_record, contract_create

__all__ = [
    "ConsentInput",
    "attendance_record",
    "consent_record",
    "contract_create",
    "student_create",
    "student_merge",
]
