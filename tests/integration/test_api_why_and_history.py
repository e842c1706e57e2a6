"""Why each record belongs to a person, and the person's merge history, end to end: events
published as partners publish them, resolved and stored by a worker on the real broker and
ClickHouse (chDB), then read through the API served by ``mast api`` on what the worker
stored. The person page's records carry the resolver's explanation in words; the history
lists the merge with its evidence; an unknown id is a 404 and a missing purpose a 422,
both audited."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mast_core.events import InteractionEvent, parse_event
from producers.publisher import InteractionPublisher
from tests.worker_process import WorkerProcess, free_port

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
ELSEWHERE = {"line1": "12 Alder Street", "town": "Walsall", "postcode": "WS1 2AB"}
NHS = "9434765919"


def _event(event_id: str, agency: str, given: str, family: str, **fields: Any) -> InteractionEvent:
    """An event of this module's own (names invented)."""
    return parse_event(
        {
            "event_id": event_id,
            "agency": agency,
            "source_system": fields.pop("system", agency.title()),
            "source_record_id": fields.pop("record", None),
            "event_type": "INCIDENT",
            "occurred_at": fields.pop("at"),
            "subject": {
                "given_name": given,
                "family_name": family,
                "date_of_birth": fields.pop("dob", "1957-02-13"),
                "gender": "F",
                "address": fields.pop("address", ELSEWHERE),
                "nhs_number": fields.pop("nhs", None),
            },
            "contact": {"name": "Duty officer", "phone": "01922 000000"},
        }
    )


def _letters(hex_digits: str) -> str:
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in hex_digits)


