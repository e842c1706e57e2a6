"""Candidate generation: only records that share a blocking key are compared.

Several keys, so that an error in one field does not hide a match: sound of the family name
with birth year and initial, date of birth with initials, date of birth with day and month
read either way round and the family name's sound, sound of the given name with birthday
and decade, date of birth with postcode, postcode with the sound of the family name or of
the given name, the house on its postcode, date of birth with the house number or the
town, either name's sound with the street's, the address, the NHS number and the partner's
own record reference.
Postcodes are taken as written (a foreign or malformed one still agrees with itself). A
block keeps its most recent entries up to the cap, so that a common name cannot make the
cost explode; capped blocks are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter

from mast_core.linkage.profile import Profile
from mast_core.normalise.names import phonetic


def blocking_keys(profile: Profile) -> Iterator[str]:
    """Each key combines two or more fields, so that blocks stay small as records grow and
    the cost per record stays flat."""
    yield from _key_list(profile, name_key=False)


def _key_list(profile: Profile, *, name_key: bool) -> list[str]:
    """``blocking_keys`` as a list, and the name-only key after them when ``name_key``,
    with each name's sound and the date's digits worked out once: every record's keys are
    computed, a repeat's too, so this is on the hot path."""
    given, family, dob = profile.given, profile.family, profile.dob
    initial = given[0] if given else ""
    family_sound = phonetic(family) if family else ""
    given_sound = phonetic(given) if given else ""
    digits = dob.digits if dob else ""
    keys: list[str] = []
    if dob:
        if family:
            keys.append(_surname_year_of_sound(family_sound, dob.year) + initial)
        # initials sorted, so that swapped given and family names share the key
        initials = "".join(sorted(initial + (family[0] if family else "")))
        keys.append(f"d:{digits}:{initials}")
        if family:
            # day and month written the other way round, and initials lost to a typo
            low, high = sorted((dob.month, dob.day))
            keys.append(f"w:{dob.year}{low:02d}{high:02d}:{family_sound}")
        if given:
            # a changed family name: given name and birthday, within the decade of birth
            keys.append(f"g:{given_sound}:{dob.month:02d}{dob.day:02d}:{dob.year // 10}")
    postcode = profile.postcode_token
    if postcode:
        if dob:
            keys.append(f"b:{digits}:{postcode}")
        if family:
            keys.append(f"p:{postcode}:{family_sound}")
        if given:
            # a changed or misspelt family name: the given name's sound in the postcode
            keys.append(f"q:{postcode}:{given_sound}")
        if profile.house:
            # the dwelling, whatever its street was written as: family names change, and a
            # typo in the street gives a second address id
            keys.append(f"h:{postcode}:{profile.house}")
    if dob and profile.house:
        # names and postcode both written wrongly: the birth date and the house number
        keys.append(f"y:{digits}:{profile.house}")
    if dob and profile.town:
        # the birth date in the town: both names replaced or misspelt, the postcode wrong
        keys.append(f"v:{digits}:{profile.town}")
    if profile.street:
        # a postcode and a birth date both wrong or missing, the house number lost: a name
        # on the street, whatever town or postcode it was written with (the street's sound
        # survives most typos and split or joined words)
        street_sound = phonetic(profile.street)
        if family:
            keys.append(f"t:{street_sound}:{family_sound}")
        if given:
            keys.append(f"u:{street_sound}:{given_sound}")
    if profile.address_id and (family or given):
        # everyone recorded at the address (a household is a few people; the cap bounds a
        # hostel or a care home)
        keys.append(f"a:{profile.address_id}")
    if profile.nhs:
        keys.append(f"n:{profile.nhs}")
    source_key = profile.source_key
    if source_key:
        keys.append(f"r:{source_key}")
    if name_key and given and family:
        keys.append(_name_only_key_of_sounds(family_sound, given_sound))
    return keys


WIDE_KEYS = frozenset("wbhaqytuv")
"""First letters of the keys looked up only when the others find no match: day and month
either way, birth date with postcode, the given name in the postcode, birth date with the
house number, the house on its postcode, everyone at the address, the birth date in the
town, and the family or the given name on the street. They rescue records with errors in
several fields, and most records, matched by the narrower keys, never pay for them."""


NAME_ONLY = "f"
"""First letter of the name-only key, the one key filed under but not always looked up."""


