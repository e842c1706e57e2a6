"""Query API benchmark: search and person-page latency over 1M people and 10M interactions.

Loads a synthetic population into ClickHouse in the tables the sink writes
(``resolved_interactions`` with its address view, ``person_keys``, ``address_keys``), then
times requests through the API itself — token check, purpose, query, audit write — as a
practitioner's browser would make them:

    .venv/bin/python -m benchmarks.api_benchmark --people 1000000 --queries 500

People come from the synthetic population generator (households, namesakes, movers) with
the resolver's own blocking keys; their interactions (1 to 19 each, 10 on average, from
eight agencies over five years, some with open cases) are generated inside ClickHouse.
Searches type what a practitioner might: the name with a nickname now and then, the date of
birth written another way, the postcode in lower case. The data lives in its own folder
(``--state``, default ``.mast/bench-api``) and is kept for ``--reuse``; with
``MAST_CLICKHOUSE_URL`` it goes to that server's ``mast_bench`` database instead.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client
from fastapi.testclient import TestClient

from mast_core.events import parse_event
from mast_core.linkage.address_search import address_search_keys
from mast_core.linkage.blocking import blocking_keys, name_only_key
from mast_core.linkage.profile import build_profile
from mast_core.normalise.addresses import normalise_address
from mast_core.normalise.postcodes import normalise_postcode
from mast_core.settings import Settings
from producers.synthetic.population import Person, PopulationGenerator
from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse import apply_migrations, connect

PASSWORD = "benchmark password"  # noqa: S105 - a throwaway user in the benchmark's own database
CHUNK = 50_000

_STAGING = """
CREATE TABLE IF NOT EXISTS bench_people
(
    person_id String, given String, family String, dob String, gender String, nhs String,
    line1 String, town String, postcode String, address_id String, keys Array(String)
)
ENGINE = MergeTree ORDER BY person_id
"""

# 1 to 19 interactions per person (10 on average), spread over five years; an adult social
# care or children's social care record opens a case now and then.
_EVENTS = """
SELECT
    concat(person_id, '-', toString(k)) AS event_id,
    person_id,
    address_id,
    ['POLICE', 'FIRE', 'HEALTH', 'CHILDREN_SOCIAL_CARE', 'ADULT_SOCIAL_CARE', 'EDUCATION',
     'HOUSING', 'PROBATION'][1 + cityHash64(person_id, k, 'agency') % 8] AS agency,
    ['INCIDENT', 'REFERRAL', 'ASSESSMENT', 'VISIT'][1 + cityHash64(person_id, k, 'type') % 4]
        AS event_type,
    addSeconds(toDateTime64('2021-01-01 00:00:00', 3, 'UTC'),
               cityHash64(person_id, k, 'time') % 157680000) AS event_time,
    k
FROM bench_people
ARRAY JOIN range(toUInt64(1 + cityHash64(person_id) % 19)) AS k
WHERE person_id >= {low:String} AND person_id < {high:String}
"""

_INSERT_INTERACTIONS = f"""
INSERT INTO resolved_interactions (event_id, person_id, address_id, agency, event_type,
    event_time, occurred_at, source_system, source_record_id, given_name, family_name,
    date_of_birth, gender, address_line1, address_line2, town, postcode, uprn, nhs_number,
    case_status, contact_name, contact_team, contact_phone, contact_email, match_weight,
    match_reason, resolved_at)
SELECT e.event_id, e.person_id, e.address_id, e.agency, e.event_type, e.event_time,
       e.event_time, concat(lower(e.agency), '-system'), concat('R', e.person_id),
       p.given, p.family, p.dob, p.gender, p.line1, NULL, p.town, p.postcode, NULL, p.nhs,
       if(e.agency IN ('ADULT_SOCIAL_CARE', 'CHILDREN_SOCIAL_CARE') AND e.k % 3 = 0,
          'OPEN', NULL),
       'Duty worker', concat(e.agency, ' team'), '0121 496 0000', NULL, 20.0, 'linked',
       now64(3)
FROM ({_EVENTS}) AS e
INNER JOIN bench_people AS p ON p.person_id = e.person_id
"""  # noqa: S608 - constant text; the values are bound parameters

_INSERT_KEYS = f"""
INSERT INTO person_keys
SELECT key, e.person_id, e.event_id, e.event_time, e.agency, concat(lower(e.agency), '-system'),
       concat('R', e.person_id), p.given, p.family, p.dob, p.gender, p.line1, p.town,
       p.postcode, p.nhs, now64(3)
