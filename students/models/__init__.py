"""Student accounts and the consumption facts recorded against them (DOMAIN.md §3).

Split by topic; import from `students.models` as usual.
"""
from .account import Student
from .contracts import Contract, LedgerEntry, Payment, Refund
from .engagement import Complaint, Interaction, SatisfactionSurvey
from .notices import ChannelPreference, MessageChannel, MessageLog
from .policies import ContractPolicy
from .receipts import NumberSequence, Receipt
from .settlements import RetentionAttempt, Transfer
from .teaching import Attendance, ClassGroup, ClassSession, Course, ExamScore, MakeUp

__all__ = [
    "Attendance",
    "ChannelPreference",
    "ClassGroup",
    "ClassSession",
    "Complaint",
    "Contract",
    "ContractPolicy",
    "Course",
    "ExamScore",
    "Interaction",
    "LedgerEntry",
    "MakeUp",
    "MessageChannel",
    "MessageLog",
    "NumberSequence",
    "Payment",
    "Receipt",
    "Refund",
    "RetentionAttempt",
    "SatisfactionSurvey",
    "Student",
    "Transfer",
]
