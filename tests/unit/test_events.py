import json
from datetime import UTC, datetime

import pytest

from mast_core.errors import InvalidEvent
from mast_core.events import (
    MAX_TEXT,
    Agency,
    CaseStatus,
    Gender,
    parse_event,
    parse_event_json,
)
from tests.factories import event_dict


def test_a_complete_event_parses_into_typed_fields():
    event = parse_event(event_dict(case_status="open"))
    assert event.agency is Agency.FIRE
    assert event.case_status is CaseStatus.OPEN
    assert event.subject.gender is Gender.FEMALE
    assert event.occurred_at == datetime(2026, 4, 3, 21, 15, tzinfo=UTC)
    assert event.subject.address is not None
    assert event.subject.address.postcode == "WS1 2AB"


@pytest.mark.parametrize("missing", ["event_id", "agency", "subject"])
def test_an_event_without_a_required_field_is_refused_naming_it(missing):
    data = event_dict()
    del data[missing]
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data)
    assert caught.value.field == missing
    assert caught.value.reason == "invalid_event"


def test_an_empty_event_id_is_refused():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event_dict(event_id="   "))
    assert caught.value.field == "event_id"


def test_every_problem_is_reported_not_only_the_first():
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"agency": "AMBULANCE", "occurred_at": "yesterday"})
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"event_id", "agency", "occurred_at", "subject"}


def test_messy_but_possible_values_are_kept_not_refused():
    data = event_dict()
    data["subject"] = {
        "given_name": "  peggy ",
        "family_name": "",
        "date_of_birth": "1957-13-02",  # day and month swapped: the resolver's problem
        "gender": "woman",
        "address": {"line1": "12 stanley st", "postcode": "not a postcode"},
    }
    event = parse_event(data)
    assert event.subject.given_name == "peggy"
    assert event.subject.family_name is None
    assert event.subject.date_of_birth == "1957-13-02"
    assert event.subject.gender is Gender.FEMALE
    assert event.subject.address is not None
    assert event.subject.address.postcode == "not a postcode"


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("M", Gender.MALE),
        ("male", Gender.MALE),
        ("X", Gender.OTHER),
        ("?", Gender.UNKNOWN),
        (None, Gender.UNKNOWN),
        ("", Gender.UNKNOWN),
    ],
)
def test_gender_words_map_to_the_contract_codes(sent, expected):
    data = event_dict()
    data["subject"] = {**data["subject"], "gender": sent}
    assert parse_event(data).subject.gender is expected


def test_agency_and_event_type_are_case_insensitive():
    event = parse_event(
        event_dict(agency="children social care", event_type="domestic abuse incident")
    )
    assert event.agency is Agency.CHILDREN_SOCIAL_CARE
    assert event.event_type == "DOMESTIC_ABUSE_INCIDENT"


def test_a_time_without_a_zone_is_taken_as_utc_and_others_converted():
    naive = parse_event(event_dict(occurred_at="2026-04-03T21:15:00"))
    assert naive.occurred_at == datetime(2026, 4, 3, 21, 15, tzinfo=UTC)
    summer = parse_event(event_dict(occurred_at="2026-04-03T22:15:00+01:00"))
    assert summer.occurred_at == datetime(2026, 4, 3, 21, 15, tzinfo=UTC)
    assert summer.occurred_at.tzinfo is UTC


def test_unknown_time_is_null_not_an_error():
    assert parse_event(event_dict(occurred_at=None)).occurred_at is None


def test_oversized_text_is_refused_and_the_message_does_not_echo_personal_data():
    data = event_dict()
    secret = "Zebedee" * 50
    data["subject"] = {**data["subject"], "family_name": secret}
    with pytest.raises(InvalidEvent) as caught:
        parse_event(data)
    assert caught.value.field == "subject.family_name"
    assert str(MAX_TEXT) in str(caught.value)
    assert "Zebedee" not in str(caught.value)


def test_values_never_appear_in_error_messages():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event_dict(agency="Hollowmere Constabulary", occurred_at="Hollowmere"))
    assert "Hollowmere" not in str(caught.value)


def test_something_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(["event_id", "x"])
    assert caught.value.field == "(event)"


def test_unknown_extra_fields_are_ignored():
    event = parse_event(event_dict(case_notes="must never be stored"))
    assert "case_notes" not in event.to_record()