FROM ({_EVENTS}) AS e
INNER JOIN bench_people AS p ON p.person_id = e.person_id
ARRAY JOIN p.keys AS key
"""  # noqa: S608 - constant text; the values are bound parameters


def _clean_event(person: Person) -> dict[str, Any]:
    home = person.homes[-1][1]
    line1 = f"{f'Flat {home.flat}, ' if home.flat else ''}{home.number} {home.street}"
    return {
        "event_id": person.person_id,
        "agency": "OTHER",
        "subject": {
            "given_name": person.given,
            "family_name": person.family,
            "date_of_birth": person.dob.isoformat(),
            "gender": person.gender,
            "address": {"line1": line1, "town": home.town, "postcode": home.postcode},
        },
    }


def _people_rows(people: Sequence[Person]) -> Iterator[list[Any]]:
    for person in people:
        event = _clean_event(person)
        subject = event["subject"]
        address = subject["address"]
        profile = build_profile(
            parse_event(event),
            person.homes[-1][1].address_id,
            normalise_postcode(address["postcode"]),
        )
        keys = list(blocking_keys(profile))
        name_key = name_only_key(profile)
        if name_key:
            keys.append(name_key)
        yield [
            person.person_id,
            person.given,
            person.family,
            subject["date_of_birth"],
            person.gender,
            person.nhs,
            address["line1"],
            address["town"],
            address["postcode"],
            person.homes[-1][1].address_id,
            keys,
        ]


def _address_rows(rows: Sequence[list[Any]]) -> list[list[Any]]:
    seen: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        line1, town, postcode, address_id = row[6], row[7], row[8], row[9]
        normalised = normalise_address(line1, None, town, postcode)
        if normalised is None:
            continue
        for key in address_search_keys(normalised):
            seen.setdefault((key, address_id), [key, address_id, line1, "", town, postcode])
    return [[*row, "2026-01-01 00:00:00"] for row in seen.values()]


def load(client: Client, people: Sequence[Person], say: Callable[[str], None]) -> None:
    for table in ("bench_people", "resolved_interactions", "address_interactions"):
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
    for table in ("person_keys", "address_keys", "audit_log", "person_aliases"):
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
    client.command(_STAGING)
    columns = ["person_id", "given", "family", "dob", "gender", "nhs", "line1", "town"]
    columns += ["postcode", "address_id", "keys"]
    started = time.perf_counter()
    rows: list[list[Any]] = []
    for start in range(0, len(people), CHUNK):
        chunk = list(_people_rows(people[start : start + CHUNK]))
        client.insert("bench_people", chunk, column_names=columns)
        rows.extend(chunk)
        say(f"  people: {start + len(chunk):,} / {len(people):,}")
    addresses = _address_rows(rows)
    for start in range(0, len(addresses), 200_000):
        client.insert(
            "address_keys",
            addresses[start : start + 200_000],
            column_names=["key", "address_id", "line1", "line2", "town", "postcode", "last_seen"],
        )
    elapsed = time.perf_counter() - started
    say(f"  profiles, keys and {len(addresses):,} address keys in {elapsed:.0f} s")
    ids = sorted(row[0] for row in rows)
    bounds = [ids[i] for i in range(0, len(ids), 100_000)] + [ids[-1] + "~"]
    started = time.perf_counter()
    for low, high in itertools.pairwise(bounds):
        client.command(_INSERT_INTERACTIONS, parameters={"low": low, "high": high})
        client.command(_INSERT_KEYS, parameters={"low": low, "high": high})
        say(f"  interactions for people up to {high}")
    interactions = client.query("SELECT count() FROM resolved_interactions").result_rows[0][0]
    keys = client.query("SELECT count() FROM person_keys").result_rows[0][0]
    say(
        f"  {interactions:,} interactions and {keys:,} person keys in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _settle(client: Client, limit_s: float = 900.0) -> None:
    """Wait for ClickHouse's background merges: a running system's parts have long been
    merged, and timing look-ups while a bulk load is still merging measures the load."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        merging = client.query("SELECT count() FROM system.merges").result_rows[0][0]
        if not merging:
            break
        print(f"  waiting for {merging} background merges…", flush=True)
        time.sleep(10)
    parts = client.query(
        "SELECT table, count() FROM system.parts WHERE active AND database = currentDatabase() "
        "AND table IN ('resolved_interactions', 'person_keys', 'address_interactions') "
        "GROUP BY table ORDER BY table"
    ).result_rows
    print("  active parts: " + ", ".join(f"{table} {count}" for table, count in parts))


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   max {ordered[-1] * 1000:6.1f} ms"


