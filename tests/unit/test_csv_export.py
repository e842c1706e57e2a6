"""The one CSV writer of the API's exports: cells a spreadsheet would read as a formula are
written as text."""

import csv
import io

import pytest

from query_api.csv_export import cell, csv_response


@pytest.mark.parametrize("text", ["=SUM(A1)", "+44 121", "-1", "@cmd", "\tx", "\rx"])
def test_formula_starts_are_written_as_text(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "written"), [("Smith", "Smith"), (None, ""), (["a", "b"], "a;b"), (3, "3")]
)
def test_other_values_are_written_as_they_are(value: object, written: str) -> None:
    assert cell(value) == written


def test_a_response_is_an_attachment_with_a_header_row() -> None:
    answer = csv_response(("name", "ids"), [("=1+1", ["P1", "P2"])], "x.csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="x.csv"'
    rows = list(csv.reader(io.StringIO(answer.body.decode())))
    assert rows == [["name", "ids"], ["'=1+1", "P1;P2"]]
