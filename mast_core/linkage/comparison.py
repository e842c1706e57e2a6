"""Agreement levels: how closely two profiles agree on each field.

Each function returns a level name; ``Parameters`` turns (field, level) into a match
weight. Levels run from strongest agreement to disagreement, with ``missing`` when either
side does not say (missing counts for nothing either way).
"""

from __future__ import annotations

from rapidfuzz.distance import OSA, JaroWinkler

from mast_core.linkage.profile import Profile

GIVEN_NAME = "given_name"
FAMILY_NAME = "family_name"
DATE_OF_BIRTH = "date_of_birth"
GENDER = "gender"
RESIDENCE = "residence"
NHS_NUMBER = "nhs_number"
PARTNER_RECORD = "partner_record"

LEVELS: dict[str, tuple[str, ...]] = {
    GIVEN_NAME: ("exact", "nickname", "typo", "fuzzy", "initial", "disagree", "missing"),
    FAMILY_NAME: ("exact", "part", "typo", "fuzzy", "disagree", "missing"),
    DATE_OF_BIRTH: (
        "exact",
        "swapped",
        "typo",
        "month_day",
        "year_month",
        "disagree",
        "missing",
    ),
    GENDER: ("agree", "disagree", "missing"),
    RESIDENCE: (
        "same_address",
        "same_postcode",
        "same_sector",
        "same_outward",
        "different",
        "missing",
    ),
    NHS_NUMBER: ("agree", "disagree", "missing"),
    PARTNER_RECORD: ("same_record", "other_record", "missing"),
}
FIELDS = tuple(LEVELS)
EXACT_TF_FIELDS = {GIVEN_NAME: "exact", FAMILY_NAME: "exact"}
"""Levels whose weight is adjusted by how common the agreed value is."""


def _close(a: str, b: str, jaro_winkler: float) -> str | None:
    if len(a) >= 4 and len(b) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return "typo"
    if JaroWinkler.similarity(a, b) >= jaro_winkler:
        return "fuzzy"
    return None


def compare_given(a: str | None, b: str | None, a_profile: Profile, b_profile: Profile) -> str:
    if not a or not b:
        return "missing"
    if a == b:
        return "exact"
    if len(a) == 1 or len(b) == 1:
        return "initial" if a[0] == b[0] else "disagree"
    if a_profile.given_groups & b_profile.given_groups:
        return "nickname"
    if a == b_profile.middle or b == a_profile.middle:
        return "nickname"  # known by a middle name
    return _close(a, b, 0.9) or "disagree"


def compare_family(
    a: str | None, b: str | None, a_parts: tuple[str, ...], b_parts: tuple[str, ...]
) -> str:
    if not a or not b:
        return "missing"
    if a == b:
        return "exact"
    if (len(a_parts) > 1 or len(b_parts) > 1) and set(a_parts) & set(b_parts):
        return "part"
    if a.replace(" ", "") == b.replace(" ", ""):
        return "exact"
    return _close(a, b, 0.92) or "disagree"


def compare_dob(a: Profile, b: Profile) -> str:
    x, y = a.dob, b.dob
    if x is None or y is None:
        return "missing"
    if x.digits == y.digits:
        return "exact"
    if x.year == y.year and x.month == y.day and x.day == y.month:
        return "swapped"
    if OSA.distance(x.digits, y.digits, score_cutoff=1) <= 1:
        return "typo"
    if x.month == y.month and x.day == y.day:
        return "month_day"
    if x.year == y.year and x.month == y.month:
        return "year_month"
    return "disagree"


def compare_gender(a: Profile, b: Profile) -> str:
    if a.gender == "U" or b.gender == "U":
        return "missing"
    return "agree" if a.gender == b.gender else "disagree"


def compare_residence(a: Profile, b: Profile) -> str:
    if a.address_id is not None and a.address_id == b.address_id:
        return "same_address"
    if a.postcode is None or b.postcode is None:
        return "missing" if a.address_id is None or b.address_id is None else "different"
    if a.postcode == b.postcode:
        return "same_postcode"
    if a.sector == b.sector:
        return "same_sector"
    if a.outward == b.outward:
        return "same_outward"
    return "different"


def compare_nhs(a: Profile, b: Profile) -> str:
    if a.nhs is None or b.nhs is None:
        return "missing"
    return "agree" if a.nhs == b.nhs else "disagree"


def compare_partner_record(a: Profile, b: Profile) -> str:
    """Two records from one partner system: the same reference, or another one (a partner
    rarely holds one person twice). Missing when the systems differ."""
    if a.source_system is None or a.source_system != b.source_system:
        return "missing"
    return "same_record" if a.source_ref == b.source_ref else "other_record"


def compare(a: Profile, b: Profile) -> tuple[tuple[str, ...], bool]:
    """Levels for every field in the order of ``FIELDS``, and whether the names matched only
    with given and family swapped (Smith John against John Smith)."""
    given = compare_given(a.given, b.given, a, b)
    family = compare_family(a.family, b.family, a.family_parts, b.family_parts)
    swapped = False
    if given == "disagree" and family == "disagree":
        swapped_given = compare_given(a.given, b.family, a, b)
        swapped_family = compare_family(a.family, b.given, a.family_parts, (b.given or "",))
        if swapped_given in {"exact", "typo"} and swapped_family in {"exact", "typo"}:
            given, family, swapped = swapped_given, swapped_family, True
    levels = (
        given,
        family,
        compare_dob(a, b),
        compare_gender(a, b),
        compare_residence(a, b),
        compare_nhs(a, b),
        compare_partner_record(a, b),
    )
    return levels, swapped
