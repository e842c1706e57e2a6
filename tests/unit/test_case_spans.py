"""When a case was open: the one rule the person page, the unusual-access review and the
notifications to the lead agency share (``query_api.cases.spans``)."""

from datetime import UTC, datetime, timedelta

from query_api.cases import Span, spans

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def test_a_case_is_open_from_its_first_open_until_it_closes_and_again_when_reopened() -> None:
    found = spans(
        [
            ("CSC", "C1", at(5), "CLOSED"),
            ("CSC", "C1", at(0), "OPEN"),
            ("CSC", "C1", at(2), "OPEN"),  # still open: the span starts at the first
            ("CSC", "C1", at(9), "OPEN"),
        ]
    )
    assert found == [Span("CSC", "C1", at(0), at(5)), Span("CSC", "C1", at(9), None)]
    assert found[0].open_at(at(4)) and not found[0].open_at(at(5))
    assert found[1].open_at(at(100)) and not found[1].open_at(at(8))


def test_cases_are_kept_apart_by_agency_and_reference() -> None:
    found = spans(
        [
            ("CSC", "C1", at(0), "OPEN"),
            ("CSC", "C2", at(1), "OPEN"),
            ("HEALTH", "C1", at(2), "OPEN"),
            ("CSC", "C2", at(3), "CLOSED"),
        ]
    )
    assert [(s.agency, s.reference, s.closed) for s in found] == [
        ("CSC", "C1", None),
        ("CSC", "C2", at(3)),
        ("HEALTH", "C1", None),
    ]


def test_opened_and_closed_at_once_is_closed_and_a_close_alone_is_nothing() -> None:
    assert spans([("CSC", "C1", at(1), "CLOSED"), ("CSC", "C1", at(1), "OPEN")]) == [
        Span("CSC", "C1", at(1), at(1))
    ]
    assert spans([("CSC", "C1", at(1), "CLOSED")]) == []
