"""Student-side services; import from `students.services`."""
from .accounts import ConsentInput, consent_record, student_create, student_merge
from .ledger import (
    RollCallResult,
    attendance_record,
    contract_balance,
    contract_create,
    makeup_book,
    roll_call_take,
    session_roster,
    student_hours_left,
)
from .notices import message_send, notice_enqueue
from .prepayment import months_exceeded, prepayment_errors
from .settlements import (
    RefundQuote,
    contract_expire,
    contract_refund_quote,
    contracts_expire,
    refund_approve,
    refund_quote,
    refund_reject,
    refund_request,
    retention_close,
    transfer_approve,
    transfer_reject,
    transfer_request,
)

__all__ = [
    "ConsentInput",
    "RefundQuote",
    "RollCallResult",
    "attendance_record",
    "consent_record",
    "contract_balance",
    "contract_create",
    "contract_expire",
    "contract_refund_quote",
    "contracts_expire",
    "makeup_book",
    "message_send",
    "months_exceeded",
    "notice_enqueue",
    "prepayment_errors",
    "refund_approve",
    "refund_quote",
    "refund_reject",
    "refund_request",
    "retention_close",
    "roll_call_take",
    "session_roster",
    "student_create",
    "student_hours_left",
    "student_merge",
    "transfer_approve",
    "transfer_reject",
    "transfer_request",
]
