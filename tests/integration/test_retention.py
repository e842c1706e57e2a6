"""Retention stated once and enforced (sensitive records issue, item 6), on the real engine
(chDB): every table MAST creates has a stated retention; the TTLs are what the settings say
and are set once; the retention page shows each table with its rows, its oldest row and
when that goes, for managers, admins and the data protection officer only, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from query_api.app import create_app
from query_api.context import ApiContext
from sinks.clickhouse.retention import RETENTION, apply_retention, current_ttl_days
from tests.integration.signing_in import signed_in

pytestmark = pytest.mark.integration

PERSONAL_DAYS, AUDIT_DAYS = 4000, 4100
"""Longer than any test data is old, so setting them removes nothing other tests wrote."""


@pytest.fixture(scope="module")
def kept(settings, clickhouse):
    """The shared test database's TTLs set from these settings."""
    chosen = settings.model_copy(
        update={"retention_days": PERSONAL_DAYS, "audit_retention_days": AUDIT_DAYS}
    )
    return chosen, apply_retention(clickhouse, chosen)


def test_every_table_mast_creates_has_a_stated_retention(clickhouse, kept) -> None:
    tables = {
        row[0]
        for row in clickhouse.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine NOT IN ('View', 'MaterializedView')"  # views hold no rows
        ).result_rows
    }
    stated = {entry.table for entry in RETENTION}
    assert tables - stated == set(), "tables without a stated retention"
    assert stated - tables == set(), "stated tables that do not exist"


def test_ttls_are_what_the_settings_say_and_are_set_once(clickhouse, kept) -> None:
    settings, _ = kept
    expected = {"personal": PERSONAL_DAYS, "audit": AUDIT_DAYS, "kept": None}
    found = {entry.table: current_ttl_days(clickhouse, entry.table) for entry in RETENTION}
    assert found == {
        entry.table: expected.get(entry.period, entry.fixed_days) for entry in RETENTION
    }
    assert apply_retention(clickhouse, settings) == []
    for field in ("retention_days", "audit_retention_days"):
        with pytest.raises(ValueError, match="must be a positive number of days"):
            apply_retention(clickhouse, settings.model_copy(update={field: 0}))


def test_the_retention_page_shows_what_is_held_and_when_it_goes(kept, clickhouse) -> None:
    settings, _ = kept
    context = ApiContext.create(settings, clickhouse)
    client = TestClient(create_app(lambda: {"ready": True}, context))
    name, headers = signed_in(context, client, "dpo", "OTHER")
    assert client.get("/api/v1/access-review", headers=headers).status_code == 200  # audited
    answer = client.get("/api/v1/retention", headers=headers)
    assert answer.status_code == 200, answer.text
    held = {t["table"]: t for t in answer.json()["tables"]}
    assert set(held) == {entry.table for entry in RETENTION}
    audit = held["audit_log"]
    assert audit["days"] == AUDIT_DAYS and audit["rows"] >= 1
    oldest = datetime.fromisoformat(audit["oldest"])
    assert oldest <= datetime.now(UTC)
    assert datetime.fromisoformat(audit["oldest_goes"]) == oldest + timedelta(days=AUDIT_DAYS)
    assert held["users"]["days"] is None and held["users"]["oldest_goes"] is None
    assert held["resolved_interactions"]["personal_data"] is True
    assert held["identity_merges"]["personal_data"] is False
    topics = {t["topic"]: t for t in answer.json()["topics"]}
    assert topics[settings.interactions_topic]["days"] == settings.interactions_retention_days
    assert topics[settings.accepted_interactions_topic]["days"] is None  # for ever by default
    assert topics[settings.accepted_interactions_topic]["personal_data"] is True
    assert topics[settings.corrections_topic]["personal_data"] is False
    logged = context.audit.search("OTHER", username=name)
    assert [e["action"] for e in logged if e["action"] == "view_retention"] == ["view_retention"]

    for role, expected in (
        ("manager", 200),
        ("admin", 200),
        ("practitioner", 403),
        ("steward", 403),
    ):
        who, role_headers = signed_in(context, client, role, "FIRE")
        assert client.get("/api/v1/retention", headers=role_headers).status_code == expected
    refused = context.audit.search("FIRE", username=who)
    assert [(e["action"], e["outcome"]) for e in refused] == [("view_retention", "refused")]
