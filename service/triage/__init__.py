"""Triage: category, urgency, language, population and clusters for every report.

Import is light: the rules and the scikit-learn model load on first use.
"""

from service.triage.service import TriageResult, apply_triage, classify, warm

__all__ = ["TriageResult", "apply_triage", "classify", "warm"]