def _mast(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mast_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def stored(pipeline_settings, worker: WorkerProcess) -> dict[str, Any]:
    """Two people resolved by the worker and stored by its sink, the worker then stopped:
    Margaret, known to health and then to the police as Peggy (name, date of birth and
    address agreeing); and Dorothy, whose health record (NHS number, no date of birth) and
    police record (date of birth, another town) only a third record, with both, merges."""
    run = uuid.uuid4().hex[:6]
    margaret_family = "Thornbury" + _letters(run)
    dorothy_family = "Quenby" + _letters(run[::-1])
    margaret = [
        _event(f"{run}-h1", "HEALTH", "Margaret", margaret_family, at="2026-03-01T09:00:00Z"),
        _event(f"{run}-p1", "POLICE", "Peggy", margaret_family, at="2026-03-05T22:00:00Z"),
    ]
    dorothy_a = _event(
        f"{run}-da",
        "HEALTH",
        "Dorothy",
        dorothy_family,
        system="PAS",
        nhs=NHS,
        dob=None,
        address={"line1": "3 Cedar Walk", "town": "Walsall", "postcode": "WS2 9PL"},
        at="2026-04-03T10:00:00Z",
    )
    dorothy_b = _event(
        f"{run}-db",
        "POLICE",
        "Dorothy",
        dorothy_family,
        system="Niche",
        record="P-7",
        address={"line1": "9 Elm Way", "town": "Dudley", "postcode": "DY9 9ZZ"},
        at="2026-04-04T10:00:00Z",
    )
    bridge = _event(
        f"{run}-dc",
        "POLICE",
        "Dorothy",
        dorothy_family,
        system="Niche",
        record="P-7",
        nhs=NHS,
        address={"line1": "3 Cedar Walk", "town": "Walsall", "postcode": "WS2 9PL"},
        at="2026-04-06T10:00:00Z",
    )
    worker.start()
    publisher = InteractionPublisher(pipeline_settings)
    waves = [[margaret[0], dorothy_a], [margaret[1], dorothy_b], [bridge]]
    published = 0
    for wave in waves:  # partners' partitions interleave: what must come later is sent later
        assert publisher.publish(wave).failed == []
        published += len(wave)
        worker.wait_for(
            lambda s, n=published: s["counts"].get("resolved", 0) >= n, 60, "a wave resolved"
        )
    worker.wait_for(
        lambda s: (
            s["counts"].get("sink_resolved_interactions", 0) >= published
            and s["counts"].get("sink_identity_merges", 0) >= 1
        ),
        60,
        "everything stored",
    )
    assert worker.stop() == 0
    return {"run": run, "margaret_family": margaret_family, "dorothy_family": dorothy_family}


@pytest.fixture
def api(pipeline_settings, worker: WorkerProcess, stored) -> Iterator[dict[str, Any]]:
    """``mast api`` on the worker's ClickHouse (the worker stopped: one process per
    folder), with a practitioner and a manager of adult social care."""
    port = free_port()
    env = {**worker.env, "MAST_API_PORT": str(port), "MAST_LOG_LEVEL": "WARNING"}
    names = {role: f"{role}-{uuid.uuid4().hex[:6]}" for role in ("practitioner", "manager")}
    for role, name in names.items():
        added = _mast(
            env, "users", "add", "--username", name, "--password", PASSWORD, "--role", role,
            "--org", "ADULT_SOCIAL_CARE",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    log = (worker.log_path.parent / "api.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mast_cli", "api", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)

    def stop() -> None:
        """Stop the API (SIGTERM, the process this fixture started), so that another
        process may open its embedded database."""
        if server.poll() is None:
            server.terminate()
            server.wait(30)

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
        headers = {}
        for role, name in names.items():
            token = client.post(
                "/api/v1/auth/token",
                data={"username": name, "password": PASSWORD, "notice_accepted": "true"},
            )
            assert token.status_code == 200, token.text
            headers[role] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield {"client": client, "headers": headers, "names": names, "stop": stop, **stored}
    finally:
        client.close()
        stop()
        log.close()


def _person_of(client: httpx.Client, headers: dict[str, str], family: str, given: str) -> str:
    found = client.post(
        "/api/v1/search/persons",
        json={
            "purpose": "welfare_check",
            "given_name": given,
            "family_name": family,
            "date_of_birth": "13/02/1957",
        },
        headers=headers,
    )
    assert found.status_code == 200, found.text
    return str(found.json()[0]["person_id"])


def test_records_say_why_and_merges_show_in_the_history(api, worker):
    client, headers = api["client"], api["headers"]["practitioner"]
    run = api["run"]

    # Margaret: her police record joined her health record on name, birth date and address
    margaret = _person_of(client, headers, api["margaret_family"], "Margaret")
    page = client.get(
        f"/api/v1/persons/{margaret}", params={"purpose": "welfare_check"}, headers=headers
    )
    assert page.status_code == 200, page.text
    body = page.json()
    interactions = {i["event_id"]: i for i in body["interactions"]}
    assert set(interactions) == {f"{run}-h1", f"{run}-p1"}
    first, second = interactions[f"{run}-h1"]["why"], interactions[f"{run}-p1"]["why"]
    assert first["sentence"] == "the first record of this person: no earlier record matched"
    assert (first["strength"], first["match_weight"], first["contributions"]) == (None, None, [])
    levels = {c["field"]: c["level"] for c in second["contributions"]}
    assert levels["date_of_birth"] == "exact"
    assert levels["family_name"] == "exact"
    assert levels["given_name"] == "nickname"
    assert levels["residence"] == "same_address"
    words = {c["field"]: c["words"] for c in second["contributions"]}
    assert words["given_name"] == "given name a known short form or middle name"
    for said in ("date of birth exact", "family name exact", "known short form", "same address"):
        assert said in second["sentence"], second["sentence"]
    assert second["strength"] in ("strong", "very strong")
    assert second["sentence"].endswith(f": {second['strength']}")
    assert second["match_weight"] > 0
    # each partner record says how its earliest record was linked
    records = {r["agency"]: r for r in body["records"]}
    assert records["POLICE"]["why"] == second
    assert records["HEALTH"]["why"] == first
    none = client.get(
        f"/api/v1/persons/{margaret}/history",
        params={"purpose": "welfare_check"},
        headers=headers,
    )
    assert none.status_code == 200, none.text
    assert none.json()["entries"] == []

    # Dorothy: the third record merged her two identities; the history says when and why
    dorothy = _person_of(client, headers, api["dorothy_family"], "Dorothy")
    history = client.post(
        f"/api/v1/persons/{dorothy}/history/view",
        json={"purpose": "welfare_check", "purpose_detail": "referral 5521"},
        headers=headers,
    )
    assert history.status_code == 200, history.text
    merged = history.json()
    assert merged["person_id"] == dorothy
    assert len(merged["merged_ids"]) == 1
    (entry,) = merged["entries"]
    assert entry["kind"] == "merge"
    assert entry["surviving_person_id"] == dorothy
    assert entry["retired_person_id"] == merged["merged_ids"][0]
    assert entry["triggered_by"] == {"agency": "POLICE", "event_id": f"{run}-dc"}
    assert entry["at"].startswith("20")
    evidence = {c["field"]: c for c in entry["why"]["contributions"]}
    assert evidence["given_name"]["level"] == "exact"
    assert evidence["given_name"]["words"] == "given name exact"
    assert entry["why"]["strength"] == "very strong"  # a merge needs the merge probability
    assert "given name exact" in entry["why"]["sentence"]
    assert entry["why"]["match_weight"] > 0
    # the retired id opens the same history, and the person page says the merge brought in
    # the record that started the retired identity
    again = client.get(
        f"/api/v1/persons/{entry['retired_person_id']}/history",
        params={"purpose": "welfare_check"},
        headers=headers,
    )
    assert again.json()["entries"] == merged["entries"]
    page = client.get(
        f"/api/v1/persons/{dorothy}", params={"purpose": "welfare_check"}, headers=headers
    ).json()
    whys = {i["event_id"]: i["why"]["sentence"] for i in page["interactions"]}
    started = [e for e, sentence in whys.items() if sentence.startswith("the first record")]
    assert any("joined to this person later by a merge" in whys[e] for e in started), whys

    # an unknown id is a 404; without a purpose, or with its detail in the URL, a 422
    unknown = client.get(
        "/api/v1/persons/Pnobody0000000000/history",
        params={"purpose": "welfare_check"},
        headers=headers,
    )
    assert unknown.status_code == 404
    assert client.get(f"/api/v1/persons/{dorothy}/history", headers=headers).status_code == 422
    in_url = client.get(
        f"/api/v1/persons/{dorothy}/history",
        params={"purpose": "welfare_check", "purpose_detail": "Dorothy's strategy meeting"},
        headers=headers,
    )
    assert in_url.status_code == 422
    assert "POST /api/v1/persons/{person_id}/history/view" in in_url.json()["detail"]
    assert "Dorothy" not in in_url.text
    without_token = client.get(
        f"/api/v1/persons/{dorothy}/history", params={"purpose": "welfare_check"}
    )
    assert without_token.status_code == 401
    # a manager may look as a practitioner may
    managed = client.get(
        f"/api/v1/persons/{dorothy}/history",
        params={"purpose": "welfare_check"},
        headers=api["headers"]["manager"],
    )
    assert managed.status_code == 200
    assert managed.json()["entries"] == merged["entries"]

    # every look at a history is in the audit, refusals and the unknown id included
    api["stop"]()
    rows = _audit(api, worker)
    seen = [(r["outcome"], r["purpose"], r["purpose_detail"]) for r in rows]
    assert seen == [
        ("shown", "welfare_check", ""),  # Margaret's, empty
        ("shown", "welfare_check", "referral 5521"),
        ("shown", "welfare_check", ""),  # through the retired id
        ("not_found", "welfare_check", ""),
        ("refused", "", ""),
        ("refused", "welfare_check", ""),  # the detail in the URL: recorded without it
    ]
    assert rows[1]["person_ids"] == [dorothy, entry["retired_person_id"]]
    assert rows[1]["event_ids"] == [f"{run}-dc"]
    assert rows[3]["person_ids"] == ["Pnobody0000000000"]
    assert all(dorothy in r["person_ids"] for r in rows[4:])


def _audit(api: dict[str, Any], worker: WorkerProcess) -> list[dict[str, Any]]:
    """The practitioner's history look-ups, oldest first, read from the audit log once the
    API has stopped (one process per embedded database folder)."""
    rows = worker.query(
        "SELECT outcome, purpose, purpose_detail, person_ids, event_ids "
        "FROM audit_log WHERE action = 'view_identity_history' "
        f"AND username = '{api['names']['practitioner']}' ORDER BY at"
    )
    columns = ("outcome", "purpose", "purpose_detail", "person_ids", "event_ids")
    return [dict(zip(columns, row, strict=True)) for row in rows]
