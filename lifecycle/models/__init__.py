"""Lifecycle models, split by topic; import from `lifecycle.models` as usual."""
from .core import (
    CURRENT_WEIGHTS,
    POTENTIAL_WEIGHTS,
    LifecyclePolicy,
    PolicyValues,
    RiskState,
    ScanRun,
    Transition,
    Trigger,
)
from .retention import Playbook, RetentionTask
from .scores import AccountScore, BranchSnapshot, RiskProfile, ScoreHistory
from .strategy import TypeStrategy

__all__ = [
    "CURRENT_WEIGHTS",
    "POTENTIAL_WEIGHTS",
    "AccountScore",
    "BranchSnapshot",
    "LifecyclePolicy",
    "Playbook",
    "PolicyValues",
    "RetentionTask",
    "RiskProfile",
    "RiskState",
    "ScanRun",
    "ScoreHistory",
    "Transition",
    "Trigger",
    "TypeStrategy",
]
