"""A person as one record describes them, normalised once and compared many times."""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern

from mast_core.events import InteractionEvent, parse_event
from mast_core.normalise.addresses import normalise_address
from mast_core.normalise.dates import BirthDate, parse_birth_date
from mast_core.normalise.identifiers import normalise_nhs_number
from mast_core.normalise.names import name_groups, normalise_person_name
from mast_core.normalise.postcodes import Postcode, normalise_postcode


@dataclass(frozen=True, slots=True)
class Profile:
    given: str | None
    given_groups: frozenset[int]
    middle: str | None
    family: str | None
    family_parts: tuple[str, ...]
    dob: BirthDate | None
    gender: str
    """F, M, X, or U for unknown."""
    address_id: str | None
    postcode: str | None
    """A valid UK postcode; ``sector`` and ``outward`` are its parts."""
    sector: str | None
    outward: str | None
    postcode_token: str | None
    """The postcode as written, cleaned, valid or not (a foreign or malformed postcode still
    agrees with itself)."""
    house: str | None
    """Flat and house number ("2/14", "/14"), or the house name: the dwelling on its street."""
    street: str | None
    """The street with its words run together, so split and joined words ("kings mill st",
    "kingsmill st") compare equal."""
    town: str | None
    nhs: str | None
    source_system: str | None
    """Agency and system of the partner's own reference, when it sent one."""
    source_ref: str | None
    """The partner's own person or case reference."""
    minor: bool = True
    """Under 18 when the record was made (or not known to be an adult): twins share a home
    as children, so the twin check holds in full for them."""

    @property
    def source_key(self) -> str | None:
        return f"{self.source_system}|{self.source_ref}" if self.source_system else None

    def key(self) -> tuple[object, ...]:
        """Identical keys mean identical evidence: such a record needs no scoring."""
        return (
            self.given,
            self.middle,
            self.family,
            self.dob.digits if self.dob else None,
            self.gender,
            self.address_id,
            self.postcode,
            # the written address matters only without an address id (one with an id
            # compares as "same address" to every record of that dwelling)
            None if self.address_id else (self.postcode_token, self.house, self.street, self.town),
            self.nhs,
        )

    @property
    def has_residence(self) -> bool:
        """Says anything at all about where the person lives."""
        return bool(self.address_id or self.postcode_token or self.street or self.town)

    @property
    def is_empty(self) -> bool:
        """Nothing to link on: no name at all and no strong identifier."""
        return not (self.given or self.family or self.nhs)


def build_profile(
    event: InteractionEvent, address_id: str | None, postcode: Postcode | None
) -> Profile:
    subject = event.subject
    name = normalise_person_name(subject.given_name, subject.family_name)
    valid_postcode = postcode if postcode is not None and postcode.valid else None
    written = subject.address
    address = (
        normalise_address(written.line1, written.line2, written.town, written.postcode)
        if written is not None
        else None
    )
    dob = parse_birth_date(subject.date_of_birth)
    house = None
    if address is not None and (address.number or address.premise):
        house = _shared(f"{address.flat or ''}/{address.number or address.premise}")
    system = _shared(f"{event.agency.value}|{event.source_system or ''}")
    return Profile(
        given=_shared(name.given),
        given_groups=name_groups(name.given),
        middle=name.middle,
        family=_shared(name.family),
        family_parts=name.family_parts,
        dob=dob,
        gender=subject.gender.value,
        address_id=address_id,
        postcode=valid_postcode.text if valid_postcode else None,
        sector=_shared(valid_postcode.sector) if valid_postcode else None,
        outward=_shared(valid_postcode.outward) if valid_postcode else None,
        postcode_token=postcode.text if postcode is not None else None,
        house=house,
        street=_shared(address.street.replace(" ", "")) if address and address.street else None,
        town=_shared(address.town) if address else None,
        nhs=normalise_nhs_number(subject.nhs_number),
        source_system=system if event.source_record_id else None,
        source_ref=event.source_record_id,
        minor=_minor(dob, event),
    )


def _shared(text: str | None) -> str | None:
    """One copy of a text many records carry (a name, a house number, a street, a town, a
    partner system): a resolver holds a million records, and a copy each would cost
    hundreds of megabytes."""
    return intern(text) if text else None


ADULT_AGE = 18


def _minor(dob: BirthDate | None, event: InteractionEvent) -> bool:
    """Under 18 at the record's date; True when either is unknown, which keeps the twin
    check (the cautious side)."""
    if dob is None or event.occurred_at is None:
        return True
    return event.occurred_at.year - dob.year < ADULT_AGE


def query_profile(
    given_name: str | None,
    family_name: str | None,
    date_of_birth: str | None,
    postcode: str | None,
) -> Profile:
    """What a person search looks for, normalised exactly as a record is, so that the keys
    it looks up and the comparisons it scores are the resolver's own. Raises InvalidEvent
    (naming the field) for input that could not describe a person."""
    event = parse_event(
        {
            "event_id": "search",
            "agency": "OTHER",
            "subject": {
                "given_name": given_name,
                "family_name": family_name,
                "date_of_birth": date_of_birth,
                "address": {"postcode": postcode} if postcode else None,
            },
        }
    )
    return build_profile(event, None, normalise_postcode(postcode))
