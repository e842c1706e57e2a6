"""Escalation rules, read from YAML so an operator can change thresholds without code."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mast_core.errors import MastError

DEFAULT_RULES = Path(__file__).resolve().parent / "default_rules.yaml"


class RulesError(MastError):
    reason = "rules"


class EventFilter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()

    def accepts(self, agency: str, event_type: str | None) -> bool:
        if self.agencies and agency not in self.agencies:
            return False
        return not self.event_types or event_type in self.event_types


class Rise(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    baseline_days: int = Field(gt=0)
    factor: float = Field(gt=1)


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    summary: str
    subject: Literal["person", "address"]
    window_days: int = Field(gt=0)
    cooldown_days: int = Field(ge=0)
    severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    match: EventFilter = EventFilter()
    trigger: EventFilter | None = None
    at_least: int = Field(default=1, ge=1)
    distinct_agencies_at_least: int | None = Field(default=None, ge=2)
    rise: Rise | None = None
    requires: Literal["child_resident"] | None = None

    @model_validator(mode="after")
    def _address_conditions_need_an_address(self) -> Rule:
        if self.requires == "child_resident" and self.subject != "address":
            raise ValueError("requires: child_resident applies to address rules only")
        return self


LATE_DAYS = 90
"""How late evidence may arrive and still be judged as if it had arrived in order, unless the
rules file says otherwise (``late_days``)."""


class RuleSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[Rule, ...]
    late_days: int = Field(default=LATE_DAYS, ge=0)
    """Windows ending up to this many days before the newest event known for their subject
    are judged again when evidence for them arrives late; older ones are not (their events
    are no longer held). The engine keeps each subject's events for ``longest_days`` plus
    this, so the figure is a trade of memory for tolerance of late partners."""

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        return self

    @property
    def longest_days(self) -> int:
        """How much history one window needs: the longest window plus baseline."""
        return max(
            (r.window_days + (r.rise.baseline_days if r.rise else 0) for r in self.rules),
            default=0,
        )


def load_rules(path: Path = DEFAULT_RULES) -> RuleSet:
    """Read and check a rules file; a mistake is one clear error naming the rule and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"cannot read escalation rules {path}: {exc}") from None
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RulesError(f"escalation rules {path}: {where}: {first['msg']}") from None
