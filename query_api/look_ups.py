"""The audited actions that look someone up, named once: the routes record them, and the
notifications and the unusual-access review read them back from the audit log, so a new
page that shows a person (as the as-at pages did) is counted everywhere by being added here.
"""

from __future__ import annotations

from mast_core.access_review.findings import LookUps

SEARCH_PERSONS = "search_persons"
SEARCH_ADDRESSES = "search_addresses"
VIEW_PERSON = "view_person"
VIEW_PERSON_AS_AT = "view_person_as_at"
VIEW_ADDRESS = "view_address"
VIEW_ADDRESS_AS_AT = "view_address_as_at"
VIEW_HISTORY = "view_identity_history"

PERSON_VIEWS: tuple[str, ...] = (VIEW_PERSON, VIEW_PERSON_AS_AT)
"""A person's page, now or as it stood: every id of the person in ``person_ids``."""
ADDRESS_VIEWS: tuple[str, ...] = (VIEW_ADDRESS, VIEW_ADDRESS_AS_AT)
"""An address's page: the people linked to it in ``person_ids``."""
SEARCHES: tuple[str, ...] = (SEARCH_PERSONS, SEARCH_ADDRESSES)

LOOK_UPS = LookUps(
    searches=frozenset(SEARCHES),
    person_views=frozenset(PERSON_VIEWS),
    others=frozenset((*ADDRESS_VIEWS, VIEW_HISTORY)),
)
"""What the unusual-access rules read."""
SHOWN_PERSON: tuple[str, ...] = (VIEW_PERSON, VIEW_HISTORY, VIEW_ADDRESS, SEARCH_PERSONS)
"""Audit actions whose ``shown`` entries list the people the user saw as things stood then
(the person page and its history: the person's current id and every id merged into it; an
address page: the current ids of the people linked to it; a person search: the current ids
of the results). A page viewed as it stood at an earlier time is not one: what it showed is
what an earlier view showed, and that view's viewer is the one told of a correction."""