def _typed(person: Person, rng: random.Random, nicknames: dict[str, list[str]]) -> dict[str, Any]:
    """What a practitioner might type for this person."""
    given = person.given
    variants = nicknames.get(given.lower())
    if variants and rng.random() < 0.3:
        given = rng.choice(variants).title()
    dob = person.dob
    written = rng.choice([dob.strftime("%d/%m/%Y"), dob.isoformat(), dob.strftime("%d %b %Y")])
    query: dict[str, Any] = {"given_name": given, "family_name": person.family.upper()}
    if rng.random() < 0.8:
        query["date_of_birth"] = written
    if rng.random() < 0.5 or "date_of_birth" not in query:
        query["postcode"] = person.homes[-1][1].postcode.lower().replace(" ", "")
    return query


def run(args: argparse.Namespace) -> None:
    settings = Settings(state_dir=Path(args.state), clickhouse_database="mast_bench")
    client = connect(settings)
    apply_migrations(client)
    generator = PopulationGenerator(seed=args.seed)
    started = time.perf_counter()
    people = generator.population(args.people)
    print(f"population: {len(people):,} people in {time.perf_counter() - started:.0f} s")
    loaded = 0
    if args.reuse:
        client.command(_STAGING)
        loaded = client.query("SELECT count() FROM bench_people").result_rows[0][0]
    if loaded != len(people):
        print("loading ClickHouse")
        load(client, people, print)
    else:
        print(f"reusing {loaded:,} people already loaded")
    _settle(client)
    totals = client.query(
        "SELECT (SELECT count() FROM bench_people), (SELECT count() FROM resolved_interactions), "
        "(SELECT count() FROM person_keys), (SELECT count() FROM address_keys)"
    ).result_rows[0]
    print(
        f"tables: {totals[0]:,} people, {totals[1]:,} interactions, {totals[2]:,} person keys, "
        f"{totals[3]:,} address keys"
    )

    context = ApiContext.create(settings, client)
    username = f"bench-{int(time.time())}"
    context.users.add(username, PASSWORD, "practitioner", "ADULT_SOCIAL_CARE")
    http = TestClient(create_app(lambda: {"ready": True}, context))
    token = http.post(
        "/api/v1/auth/token",
        data={"username": username, "password": PASSWORD, "notice_accepted": "true"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(args.seed + 1)
    sample = rng.sample(people, args.queries)
    purpose = {"purpose": "welfare_check"}

    def timed(call: Callable[[], Any]) -> tuple[float, Any]:
        begun = time.perf_counter()
        response = call()
        elapsed = time.perf_counter() - begun
        if response.status_code != 200:
            raise SystemExit(f"request failed: {response.status_code} {response.text[:200]}")
        return elapsed, response.json()

    for person in sample[:20]:  # warm the caches a deployment would have warm
        http.post(
            "/api/v1/search/persons", json={**purpose, **_typed(person, rng, {})}, headers=headers
        )

    search_times, page_times, address_times = [], [], []
    first = found = 0
    for person in sample:
        elapsed, results = timed(
            lambda p=person: http.post(
                "/api/v1/search/persons",
                json={**purpose, **_typed(p, rng, generator.nicknames)},
                headers=headers,
            )
        )
        search_times.append(elapsed)
        ids = [r["person_id"] for r in results]
        first += bool(ids) and ids[0] == person.person_id
        found += person.person_id in ids
        elapsed, _page = timed(
            lambda p=person: http.get(
                f"/api/v1/persons/{p.person_id}", params=purpose, headers=headers
            )
        )
        page_times.append(elapsed)
        home = person.homes[-1][1]
        elapsed, _found = timed(
            lambda h=home: http.post(
                "/api/v1/search/addresses",
                json={**purpose, "address": f"{h.number} {h.street}", "postcode": h.postcode},
                headers=headers,
            )
        )
        address_times.append(elapsed)
        if len(address_times) % 50 == 0:
            print(
                f"  {len(address_times)} / {len(sample)}: median so far search "
                f"{statistics.median(search_times) * 1000:.0f} ms, page "
                f"{statistics.median(page_times) * 1000:.0f} ms, address "
                f"{statistics.median(address_times) * 1000:.0f} ms",
                flush=True,
            )
    n = len(sample)
    print(f"\n{n} of each request through the API (token, purpose, query, audit write):")
    print(f"  search by person   {_percentiles(search_times)}")
    print(f"  person page        {_percentiles(page_times)}")
    print(f"  search by address  {_percentiles(address_times)}")
    print(f"  the person searched for ranked first in {first / n:.1%}, listed in {found / n:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--state", default=".mast/bench-api")
    parser.add_argument("--reuse", action="store_true", help="keep data already loaded")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
