"""Student accounts and the consumption facts recorded against them (DOMAIN.md §3).

Split by topic; import from `students.models` as usual.
"""
from .account import Student
from .contracts import Contract, LedgerEntry, Payment, Refund
from .engagement import Complaint, Interaction, SatisfactionSurvey
from .teaching import Attendance, ClassGroup, ClassSession, Course, ExamScore

__all__ = [
    "Attendance",
    "ClassGroup",
    "ClassSession",
    "Complaint",
    "Contract",
    "Course",
    "ExamScore",
    "Interaction",
    "LedgerEntry",
    "Payment",
    "Refund",
    "SatisfactionSurvey",
    "Student",
]
