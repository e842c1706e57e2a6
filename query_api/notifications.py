"""Notifications: what a signed-in user should know because something they looked at has
changed since (corrections issue, item 4: "viewers are told").

Nothing here is a pipeline stage, and notifications are not stored: each is derived, when
asked for, from what is (a split in ``identity_splits``, the merge it undid in
``identity_merges``, the user's own entries in ``audit_log``), with an id that is the same
every time (``notification_id``), so that ``notifications_seen`` (migration 0017) need only
remember which ids a user has seen. Each kind of notification is one *source*: a function
from the reader and the user to that kind's notifications (``SOURCES``). Every kind has the
same shape (``Notice``): what happened (``message``, plain English with ids and dates only,
never a name: the pages show those once opened with a purpose), when, the pages to open
(``links``), and the user's view that made it theirs, where there is one.

``corrected_person``: a merge the user could have seen was undone. For each split, the
person was shown merged from the merge's ``merged_at`` to the split's ``split_at``; in that
window it was known by the surviving and the restored id, by every id merged into either of
them, and by every id the survivor was itself merged into (each from the time of that
merge, and only while that merge stood: one undone earlier does not count). Those are
followed through ``identity_merges``, which keeps each merge's time: ``person_aliases``
says only where an id belongs now, which would also count ids that joined the person after
the split. A user is told when an audit entry of theirs with outcome ``shown`` (a person,
history or address page, or a person search's results) names one of those ids while it
was one. The links are the two people as they are now (``person_aliases``: the current id
of the survivor and of the restored id).

``viewed_by_other_agency``: someone of another organisation opened the page of a person the
user's organisation holds an open case for (``query_api.cases``), as CP-IS tells a local
authority. Each view is one notification to the practitioners and managers of the case
holder: who, which organisation, the declared purpose and when, never what else they looked
at (nor the purpose's free-text detail). Views with a purpose in
``MAST_LEAD_AGENCY_QUIET_PURPOSES`` (a MASH triage, by default) notify no one, nor do views
by the case holder's own organisation; the open case is judged as it is now, over the last
``MAST_LEAD_AGENCY_NOTICE_DAYS`` days of views.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from clickhouse_connect.driver.client import Client

from query_api.break_glass import BreakGlassReviews
from query_api.cases import case_spans
from query_api.look_ups import SHOWN_PERSON
from query_api.other_views import views_by_others
from query_api.reads import Reader
from query_api.security import Principal
from sinks.clickhouse.tables import NOTIFICATIONS_SEEN, NotificationSeenRow

if TYPE_CHECKING:
    from query_api.context import ApiContext

Kind = Literal["corrected_person", "viewed_by_other_agency", "break_glass"]
"""The kinds of notification. A new kind is a value here and a source in ``SOURCES``."""
CORRECTED_PERSON: Kind = "corrected_person"
VIEWED_BY_OTHER_AGENCY: Kind = "viewed_by_other_agency"
BREAK_GLASS: Kind = "break_glass"

MAX_DEPTH = 12
"""How many merges away from a split's two ids are followed (a chain of merges is short)."""


@dataclass(frozen=True)
class Link:
    kind: Literal["person", "break_glass_review"]
    id: str
    label: str


@dataclass(frozen=True)
class Notice:
    notification_id: str
    kind: Kind
    at: datetime
    message: str
    links: tuple[Link, ...]
    viewed_at: datetime | None
    seen: bool = False


def notification_id(kind: Kind, key: str, username: str) -> str:
    """The same id every time for the same kind, subject (a split id) and user, so that
    seeing it once is remembered; not guessable from another user's."""
    digest = hashlib.sha256(f"{kind}\x1f{key}\x1f{username}".encode()).hexdigest()
    return "N" + digest[:32]


def day_text(at: datetime) -> str:
    """``3 April 2026``: the day in UTC, as every time MAST sends."""
    at = at.astimezone(UTC) if at.tzinfo is not None else at
    return f"{at.day} {at:%B %Y}"


# corrected_person ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Split:
    split_id: str
    merge_id: str
    surviving: str
    restored: str
    merged_at: datetime
    split_at: datetime


@dataclass(frozen=True)
class _Merge:
    merge_id: str
    surviving: str
    retired: str
    merged_at: datetime


Window = tuple[datetime, datetime]


