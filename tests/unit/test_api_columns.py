"""The API reads ClickHouse rows by name, with column lists taken from (or checked against)
``sinks/clickhouse/tables.py``: each subset a reader selects must be columns of its table, so
a renamed column fails here rather than in a query at run time.
(``tests/integration/test_clickhouse.py`` checks the tables' lists against the migrations.)"""

from __future__ import annotations

import pytest

from query_api import search
from query_api.records import EVENT_COLUMNS, PERSON_EVENT_COLUMNS
from sinks.clickhouse.tables import (
    AddressKeyRow,
    ParameterSetRow,
    PersonKeyRow,
    ResolvedRow,
    select_list,
)


@pytest.mark.parametrize(
    ("reads", "table"),
    [
        (search.Candidate._fields, PersonKeyRow),
        (search.SCORED, PersonKeyRow),
        (search.WrittenAddress._fields, AddressKeyRow),
        (search._ParameterSet._fields, ParameterSetRow),
        (EVENT_COLUMNS, ResolvedRow),
        (PERSON_EVENT_COLUMNS, ResolvedRow),
    ],
)
def test_what_the_api_reads_are_columns_of_the_table(reads, table):
    assert set(reads) <= set(table._fields)
    assert len(set(reads)) == len(reads)


def test_the_scored_details_are_those_of_a_candidate():
    assert set(search.SCORED) <= set(search.Candidate._fields)
    assert "agency" not in search.SCORED and "source_record_id" not in search.SCORED


def test_a_select_list_names_the_columns_in_order():
    assert select_list(("a", "b")) == "a, b"
    assert select_list(("a", "b"), "t") == "t.a, t.b"
