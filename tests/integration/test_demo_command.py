"""``mast demo`` as a newcomer runs it, on private ports and a state folder of its own: it
starts everything, loads a (small) region, and ends with the stack serving; the printed
credentials sign in, the self-neglect case is found with its second resident, a manager
sees the look-up in the audit; ``mast down`` stops it all."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from mast_core.settings import Settings
from messaging.broker import LocalKafka
from tests.integration.signing_in import TOKEN_URL, sign_in_form
from tests.worker_process import free_port

pytestmark = pytest.mark.integration

PORT, CONTROLLER_PORT = 19392, 19393


def _call(url: str, data: dict | None = None, token: str | None = None, form: bool = False):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None and form:
        body = urllib.parse.urlencode(data).encode()
    elif data is not None:
        body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def _token(base: str, username: str, password: str) -> str:
    """The bearer token of one of the users the demo printed, signed in over HTTP."""
    return _call(f"{base}{TOKEN_URL}", sign_in_form(username, password), form=True)["access_token"]


def test_the_demo_serves_and_its_credentials_work(tmp_path):
    api_port = free_port()
    state = tmp_path / "state"
    env = os.environ | {
        "MAST_STATE_DIR": str(state),
        "MAST_KAFKA_BOOTSTRAP": f"127.0.0.1:{PORT}",
        "MAST_KAFKA_BROKER_PORT": str(PORT),
        "MAST_KAFKA_CONTROLLER_PORT": str(CONTROLLER_PORT),
        "MAST_KAFKA_HEAP": "256m",
        "MAST_API_PORT": str(api_port),
        "MAST_WORKER_PORT": str(free_port()),
    }
    settings = Settings(
        state_dir=state,
        kafka_bootstrap=f"127.0.0.1:{PORT}",
        kafka_broker_port=PORT,
        kafka_controller_port=CONTROLLER_PORT,
    )

    def mast(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mast_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    try:
        run = mast("demo", "--people", "800")
        assert run.returncode == 0, run.stdout + run.stderr
        base = f"http://127.0.0.1:{api_port}"
        assert f"MAST is serving at {base}/" in run.stdout
        listed = r"^\s+(\S+\.(?:practitioner|manager|steward|dpo))\s+(\S+)"
        users = dict(re.findall(listed, run.stdout, re.M))
        assert {
            "asc.practitioner",
            "asc.manager",
            "police.manager",
            "data.steward",
            "partnership.dpo",
        } <= set(users)

        token = _token(base, "asc.practitioner", users["asc.practitioner"])
        purpose = {"purpose": "self_neglect_review"}
        found = _call(
            f"{base}/api/v1/search/persons",
            {
                **purpose,
                "given_name": "Maggie",
                "family_name": "Hollins",
                "date_of_birth": "14/6/1951",
            },
            token,
        )
        assert found and found[0]["family_name"] == "Hollins"
        assert set(found[0]["agencies"]) >= {"ADULT_SOCIAL_CARE", "FIRE", "POLICE", "HEALTH"}
        addresses = _call(
            f"{base}/api/v1/search/addresses", {**purpose, "q": "27 Kelvin Road, WS2 8PL"}, token
        )
        residents = {p["given_name"] for p in addresses[0]["people"]}
        assert {"Margaret", "Graham"} <= residents
        page = _call(
            f"{base}/api/v1/persons/{found[0]['person_id']}?purpose=self_neglect_review",
            token=token,
        )
        april = sum(t["count"] for t in page["timeline"] if t["month"] == "2026-04")
        assert april >= 6
        assert {a["rule_id"] for a in page["alerts"]} >= {"multi_agency_contact", "rising_contacts"}

        manager = _token(base, "asc.manager", users["asc.manager"])
        audit = _call(f"{base}/api/v1/audit?username=asc.practitioner", token=manager)
        assert {"search_persons", "search_addresses", "view_person"} <= {e["action"] for e in audit}

        again = mast("demo", "--people", "800")  # a second run reuses the running stack
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout
    finally:
        stopped = mast("down", timeout=180)
        LocalKafka(settings).stop(say=lambda _line: None)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert not LocalKafka(settings).status().running
