"""How a partner's extract becomes interaction events: a mapping file says which column is
which field, how dates are written and what the partner's codes mean.

Most partners can only send a nightly extract from a system MAST cannot change, so the
mapping bends to the extract rather than the other way round. Example mappings for a
police, a fire, a health and a social care extract are in ``producers/mappings/``.

    agency: POLICE                     # may be left to --agency
    source_system: Niche RMS
    columns:                           # event field: the extract's column
      source_record_id: Person URN
      event_type: Occurrence Type
      occurred_at: Reported
      subject.full_name: Name          # "SMITH, John" or "John Smith"
      subject.date_of_birth: DOB
      ...
    constants: {contact.team: Public Protection Unit}
    values: {event_type: {DA: DOMESTIC_ABUSE_INCIDENT}}
    date_formats: ["%d/%m/%Y"]
    datetime_formats: ["%d/%m/%Y %H:%M"]
    timezone: Europe/London
    identity_columns: [Occurrence Ref, Person URN]   # for the event_id when none is given
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from mast_core.events import Agency

FIELDS = (
    "event_id",
    "source_system",
    "source_record_id",
    "event_type",
    "occurred_at",
    "case_status",
    "subject.given_name",
    "subject.family_name",
    "subject.full_name",
    "subject.date_of_birth",
    "subject.gender",
    "subject.address.line1",
    "subject.address.line2",
    "subject.address.town",
    "subject.address.postcode",
    "subject.address.uprn",
    "subject.nhs_number",
    "contact.name",
    "contact.team",
    "contact.phone",
    "contact.email",
)
"""The event fields a column may fill (the contract in docs/event-contract.md), plus
``subject.full_name`` for extracts that hold a name in one column."""


class MappingError(ValueError):
    """A mapping file that cannot be used, or an extract that does not fit it."""


class RowError(ValueError):
    """One row that cannot become an event, naming the field (never the value)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class ExtractMapping:
    agency: Agency | None
    source_system: str | None
    columns: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ("%d/%m/%Y", "%Y-%m-%d")
    datetime_formats: tuple[str, ...] = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")
    timezone: str = "Europe/London"
    identity_columns: tuple[str, ...] = ()
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    @classmethod
    def load(cls, path: Path) -> ExtractMapping:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"cannot read the mapping {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{path} is not valid YAML: {exc}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, name: str = "mapping") -> ExtractMapping:
        if not isinstance(data, Mapping):
            raise MappingError(f"{name}: expected a mapping of settings at the top level")
        known = {
            "agency",
            "source_system",
            "columns",
            "constants",
            "values",
            "date_formats",
            "datetime_formats",
            "timezone",
            "identity_columns",
            "delimiter",
            "encoding",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise MappingError(f"{name}: unknown settings {', '.join(unknown)}")
        columns = _strings(data.get("columns"), f"{name}: columns")
        constants = _strings(data.get("constants") or {}, f"{name}: constants")
        if not columns:
            raise MappingError(f"{name}: columns must map at least one event field to a column")
        for target in (*columns, *constants):
            if target not in FIELDS:
                raise MappingError(
                    f"{name}: {target!r} is not an event field; use one of {', '.join(FIELDS)}"
                )
        has_name = {"subject.given_name", "subject.family_name", "subject.full_name"}
        if not has_name & set(columns):
            raise MappingError(f"{name}: map a name column (subject.family_name or full_name)")
        values = data.get("values") or {}
        if not isinstance(values, Mapping) or not all(
            isinstance(v, Mapping) for v in values.values()
        ):
            raise MappingError(f"{name}: values must map a field to {{code: value}}")
        timezone = str(data.get("timezone") or "Europe/London")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"{name}: unknown timezone {timezone!r}") from None
        agency = data.get("agency")
        try:
            parsed_agency = Agency(str(agency).upper()) if agency else None
        except ValueError:
            raise MappingError(
                f"{name}: agency must be one of {', '.join(a.value for a in Agency)}"
            ) from None
        return cls(
            agency=parsed_agency,
            source_system=str(data["source_system"]) if data.get("source_system") else None,
            columns=columns,
            constants=constants,
            values={
                str(k): {str(code): str(v) for code, v in table.items()}
                for k, table in values.items()
            },
            date_formats=tuple(data.get("date_formats") or cls.date_formats),
            datetime_formats=tuple(data.get("datetime_formats") or cls.datetime_formats),
            timezone=timezone,
            identity_columns=tuple(data.get("identity_columns") or ()),
            delimiter=str(data.get("delimiter") or ","),
            encoding=str(data.get("encoding") or "utf-8-sig"),
        )

    def check_header(self, header: list[str]) -> None:
        """Refuse an extract whose header lacks a mapped column, before anything is sent."""
        wanted = [*self.columns.values(), *self.identity_columns]
        missing = [column for column in wanted if column not in header]
        if missing:
            raise MappingError(
                "the extract has no column "
                + ", ".join(repr(c) for c in missing)
                + f" (its columns: {', '.join(header)})"
            )

    def event(self, row: Mapping[str, str | None], agency: Agency) -> dict[str, Any]:
        """The event in the JSON form of docs/event-contract.md; raises RowError for a row
        that cannot be one.
        Validation of the contract itself is ``parse_event``'s, as for every other source."""
        flat: dict[str, str] = dict(self.constants)
        for target, column in self.columns.items():
            value = (row.get(column) or "").strip()
            if value:
                flat[target] = self.values.get(target, {}).get(value, value)
        if "subject.full_name" in flat:
            given, family = split_full_name(flat.pop("subject.full_name"))
            flat.setdefault("subject.given_name", given or "")
            flat.setdefault("subject.family_name", family or "")
        if "subject.date_of_birth" in flat:
            flat["subject.date_of_birth"] = self._date(flat["subject.date_of_birth"])
        if "occurred_at" in flat:
            flat["occurred_at"] = self._datetime(flat["occurred_at"])
        flat.setdefault("source_system", self.source_system or "")
        if not flat.get("event_id"):
            flat["event_id"] = derived_event_id(agency, flat, self._identity(row))
        event: dict[str, Any] = {"agency": agency.value}
        for path, text in flat.items():
            if text == "":
                continue
            node: dict[str, Any] = event
            *parents, leaf = path.split(".")
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = text
        event.setdefault("subject", {})
        return event

    def _identity(self, row: Mapping[str, str | None]) -> dict[str, str] | None:
        if not self.identity_columns:
            return None
        return {column: (row.get(column) or "").strip() for column in self.identity_columns}

    def _date(self, text: str) -> str:
        """ISO when a format fits; otherwise as written, since a messy date of birth still
        carries evidence and the resolver reads many forms."""
        for pattern in self.date_formats:
            try:
                return datetime.strptime(text, pattern).date().isoformat()  # noqa: DTZ007 - a date
            except ValueError:
                continue
        return text

    def _datetime(self, text: str) -> str:
        zone = ZoneInfo(self.timezone)
        for pattern in self.datetime_formats:
            try:
                naive = datetime.strptime(text, pattern)  # noqa: DTZ007 - zone added below
            except ValueError:
                continue
            return naive.replace(tzinfo=zone).isoformat()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise RowError(
                "occurred_at", "not a date and time in the mapping's datetime_formats"
            ) from None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).isoformat()


def split_full_name(text: str) -> tuple[str | None, str | None]:
    """ "SMITH, John Paul" (family first, as many case systems print it) or "John Smith"."""
    text = " ".join(text.split())
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip() or None, family.strip() or None
    words = text.split(" ")
    if len(words) == 1:
        return None, words[0]
    return " ".join(words[:-1]), words[-1]


def derived_event_id(
    agency: Agency, flat: Mapping[str, str], identity: Mapping[str, str] | None = None
) -> str:
    """The same record always gets the same id, so a re-sent extract creates no duplicates:
    a hash of the agency, the system and either the identity columns the mapping names or
    every mapped value."""
    basis = identity if identity is not None else flat
    text = "\x1f".join(
        [agency.value, flat.get("source_system", "")]
        + [f"{key}={basis[key]}" for key in sorted(basis) if key != "event_id"]
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return f"{agency.value.lower()}-{digest}"


def _strings(data: Any, name: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise MappingError(f"{name} must map event fields to columns")
    return {str(k): str(v) for k, v in data.items() if v is not None}
