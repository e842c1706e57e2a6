"""Escalation detection over sliding windows of event time, with rules from YAML. Pure
Python: the stream processor feeds it resolved interactions and publishes its alerts."""

from mast_core.escalation.engine import Alert, EscalationEngine, Observation
from mast_core.escalation.rules import RulesError, RuleSet, load_rules

__all__ = ["Alert", "EscalationEngine", "Observation", "RuleSet", "RulesError", "load_rules"]
