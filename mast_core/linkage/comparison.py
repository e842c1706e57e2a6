"""Agreement levels: how closely two profiles agree on each field.

Each function returns a level name; ``Parameters`` turns (field, level) into a match
weight. Levels run from strongest agreement to disagreement, with ``missing`` when either
side does not say (missing counts for nothing either way).
"""

from __future__ import annotations

from rapidfuzz.distance import OSA, JaroWinkler

from mast_core.linkage.profile import Profile
from mast_core.normalise.names import phonetic

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
        "same_dwelling",
        "same_postcode",
        "same_street",
        "same_sector",
        "same_town",
        "same_house_elsewhere",
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
    if a.startswith(b) or b.startswith(a):
        return "initial"  # cut short ("bri" for "bridget"): as much as an initial says
    if a_profile.given_groups & b_profile.given_groups:
        return "nickname"
    if a == b_profile.middle or b == a_profile.middle:
        return "nickname"  # known by a middle name
    close = _close(a, b, 0.9)
    if close is None and _sounds_alike(a, b):
        close = "fuzzy"  # one name transliterated two ways: Mohammed, Muhammad
    return close or "disagree"


GIVEN_LEVELS_KEPT = 1 << 17
"""Given-name levels remembered (``_given_level``): about 16 MiB when full."""
_given_levels: dict[tuple[object, ...], str] = {}


def _given_level(a: Profile, b: Profile) -> str:
    """``compare_given`` for two records' given names, remembered: the same two names meet
    in pair after pair (a household's, a common name's), and telling two different names
    apart costs an edit distance, a Jaro-Winkler and a sound. The key holds everything the
    level depends on; the memory is emptied when full."""
    x, y = a.given, b.given
    if not x or not y:
        return "missing"
    if x == y:
        return "exact"
    key = (x, y, a.middle, b.middle, a.given_groups, b.given_groups)
    level = _given_levels.get(key)
    if level is None:
        if len(_given_levels) >= GIVEN_LEVELS_KEPT:
            _given_levels.clear()
        level = _given_levels[key] = compare_given(x, y, a, b)
    return level


def _sounds_alike(a: str, b: str) -> bool:
    """Transliterations and spellings of one name (Mohammed / Muhammad, Yusuf / Yousef):
    the same sound, the same first letter and mostly the same letters. Short names are left
    out: "Jon" and "Jen" sound alike to Metaphone and are two people."""
    return (
        len(a) >= 4
        and len(b) >= 4
        and a[0] == b[0]
        and phonetic(a) == phonetic(b)
        and JaroWinkler.similarity(a, b) >= 0.8
    )


def compare_family(
    a: str | None, b: str | None, a_parts: tuple[str, ...], b_parts: tuple[str, ...]
) -> str:
    if not a or not b:
        return "missing"
    if a == b:
        return "exact"
    if (len(a_parts) > 1 or len(b_parts) > 1) and set(a_parts) & set(b_parts):
        return "part"
    if (" " in a or " " in b) and a.replace(" ", "") == b.replace(" ", ""):
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


STREET_SIMILARITY = 0.88
TOWN_SIMILARITY = 0.9


def _similar(a: str | None, b: str | None, threshold: float) -> bool:
    return bool(a and b and (a == b or JaroWinkler.similarity(a, b) >= threshold))


def compare_residence(a: Profile, b: Profile) -> str:
    """How close two records put the person, graded from the addresses themselves rather
    than only their ids: a street typo or an unreadable postcode gives two address ids for
    one dwelling, which must not count as "lives elsewhere".

    same address id (or UPRN) · same house on a similar street in the same postcode or town
    · same postcode (as written, any country) · same street in the same town · same UK
    postcode sector · same town (or UK outward code) · different · missing.
    """
    if a.address_id is not None and a.address_id == b.address_id:
        return "same_address"
    if not a.has_residence or not b.has_residence:
        return "missing"
    same_postcode = a.postcode_token is not None and a.postcode_token == b.postcode_token
    same_town = _similar(a.town, b.town, TOWN_SIMILARITY)
    if not (same_postcode or same_town):  # the hot path: people who live elsewhere
        if a.sector is not None and a.sector == b.sector:
            return "same_sector"
        if a.outward is not None and a.outward == b.outward:
            return "same_town"
        if (
            a.house is not None
            and a.house == b.house
            and _similar(a.street, b.street, STREET_SIMILARITY)
        ):
            # the house and street, with the town and postcode both written otherwise (or a
            # move between two streets of one name): how often strangers share it is learnt
            return "same_house_elsewhere"
        return "different"
    same_street = _similar(a.street, b.street, STREET_SIMILARITY)
    if a.house == b.house and (
        (same_street and (a.house is not None or same_postcode))
        or (a.house is not None and same_postcode and not (a.street and b.street))
    ):
        # the house on a similar street; or, neither record giving a number, the same
        # street in the same postcode: as near as either record says
        return "same_dwelling"
    if same_postcode:
        return "same_postcode"
    if same_street:
        return "same_street"
    if a.sector is not None and a.sector == b.sector:
        return "same_sector"
    return "same_town"


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


def _run_together_forms(
    given: str | None, middle: str | None, family: str | None
) -> tuple[str, str]:
    """The whole name with its spaces dropped, given name first and family name first.
    Joined before the spaces go (the same string as dropping each part's spaces), with no
    generator: most pairs disagree on both names and come here."""
    forward = f"{given or ''}{middle or ''}{family or ''}".replace(" ", "")
    backward = f"{family or ''}{given or ''}{middle or ''}".replace(" ", "")
    return forward, backward


def _whole_name_reversed(a: Profile, b: Profile) -> str | None:
    """The whole name written family first on one record and given first on the other,
    where the words fell differently between the fields ("Chelsea | Van Groesen" against
    "Van Groesen | Chelsea" read as given "van", middle "groesen"; "Nguyen | Eliza" against
    "Nguy En | Elixa"): exact, typo (one edit), or None."""
    if not (a.given and a.family and b.given and b.family):
        return None
    a_forward, a_backward = _run_together_forms(a.given, a.middle, a.family)
    b_forward, b_backward = _run_together_forms(b.given, b.middle, b.family)
    for forward, backward in ((a_forward, b_backward), (b_forward, a_backward)):
        if forward == backward:
            return "exact"
        if len(forward) >= 8 and OSA.distance(forward, backward, score_cutoff=1) <= 1:
            return "typo"
    return None


def compare(a: Profile, b: Profile) -> tuple[tuple[str, ...], bool]:
    """Levels for every field in the order of ``FIELDS``, and whether the names matched only
    with given and family swapped (Smith John against John Smith)."""
    given = _given_level(a, b)
    family = compare_family(a.family, b.family, a.family_parts, b.family_parts)
    swapped = False
    if given == "disagree" and family == "disagree":
        swapped_given = compare_given(a.given, b.family, a, b)
        swapped_family = compare_family(a.family, b.given, a.family_parts, (b.given or "",))
        if swapped_given in {"exact", "typo"} and swapped_family in {"exact", "typo"}:
            given, family, swapped = swapped_given, swapped_family, True
        else:
            whole = _whole_name_reversed(a, b)
            if whole is not None:
                given, family, swapped = whole, whole, True
            elif swapped_family in {"exact", "typo"} or (
                compare_family(a.given, b.family, (a.given or "",), b.family_parts)
                in {"exact", "typo"}
            ):
                # one name written in the other field, the other replaced ("Jordan Lavis",
                # "Lavis Henry"): the names agree as far as one family name does
                family, swapped = "typo", True
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
