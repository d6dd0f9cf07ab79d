"""Triage: category, urgency, language, population and clusters for every report.

Import is light: the rules and the scikit-learn model load on first use.
"""

from service.triage.quick import apply_provisional, classify_quick
from service.triage.service import TriageResult, apply_triage, classify, warm

__all__ = ["TriageResult", "apply_provisional", "apply_triage", "classify", "classify_quick", "warm"]