def is_wide(key: str) -> bool:
    return key[0] in WIDE_KEYS


def _surname_year(family: str, year: int) -> str:
    return _surname_year_of_sound(phonetic(family), year)


def _surname_year_of_sound(family_sound: str, year: int) -> str:
    return f"s:{family_sound}:{year}:"


def filed_keys(profile: Profile) -> list[str]:
    """Every key a record is filed under: its blocking keys and its name-only key. The
    resolver indexes a record under these, and the sink stores them as the record's search
    keys, so that a search finds what the resolver would."""
    return _key_list(profile, name_key=True)


def lookup_keys(profile: Profile, filed: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The keys a record or a search looks up, narrow and wide: its blocking keys, and the
    name-only key only when it has no date of birth (with one, the date's keys are more
    selective and a common name would bring hundreds of candidates). ``filed``, the
    record's ``filed_keys`` when the caller has them already, saves computing them again."""
    narrow: list[str] = []
    wide: list[str] = []
    if filed is not None:
        for key in filed:
            if key[0] in WIDE_KEYS:
                wide.append(key)
            elif key[0] != NAME_ONLY or profile.dob is None:
                narrow.append(key)
        return narrow, wide
    for key in blocking_keys(profile):
        (wide if is_wide(key) else narrow).append(key)
    name_key = name_only_key(profile)
    if name_key and profile.dob is None:
        narrow.append(name_key)
    return narrow, wide


def surname_year_prefix(profile: Profile) -> str | None:
    """For a search by family name and date of birth without a given name ("Mrs Wren, born
    4/3/1950"): the prefix that the surname-and-year key has under every initial."""
    if profile.family and profile.dob and not profile.given:
        return _surname_year(profile.family, profile.dob.year)
    return None


def name_only_key(profile: Profile) -> str | None:
    """Indexed for every profile, but looked up only for records without a date of birth.
    The two names' sounds in order, so given and family written the other way round share
    it."""
    if profile.given and profile.family:
        return _name_only_key_of_sounds(phonetic(profile.family), phonetic(profile.given))
    return None


def _name_only_key_of_sounds(family_sound: str, given_sound: str) -> str:
    return NAME_ONLY + ":" + ":".join(sorted((family_sound, given_sound)))


PER_IDENTITY = 2
"""Records of one identity kept per block: the most recent two. More would only be compared
again with the same outcome, and a person seen often would fill the block."""


class BlockIndex:
    """Blocking key → the records filed under it, oldest first (records only ever join at
    the end). Most keys hold one record and many never get a second (a birth date with a
    house number, a partner's reference), so a block of one is kept as the bare record
    number: a list each would cost a resolver of a million records over 100 MiB."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.blocks: dict[str, list[int] | int] = {}
        self.capped: set[str] = set()

    def add(self, key: str, item: int, owner: list[int]) -> None:
        """Add profile ``item``; ``owner`` maps profiles to their identity."""
        block = self.blocks.get(key)
        if block is None:
            self.blocks[key] = item
            return
        if isinstance(block, int):
            self.blocks[key] = [block, item]
            return
        if len(block) >= PER_IDENTITY:
            identity = owner[item]
            owners = itemgetter(*block)(owner)  # a tuple: the block holds two or more
            if owners.count(identity) >= PER_IDENTITY:  # its oldest entry here goes
                del block[owners.index(identity)]
        block.append(item)
        if len(block) > self.cap:
            # the oldest entry is never compared again: drop it, keeping memory bounded too
            self.capped.add(key)
            del block[0]

    def candidates(self, key: str) -> Sequence[int]:
        block = self.blocks.get(key, ())
        return (block,) if isinstance(block, int) else block

    def gather(self, keys: Iterable[str]) -> set[int]:
        """Every record filed under any of ``keys`` (what a record is compared with)."""
        found: set[int] = set()
        blocks = self.blocks
        for key in keys:
            block = blocks.get(key)
            if block is None:
                continue
            if isinstance(block, int):
                found.add(block)
            else:
                found.update(block)
        return found

    def remove(self, key: str, item: int) -> None:
        """Take ``item`` out of the block (a retracted record)."""
        block = self.blocks.get(key)
        if block == item or block == [item]:
            del self.blocks[key]
        elif isinstance(block, list) and item in block:
            block.remove(item)
