"""Unusual-access rules, read from YAML like the escalation rules, so a partnership sets
its own thresholds and working hours without code."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mast_core.errors import MastError

DEFAULT_ACCESS_RULES = Path(__file__).resolve().parent / "default_access_rules.yaml"

Day = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
DAYS: tuple[Day, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
Kind = Literal[
    "views_without_involvement", "out_of_hours_burst", "shared_surname", "empty_searches"
]


class AccessRulesError(MastError):
    reason = "access_rules"


class WorkingHours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "Europe/London"
    start: time = time(8, 0)
    end: time = time(18, 0)
    days: frozenset[Day] = frozenset(DAYS[:5])

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: time, info: object) -> time:
        start = getattr(info, "data", {}).get("start")
        if start is not None and value <= start:
            raise ValueError("end must be after start (working hours within one day)")
        return value


class AccessRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    summary: str
    kind: Kind
    window_minutes: int = Field(gt=0)
    at_least: int = Field(ge=1)


class AccessRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    working_hours: WorkingHours = WorkingHours()
    rules: tuple[AccessRule, ...]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[AccessRule, ...]) -> tuple[AccessRule, ...]:
        ids = [rule.id for rule in rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return rules


def load_access_rules(path: Path | None = None) -> AccessRules:
    """The rules in ``path`` (the shipped ones when None), or a clear error naming the
    file and what is wrong with it."""
    source = path or DEFAULT_ACCESS_RULES
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccessRulesError(f"cannot read unusual-access rules {source}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise AccessRulesError(f"unusual-access rules {source} are not YAML: {exc}") from exc
    try:
        return AccessRules.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise AccessRulesError(f"unusual-access rules {source}: {problems}") from exc