def _split_windows(
    split: _Split, merges_of: dict[str, list[_Merge]], undone_at: dict[str, datetime]
) -> dict[str, Window]:
    """Each id the merged person was known by while it was shown merged, with when: from
    the later of the merge and the time the id joined, until the split (or until the merge
    that brought the id was undone, if that came first)."""
    known: dict[str, Window] = {
        split.surviving: (split.merged_at, split.split_at),
        split.restored: (split.merged_at, split.split_at),
    }
    waiting = [split.surviving, split.restored]
    while waiting:
        here = waiting.pop()
        since, until = known[here]
        for merge in merges_of.get(here, ()):
            if merge.merge_id == split.merge_id:
                continue
            other = merge.retired if merge.surviving == here else merge.surviving
            start = max(since, merge.merged_at)
            end = min(until, undone_at.get(merge.merge_id, until))
            if start > end:
                continue  # made after the split, or undone before it joined
            before = known.get(other)
            if before is None or start < before[0]:
                known[other] = (start, end)
                waiting.append(other)
    return known


def corrected_people(reader: Notifications, who: Principal) -> list[Notice]:
    """A notice for each split of a merge the user could have seen merged (module doc)."""
    splits = reader.splits()
    if not splits:
        return []
    undone_at: dict[str, datetime] = {}
    for split in splits:
        undone_at[split.merge_id] = min(
            undone_at.get(split.merge_id, split.split_at), split.split_at
        )
    merges_of = reader.merges_around(
        {i for s in splits for i in (s.surviving, s.restored)},
        until=max(s.split_at for s in splits),
    )
    windows = [_split_windows(s, merges_of, undone_at) for s in splits]
    watched: dict[str, list[tuple[int, Window]]] = {}
    for index, known in enumerate(windows):
        for person_id, window in known.items():
            watched.setdefault(person_id, []).append((index, window))
    latest: dict[int, datetime] = {}
    """The user's latest view of each split's merged person, by the split's index."""
    for at, person_ids in reader.views(
        who.username,
        sorted(watched),
        since=min(s.merged_at for s in splits),
        until=max(s.split_at for s in splits),
    ):
        for person_id in person_ids:
            for index, (since, until) in watched.get(person_id, ()):
                if since <= at <= until and (index not in latest or at > latest[index]):
                    latest[index] = at
    if not latest:
        return []
    told = [splits[index] for index in latest]
    current = reader.current_persons([i for s in told for i in (s.surviving, s.restored)])
    notices = []
    for index, viewed_at in latest.items():
        split = splits[index]
        kept = current.get(split.surviving, split.surviving)
        restored = current.get(split.restored, split.restored)
        notices.append(
            Notice(
                notification_id=notification_id(CORRECTED_PERSON, split.split_id, who.username),
                kind=CORRECTED_PERSON,
                at=split.split_at,
                message=_corrected_message(viewed_at, split.split_at, kept, restored),
                links=(
                    Link("person", kept, "The person the records stayed with"),
                    Link("person", restored, "The person whose records were split off"),
                )
                if restored != kept
                else (Link("person", kept, "The person as they are now"),),
                viewed_at=viewed_at,
            )
        )
    return notices


def _corrected_message(viewed_at: datetime, split_at: datetime, kept: str, restored: str) -> str:
    """What happened, in plain English: ids and dates only (the pages show the names, once
    opened with a purpose)."""
    viewed = f"A person you viewed on {day_text(viewed_at)} was two people."
    if restored == kept:  # linked again since (a later merge of the two current ids)
        return (
            f"{viewed} Their records were put apart on {day_text(split_at)} and have been "
            f"linked again since, as {kept}. Open it to see what it holds now."
        )
    return (
        f"{viewed} The records are now apart: since {day_text(split_at)}, {kept} and "
        f"{restored} are separate people. Open each to see what it holds now."
    )


# viewed_by_other_agency ------------------------------------------------------------------------
CASE_HOLDER_ROLES = ("practitioner", "manager")
"""Who of a case-holding organisation is told that another organisation looked."""
VIEWS_READ = 5000
"""The latest views by other organisations read for one list: each is checked against the
cases of the people it names."""