def test_an_accepted_event_decodes_without_revalidation_to_the_same_event():
    from mast_core.events import decode_accepted, encode_interaction, parse_event
    from tests.factories import event_dict

    for event in (
        parse_event(event_dict()),
        parse_event(event_dict(contact=None, case_status="open", occurred_at=None)),
        parse_event({**event_dict(), "subject": {"given_name": "Ann", "gender": "female"}}),
    ):
        assert decode_accepted(encode_interaction(event)) == event


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00Z",  # the "no date" of .NET and SQL Server partner systems
        "0001-01-01T00:00:00+05:00",  # before the first instant once in UTC
        "1753-01-01T00:00:00",
        "1899-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_a_time_no_interaction_can_have_happened_at_is_refused_naming_the_field(when):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event_dict(occurred_at=when))
    assert caught.value.field == "occurred_at"
    assert "plausible" in str(caught.value)


def test_a_time_a_little_ahead_of_this_clock_is_accepted():
    from datetime import timedelta

    ahead = datetime.now(UTC) + timedelta(hours=6)
    assert parse_event(event_dict(occurred_at=ahead.isoformat())).occurred_at == ahead


@pytest.mark.parametrize(
    "subject",
    [
        {},
        {"gender": "F"},
        {"given_name": " ", "family_name": "NULL", "address": {"line1": "", "postcode": None}},
    ],
)
def test_a_subject_with_nothing_to_link_is_refused(subject):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event_dict(subject=subject))
    assert caught.value.field == "subject"


@pytest.mark.parametrize(
    "subject",
    [
        {"family_name": "Kaye"},
        {"date_of_birth": "2012-02-13"},
        {"address": {"postcode": "WS1 2AB"}},
        {"nhs_number": "9434765919"},
    ],
)
def test_any_one_personal_detail_is_enough(subject):
    assert parse_event(event_dict(subject=subject)).subject is not None


def test_the_idempotency_key_is_the_agency_and_the_event_id():
    police = parse_event(event_dict(event_id="1", agency="POLICE"))
    fire = parse_event(event_dict(event_id="1", agency="FIRE"))
    assert police.key != fire.key
    assert police.key == parse_event(event_dict(event_id="1", agency="police")).key
    # ids with the separator's look-alikes do not collide across agencies
    assert parse_event(event_dict(event_id="A:1", agency="FIRE")).key != (
        parse_event(event_dict(event_id="1", agency="FIRE")).key
    )


def _outcome(parse, text: str) -> object:
    try:
        return parse(text).model_dump()
    except InvalidEvent as exc:
        return [(problem.field, problem.message) for problem in exc.problems]


@pytest.mark.parametrize("level", ["default", "high"])
def test_parsing_json_text_gives_what_decoding_and_parsing_gives(level):
    """The straight path from text (``parse_event_json``) and the ordinary one agree on
    every event of the generator, blanks and odd spellings included."""
    from producers.synthetic.population import EventGenerator

    for item in EventGenerator(level, seed=5).generate(2_000):
        text = json.dumps(item.event)
        assert _outcome(parse_event_json, text) == _outcome(
            lambda t: parse_event(json.loads(t)), text
        )


@pytest.mark.parametrize(
    "text",
    [
        # a withdrawal only: nothing to link, which only the context allows
        '{"event_id":"2","agency":"FIRE","retracts_event_id":"1","subject":{}}',
        '{"event_id":"1","agency":"police","subject":{"given_name":" NULL "}}',
        '{"event_id":"1","agency":"FIRE","subject":{"date_of_birth":19800101}}',
        '{"event_id":"1","agency":"FIRE","occurred_at":"0001-01-01T00:00:00+01:00",'
        '"subject":{"family_name":"Wren"}}',
        '{"event_id":"1","agency":"FIRE","retracts_event_id":"1","subject":{"family_name":"W"}}',
        "[1, 2]",
        '"an event"',
    ],
)
def test_parsing_json_text_keeps_every_outcome_and_message(text):
    assert _outcome(parse_event_json, text) == _outcome(lambda t: parse_event(json.loads(t)), text)


def test_text_that_is_not_json_raises_the_decoder_error():
    with pytest.raises(json.JSONDecodeError):
        parse_event_json('{"event_id": "1", ')
