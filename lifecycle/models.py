"""Lifecycle history, policies, scores and retention tasks (see lifecycle/periods.py)."""