def views_by_other_agencies(reader: Notifications, who: Principal) -> list[Notice]:
    """A notice for each view, by another organisation, of a person for whom the user's
    organisation held an open case at the time of the view (module doc)."""
    if who.role not in CASE_HOLDER_ROLES:
        return []
    views = views_by_others(
        reader,
        who.organisation,
        datetime.now(UTC) - timedelta(days=reader.lead_agency_days),
        VIEWS_READ,
        quiet=reader.quiet_purposes,
    )
    if not views:
        return []
    cases = case_spans(reader, sorted({v.person_id for v in views}))
    current = reader.current_persons(sorted(cases))
    notices = []
    for view in views:
        if not any(
            span.agency == who.organisation and span.open_at(view.at)
            for span in cases.get(view.person_id, ())
        ):
            continue
        person = current.get(view.person_id, view.person_id)
        notices.append(
            Notice(
                notification_id=notification_id(
                    VIEWED_BY_OTHER_AGENCY, view.audit_id, who.username
                ),
                kind=VIEWED_BY_OTHER_AGENCY,
                at=view.at,
                message=(
                    f"{view.username} ({view.role}, {view.organisation}) opened the page of "
                    f"{person}, a person your organisation had an open case for, on "
                    f"{day_text(view.at)} at {view.at.astimezone(UTC):%H:%M} UTC, for the "
                    f"purpose {view.purpose or 'not stated'}."
                ),
                links=(Link("person", person, "The person"),),
                viewed_at=None,
            )
        )
    return notices


def break_glass_to_review(reader: Notifications, who: Principal) -> list[Notice]:
    """A notice for each break-glass the user reviews (a manager of an organisation that
    holds the shielded record, or the data protection officer) and nobody has reviewed
    yet: the review queue, as a notification, the moment the glass is broken."""
    grants = BreakGlassReviews(reader.client, reader.lock).grants(who, reader.break_glass_days)
    return [
        Notice(
            notification_id=notification_id(BREAK_GLASS, grant["grant_id"], who.username),
            kind=BREAK_GLASS,
            at=grant["granted_at"],
            message=(
                f"{grant['username']} ({grant['role']}, {grant['organisation']}) broke the "
                f"glass into a shielded {grant['subject_kind'].lower()} on "
                f"{day_text(grant['granted_at'])} at "
                f"{grant['granted_at'].astimezone(UTC):%H:%M} UTC, for the purpose "
                f"{grant['purpose'] or 'not stated'}: review it."
            ),
            links=(Link("break_glass_review", grant["grant_id"], "The break-glass review"),),
            viewed_at=None,
        )
        for grant in grants
        if grant["outcome"] is None
    ]


Source = Callable[["Notifications", Principal], list[Notice]]
SOURCES: tuple[Source, ...] = (corrected_people, views_by_other_agencies, break_glass_to_review)
"""Every kind's source, each asked in turn."""


