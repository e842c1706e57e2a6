"""Partners' retractions through the real pipeline (broker, worker, chDB, then ``mast api`` on
what the worker stored): a withdrawn record's details are in no String column of any
ClickHouse table, nor in a mutation's text; its person and address pages, both searches and
the match statistics do not show it; a withdrawn bridge parts the two people it merged; a
correction replaces the record it retracts; a retraction of an unknown event, or of another
agency's, goes to the dead-letter topic with its reason; and a worker killed afterwards
replays to the same state. Names are invented."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest

from mast_core.avro import RESOLVED_INTERACTION, codec
from mast_core.events import InteractionEvent, parse_event
from messaging.dead_letters import decode_dead_letter
from producers.publisher import InteractionPublisher
from tests.factories import letters, person_event
from tests.integration.topic_reader import read_topic
from tests.worker_process import WorkerProcess, free_port

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


def _event(event_id: str, agency: str, given: str, family: str, line1: str) -> InteractionEvent:
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "source_system": agency.title(),
            "event_type": "INCIDENT",
            "occurred_at": "2026-03-01T09:00:00Z",
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": "1980-05-06",
                "gender": "F",
                "address": {"line1": line1, "town": "Walsall", "postcode": "WS9 9QQ"},
            },
            "contact": {"name": "Duty officer", "phone": "01922 000000"},
        }
    )


def _retraction(event_id: str, agency: str, target: str, **subject: Any) -> InteractionEvent:
    """A withdrawal (no subject details) or, with details, a correction."""
    return parse_event(
        {"event_id": event_id, "agency": agency, "retracts_event_id": target, "subject": subject}
    )


def _mast(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _walk_strings(worker: WorkerProcess, needles: list[str]) -> list[list[Any]]:
    """Every String column (Nullable, LowCardinality, Array, Map of String too) of every
    table in MAST's database, and each mutation's text, that holds any of ``needles``."""
    columns = worker.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND type LIKE '%String%' AND table IN (SELECT name FROM system.tables WHERE "
        "database = currentDatabase() AND engine NOT IN ('View', 'MaterializedView'))"
    )
    assert len(columns) > 40  # every table, not a few
    wanted = "[" + ", ".join(f"'{n}'" for n in needles) + "]"
    parts = [
        f"SELECT '{table}.{column}', count() FROM `{table}` "
        f"WHERE multiSearchAnyCaseInsensitive(toString(`{column}`), {wanted})"
        for table, column in columns
    ]
    parts.append(
        "SELECT 'system.mutations', count() FROM system.mutations "
        f"WHERE database = currentDatabase() AND multiSearchAnyCaseInsensitive(command, {wanted})"
    )
    return [row for row in worker.query(" UNION ALL ".join(parts)) if int(row[1])]


def test_a_withdrawn_record_leaves_no_trace_and_a_correction_replaces_one(
    pipeline_settings, worker: WorkerProcess
):
    settings = pipeline_settings
    run = uuid.uuid4().hex[:6]
    mark = letters(run)
    given, family, street = f"Zeph{mark}", f"Thornbury{mark}", f"7 Quill{mark} Row"
    wrong, right, corrected_family = f"Mabyn{mark}", f"Mabel{mark}", f"Ashdown{mark}"
    withdrawn = _event(f"{run}-w1", "PROBATION", given, family, street)
    neighbour = _event(f"{run}-h1", "HOUSING", "Agnes", corrected_family, "3 Cedar Walk")
    mistaken = _event(f"{run}-f1", "FIRE", wrong, corrected_family, "3 Cedar Walk")
    a = person_event(agency="HEALTH", nhs="9434765919", dob=None, event_id=f"{run}-a")
    b = person_event(
        agency="POLICE", record="P-7", line1="9 Elm Way", postcode="DY9 9ZZ", town="Dudley",
        event_id=f"{run}-b",
    )  # fmt: skip
    bridge = person_event(agency="POLICE", record="P-7", nhs="9434765919", event_id=f"{run}-c")

    worker.start()
    publisher = InteractionPublisher(settings)
    published = 0
    for wave in ([withdrawn, neighbour, mistaken, a], [b], [bridge]):  # the bridge comes last
        assert publisher.publish(wave).failed == []
        published += len(wave)
        worker.wait_for(
            lambda s, n=published: s["counts"].get("resolved", 0) >= n, 90, "a wave resolved"
        )
    worker.wait_for(lambda s: s["counts"].get("merges", 0) >= 1, 60, "the bridge's merge")
    resolved = {
        r["interaction"]["event_id"]: r
        for r in (
            codec(RESOLVED_INTERACTION).decode(m.value())
            for m in read_topic(settings, settings.resolved_interactions_topic)
        )
    }
    person, address = (
        resolved[withdrawn.event_id]["person_id"],
        resolved[withdrawn.event_id]["address_id"],
    )
    assert address is not None

    retractions = [
        _retraction(f"{run}-w1-x", "PROBATION", withdrawn.event_id),
        _retraction(f"{run}-c-x", "POLICE", bridge.event_id),
        _retraction(
            f"{run}-f1-c",
            "FIRE",
            mistaken.event_id,
            given_name=right,
            family_name=corrected_family,
            date_of_birth="1980-05-06",
            address={"line1": "3 Cedar Walk", "town": "Walsall", "postcode": "WS9 9QQ"},
        ),
        _retraction(f"{run}-u-x", "HOUSING", "never-sent"),
        _retraction(f"{run}-p-x", "POLICE", a.event_id),  # health's event, not the police's
    ]
    assert publisher.publish(retractions).failed == []
    worker.wait_for(
        lambda s: (
            s["counts"].get("retractions", 0) >= 3
            and s["counts"].get("sink_event_retractions", 0) >= 3
            and s["counts"].get("sink_identity_splits", 0) >= 1
            and s["counts"].get("sink_resolved_interactions", 0) >= published + 1
        ),
        90,
        "the retractions applied and stored",
    )
    letters_ = [
        decode_dead_letter(m.value()) for m in read_topic(settings, settings.dead_letter_topic)
    ]
    refused = [d for d in letters_ if d["reason"] == "retraction_not_applied"]
    assert len(refused) == 2, letters_
    assert all("no event of this agency" in d["detail"] for d in refused)

    worker.kill()  # SIGKILL: the restart replays the log from its checkpoint
    worker.start()
    worker.wait_for(
        lambda s: bool(s["consumer_lag"]) and not any(s["consumer_lag"].values()),
        90,
        "the replay",
    )
    assert worker.stop() == 0

    # no trace of the withdrawn or corrected details in any table, nor in a mutation's text
    assert _walk_strings(worker, [given, family, f"Quill{mark}", wrong]) == []
    assert _walk_strings(worker, [right]) != []  # the walk finds what is there
    audit = worker.query(
        "SELECT agency, retracted_event_id, kind, person_id, merge_ids_undone "
        "FROM event_retractions FINAL ORDER BY agency"
    )
    assert [(row[0], row[1], row[2]) for row in audit] == [
        ("FIRE", mistaken.event_id, "CORRECTED"),
        ("POLICE", bridge.event_id, "WITHDRAWN"),
        ("PROBATION", withdrawn.event_id, "WITHDRAWN"),
    ]
    assert audit[2][3] == person
    assert len(audit[1][4]) == 1  # the bridge's merge, undone
    people = dict(worker.query("SELECT event_id, person_id FROM identity_map"))
    assert people[a.event_id] != people[b.event_id]  # apart again
    assert bridge.event_id not in people and withdrawn.event_id not in people
    assert f"{run}-f1-c" in people and mistaken.event_id not in people

    # through the API: pages, both searches and the statistics
    port = free_port()
    env = {**worker.env, "MAST_API_PORT": str(port), "MAST_LOG_LEVEL": "WARNING"}
    name = f"practitioner-{run}"
    added = _mast(
        env, "users", "add", "--username", name, "--password", PASSWORD, "--role",
        "practitioner", "--org", "PROBATION",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    log = (worker.log_path.parent / "api.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mast_cli", "api", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, (worker.log_path.parent / "api.log").read_text()
            assert time.monotonic() < deadline, "mast api did not start"
            try:
                if client.get("/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        token = client.post(
            "/api/v1/auth/token",
            data={"username": name, "password": PASSWORD, "notice_accepted": "true"},
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        purpose = {"purpose": "welfare_check"}

        found = client.post(
            "/api/v1/search/persons",
            json={**purpose, "given_name": given, "family_name": family,
                  "date_of_birth": "06/05/1980"},
            headers=headers,
        )  # fmt: skip
        assert found.status_code == 200, found.text
        assert found.json() == []
        kept = client.post(
            "/api/v1/search/persons",
            json={**purpose, "given_name": right, "family_name": corrected_family,
                  "date_of_birth": "06/05/1980"},
            headers=headers,
        )  # fmt: skip
        assert kept.status_code == 200 and kept.json(), kept.text  # the correction is found
        assert all(r["given_name"] != wrong for r in kept.json())
        places = client.post(
            "/api/v1/search/addresses", json={**purpose, "q": f"7 Quill{mark} Row"},
            headers=headers,
        )  # fmt: skip
        assert places.status_code == 200, places.text
        assert all(p["address_id"] != address for p in places.json())
        assert f"Quill{mark}".lower() not in places.text.lower()
        for path in (f"/api/v1/persons/{person}", f"/api/v1/addresses/{address}"):
            page = client.get(path, params=purpose, headers=headers)
            assert page.status_code in (200, 404), page.text
            assert given.lower() not in page.text.lower()
            assert f"Quill{mark}".lower() not in page.text.lower()
            assert withdrawn.event_id not in page.text
        stats = client.get(
            "/api/v1/stats/matching", params={"agency": "PROBATION"}, headers=headers
        )
        assert stats.status_code == 200, stats.text
        assert stats.json()["people"] == 0  # the only probation record was withdrawn
    finally:
        client.close()
        if server.poll() is None:
            server.terminate()
            server.wait(30)
        log.close()