# Reading and marking ---------------------------------------------------------------------------
class Notifications(Reader):
    def __init__(
        self,
        client: Client,
        lock: threading.Lock | None = None,
        *,
        quiet_purposes: Iterable[str],
        lead_agency_days: int,
        break_glass_days: int = 90,
    ) -> None:
        super().__init__(client, lock)
        self.quiet_purposes = tuple(quiet_purposes)
        self.lead_agency_days = lead_agency_days
        self.break_glass_days = break_glass_days

    @classmethod
    def of(cls, ctx: ApiContext) -> Notifications:
        """The notifications as the context's settings configure them."""
        settings = ctx.settings
        return cls(
            ctx.client,
            ctx.lock,
            quiet_purposes=settings.lead_agency_quiet_purposes,
            lead_agency_days=settings.lead_agency_notice_days,
            break_glass_days=settings.break_glass_notice_days,
        )

    def for_user(self, who: Principal) -> list[Notice]:
        """Every notification of every kind for ``who``, newest first, each marked ``seen``
        if they have marked it."""
        notices = [notice for source in SOURCES for notice in source(self, who)]
        seen = self.seen_ids(who.username) if notices else set()
        return sorted(
            (replace(n, seen=n.notification_id in seen) for n in notices),
            key=lambda n: (n.at, n.notification_id),
            reverse=True,
        )

    def seen_ids(self, username: str) -> set[str]:
        rows = self.rows(
            "SELECT DISTINCT notification_id FROM notifications_seen "
            "WHERE username = {user:String}",
            {"user": username},
        )
        return {str(row[0]) for row in rows}

    def mark_seen(self, username: str, notification_ids: Iterable[str]) -> None:
        now = datetime.now(UTC)
        rows = [NotificationSeenRow(username, i, now) for i in notification_ids]
        if rows:
            with self.lock:
                self.client.insert(
                    NOTIFICATIONS_SEEN, rows, column_names=NotificationSeenRow._fields
                )

    # What the sources read ---------------------------------------------------------------------
    def splits(self) -> list[_Split]:
        """Every split, with the time its merge was made (read by merge id, the merges'
        sort key). A split whose merge is not held is left out: nothing says since when
        the person was shown merged. A detach (records linked to a person directly, taken
        off it: no merge) counts from when the earliest of its records was linked."""
        rows = self.rows(
            "SELECT split_id, merge_id, surviving_person_id, restored_person_id, split_at, "
            "detached_agencies, detached_event_ids "
            "FROM identity_splits FINAL ORDER BY split_at, split_id",
            {},
        )
        if not rows:
            return []
        merged_at = dict(
            self.rows(
                "SELECT merge_id, min(merged_at) FROM identity_merges "
                "WHERE merge_id IN {ids:Array(String)} GROUP BY merge_id",
                {"ids": sorted({str(row[1]) for row in rows} - {""})},
            )
        )
        detached = {
            split: list(zip(agencies, events, strict=True))
            for split, merge, *_ids, _at, agencies, events in rows
            if not merge and events
        }
        if detached:  # when each detach's records were first linked: one read for all
            linked = dict(
                ((str(a), str(e)), at)
                for a, e, at in self.rows(
                    "SELECT agency, event_id, min(resolved_at) FROM resolved_interactions "
                    "WHERE (agency, event_id) IN {keys:Array(Tuple(String, String))} "
                    "GROUP BY agency, event_id",
                    {"keys": sorted({k for keys in detached.values() for k in keys})},
                )
            )
            for split, keys in detached.items():
                times = [linked[k] for k in keys if k in linked]
                if times:
                    merged_at[f"detach:{split}"] = min(times)
        return [
            _Split(
                str(split),
                str(merge),
                str(surviving),
                str(restored),
                merged_at[merge or f"detach:{split}"],
                at,
            )
            for split, merge, surviving, restored, at, _agencies, _events in rows
            if (merge or f"detach:{split}") in merged_at
        ]

    def merges_around(self, person_ids: set[str], *, until: datetime) -> dict[str, list[_Merge]]:
        """The merges made by ``until`` that reach these ids, one merge further each time,
        at most ``MAX_DEPTH``: by each id, the merges it took part in (either side)."""
        merges: dict[str, _Merge] = {}
        asked: set[str] = set()
        frontier = set(person_ids)
        for _ in range(MAX_DEPTH):
            if not frontier:
                break
            asked |= frontier
            rows = self.rows(
                "SELECT merge_id, any(surviving_person_id), any(retired_person_id), "
                "min(merged_at) FROM identity_merges "
                "WHERE (retired_person_id IN {ids:Array(String)} "
                "OR surviving_person_id IN {ids:Array(String)}) "
                "AND merged_at <= {until:DateTime64(3, 'UTC')} GROUP BY merge_id",
                {"ids": sorted(frontier), "until": until},
            )
            for merge_id, surviving, retired, at in rows:
                merges[str(merge_id)] = _Merge(str(merge_id), str(surviving), str(retired), at)
            frontier = {i for m in merges.values() for i in (m.surviving, m.retired)} - asked
        by_id: dict[str, list[_Merge]] = {}
        for merge in merges.values():
            by_id.setdefault(merge.surviving, []).append(merge)
            by_id.setdefault(merge.retired, []).append(merge)
        return by_id

    def views(
        self, username: str, person_ids: Sequence[str], *, since: datetime, until: datetime
    ) -> list[tuple[datetime, list[str]]]:
        """The user's entries, between the two times, that showed any of these people."""
        if not person_ids:
            return []
        rows = self.rows(
            "SELECT at, person_ids FROM audit_log "
            "WHERE username = {user:String} AND outcome = 'shown' "
            "AND action IN {actions:Array(String)} "
            "AND at >= {since:DateTime64(3, 'UTC')} AND at <= {until:DateTime64(3, 'UTC')} "
            "AND hasAny(person_ids, {ids:Array(String)})",
            {
                "user": username,
                "actions": list(SHOWN_PERSON),
                "since": since,
                "until": until,
                "ids": list(person_ids),
            },
        )
        return [(row[0], [str(p) for p in row[1]]) for row in rows]


def as_dict(notice: Notice) -> dict[str, Any]:
    return {
        "notification_id": notice.notification_id,
        "kind": notice.kind,
        "at": notice.at,
        "message": notice.message,
        "links": [{"kind": link.kind, "id": link.id, "label": link.label} for link in notice.links],
        "viewed_at": notice.viewed_at,
        "seen": notice.seen,
    }
