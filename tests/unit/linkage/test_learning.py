"""Parameters learnt from the records as they arrive: guard rails, versions, and the redo of
records kept apart."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from mast_core.linkage import Parameters, Resolver
from mast_core.linkage.comparison import FIELDS, LEVELS
from mast_core.linkage.learning import RULES, Learner, LearningSchedule
from mast_core.linkage.parameters import probability
from tests.factories import person_event

DOB_RULE, NAME_RULE = (label for label, _key, _fields in RULES)


def _pattern(**levels: str) -> tuple[str, ...]:
    return tuple(levels.get(name, "missing") for name in FIELDS)


def _random_pairs(n: int = 20_000) -> Counter:
    """Strangers: names and birth dates disagree, a few share a town."""
    return Counter(
        {
            _pattern(
                given_name="disagree",
                family_name="disagree",
                date_of_birth="disagree",
                gender="agree",
                residence="different",
            ): n - n // 20 - n // 100,
            _pattern(
                given_name="disagree",
                family_name="disagree",
                date_of_birth="disagree",
                gender="disagree",
                residence="same_town",
            ): n // 20,
            _pattern(
                given_name="exact",
                family_name="disagree",
                date_of_birth="disagree",
                gender="agree",
                residence="different",
            ): n // 100,
        }
    )


def _learner(dob_pairs: Counter, name_pairs: Counter) -> Learner:
    learner = Learner(LearningSchedule(min_training_pairs=100))
    learner.random_patterns.update(_random_pairs())
    learner._random_total = sum(learner.random_patterns.values())
    for label, pairs in ((DOB_RULE, dob_pairs), (NAME_RULE, name_pairs)):
        learner.rule_patterns[label].update(pairs)
        learner._rule_totals[label] = sum(pairs.values())
    return learner


def _same_person(given: str = "exact", residence: str = "same_address", **more: str) -> dict:
    levels = dict(
        given_name=given,
        family_name="exact",
        date_of_birth="exact",
        gender="agree",
        residence=residence,
    )
    return {**levels, **more}


def test_too_few_pairs_teach_nothing_and_keep_the_parameters():
    base = Parameters.default()
    learner = Learner(LearningSchedule(min_training_pairs=300))
    parameters, estimate = learner.estimate(base, records=1000)
    assert set(estimate.refused) == {DOB_RULE, NAME_RULE}
    assert estimate.learnt == ()
    assert parameters.m == base.m
    assert learner.next_at == 2000  # the next estimate waits for as many records again


def test_a_good_sample_moves_m_towards_the_data_and_gets_a_new_version():
    base = Parameters.default()
    # the same person, whose residence disagrees a third of the time (people move), and
    # strangers born the same day
    dob_pairs = Counter(
        {
            _pattern(**_same_person()): 400,
            _pattern(**_same_person(residence="different")): 200,
            _pattern(
                given_name="disagree",
                family_name="disagree",
                date_of_birth="exact",
                gender="agree",
                residence="different",
            ): 400,
        }
    )
    name_pairs = Counter(
        {_pattern(**_same_person()): 300, _pattern(**_same_person(date_of_birth="typo")): 100}
    )
    parameters, estimate = _learner(dob_pairs, name_pairs).estimate(base, records=5000)
    assert "residence" in estimate.learnt
    assert parameters.m["residence"]["different"] > base.m["residence"]["different"]
    assert parameters.version != base.version
    assert estimate.version == parameters.version
    assert 0.4 < estimate.match_share[DOB_RULE] < 0.8


def test_a_fit_that_takes_every_pair_for_a_match_is_refused():
    base = Parameters.default()
    relatives = _pattern(
        given_name="disagree",
        family_name="exact",
        date_of_birth="exact",
        gender="disagree",
        residence="same_address",
    )
    learner = _learner(Counter({relatives: 900}), Counter({_pattern(**_same_person()): 900}))
    parameters, estimate = learner.estimate(base, records=5000)
    assert "degenerate" in estimate.refused[DOB_RULE]
    assert "degenerate" in estimate.refused[NAME_RULE]
    assert estimate.learnt == ()
    assert parameters.m == base.m


def test_a_household_fit_is_refused_for_the_identity_fields():
    """Relatives taken for one person: EM over pairs of a father and son who share a name
    and an address learns that birth dates usually disagree among "matches". The guard rail
    refuses that m, and the field keeps its previous one."""
    base = Parameters.default()
    namesakes = _pattern(**_same_person(date_of_birth="disagree", residence="different"))
    father_and_son = _pattern(**_same_person(date_of_birth="disagree"))
    learner = _learner(Counter(), Counter({father_and_son: 600, namesakes: 400}))
    parameters, estimate = learner.estimate(base, records=5000)
    assert "relatives" in estimate.refused["date_of_birth"]
    assert "date_of_birth" not in estimate.learnt
    assert parameters.m["date_of_birth"] == base.m["date_of_birth"]
    assert "residence" in estimate.learnt
    # whatever was accepted still says that agreement is evidence for, and disagreement
    # against, the same person
    for name in FIELDS:
        levels = [level for level in LEVELS[name] if level != "missing"]
        assert parameters.weights[name][levels[0]] > 0 > parameters.weights[name][levels[-1]]


def test_every_link_records_the_parameter_version_and_learning_changes_it():
    resolver = Resolver(learning=LearningSchedule(first_after=50, min_training_pairs=1))
    first = resolver.resolve(person_event())
    assert first.parameters_version == resolver.parameters.version
    for n in range(60):
        resolver.resolve(
            person_event(
                given=f"Name{n % 7}", family=f"Family{n % 5}", dob=f"19{50 + n % 9}-01-0{1 + n % 8}"
            )
        )
    assert resolver.stats.relearnt >= 1
    assert resolver.learner is not None and resolver.learner.history
    later = resolver.resolve(person_event(given="Zed", family="Quill", dob="1990-09-09"))
    assert later.parameters_version == resolver.parameters.version


def test_a_record_kept_apart_near_the_threshold_is_joined_when_judged_again():
    resolver = Resolver(replace(Parameters.default(), match_probability=0.9995), learning=None)
    first = resolver.resolve(person_event(line1="1 Elm Way", postcode="DY9 9ZZ", town="Dudley"))
    # the same name and birth date, but elsewhere and with the name cut short: not enough
    second = resolver.resolve(
        person_event(given="Marg", line1="40 Oak Road", postcode="B1 1AA", town="Birmingham")
    )
    assert second.new_person and second.person_id != first.person_id
    assert resolver.redo_queue, "kept for judging again"
    assert resolver.redo(person_event()) == []  # nothing has changed: nothing to do
    # new parameters (as learning would bring) in which that evidence is enough
    resolver.parameters = replace(
        resolver.parameters, match_probability=probability(second_weight(resolver) - 0.01)
    )
    resolver.scorer.use(resolver.parameters)
    merges = resolver.redo(person_event(event_id="trigger"))
    assert len(merges) == 1
    merge = merges[0]
    assert {merge.surviving_person_id, merge.retired_person_id} == {
        first.person_id,
        second.person_id,
    }
    assert merge.triggered_by_event_id == "trigger"
    assert merge.evidence
    assert resolver.person_of(second.person_id) == resolver.person_of(first.person_id)
    assert resolver.stats.redo_links == 1
    assert not resolver.redo_queue


def second_weight(resolver: Resolver) -> float:
    """The weight at which the kept-apart record links to the first now."""
    a, b = resolver.profiles[0], resolver.profiles[1]
    return resolver.scorer.weigh(b, a)[0]


def test_the_end_of_a_file_re_estimates_and_judges_the_redo_queue_again():
    resolver = Resolver(learning=LearningSchedule(first_after=10_000, min_training_pairs=1))
    events = [
        person_event(
            given=f"Name{n % 7}", family=f"Family{n % 5}", dob=f"19{50 + n % 9}-01-0{1 + n % 8}"
        )
        for n in range(40)
    ]
    for event in events:
        resolver.resolve(event)
    assert resolver.stats.relearnt == 0  # not due yet
    merges = resolver.settle(events[-1])
    assert resolver.stats.relearnt == 1
    assert all(merge.triggered_by_event_id == events[-1].event_id for merge in merges)


def _households(resolver: Resolver, homes: int, people: int) -> None:
    """``homes`` addresses with ``people`` relatives each: one family name, each their own
    given name and date of birth."""
    given = ["Ann", "Brian", "Carol", "Dennis", "Edith", "Frank"]
    for home in range(homes):
        for person in range(people):
            resolver.resolve(
                person_event(
                    given=given[person],
                    family=f"Family{home}",
                    dob=f"19{40 + 10 * person}-0{1 + person}-1{person}",
                    line1=f"{home + 1} Alder Street",
                    postcode=None,
                    town="Walsall",
                )
            )


def test_households_are_learnt_from_people_who_share_a_home_and_a_name():
    resolver = Resolver(learning=LearningSchedule(first_after=10**9))
    _households(resolver, homes=40, people=4)
    estimate = resolver.relearn()
    assert estimate is not None and estimate.household_weight > 2
    assert resolver.parameters.household_weight == estimate.household_weight


def test_one_person_per_address_learns_no_households():
    """Duplicates at one address (the same person twice) are not a household."""
    resolver = Resolver(learning=LearningSchedule(first_after=10**9))
    _households(resolver, homes=160, people=1)
    for home in range(0, 160, 4):  # a second record of some, with a typo in the name
        resolver.resolve(
            person_event(
                given="Anne",
                family=f"Family{home}",
                dob="1940-01-10",
                line1=f"{home + 1} Alder Street",
                postcode=None,
                town="Walsall",
            )
        )
    estimate = resolver.relearn()
    assert estimate is not None and estimate.household_weight == 0.0


def test_new_parameters_put_a_record_judged_far_from_its_match_back_on_the_redo_queue():
    """A record that started an identity keeps its nearest candidates' levels: after a
    re-estimate they are weighed again, and one now near the threshold is judged again."""
    resolver = Resolver(learning=LearningSchedule(first_after=10**9))
    first = resolver.resolve(person_event())
    second = resolver.resolve(
        person_event(given="Harriet", gender="M", line1="40 Oak Road", postcode="B1 1AA")
    )
    assert second.new_person and not resolver.redo_queue, "far from a match then"
    assert resolver.near, "its nearest candidate kept"
    lenient = replace(resolver.parameters, match_probability=probability(second_weight(resolver)))
    assert resolver.learner is not None
    resolver.learner.estimate = lambda _current, _records: (lenient, None)  # type: ignore[method-assign]
    resolver.relearn()
    assert resolver.redo_queue == {1}
    merges = resolver.redo(person_event(event_id="trigger"))
    assert len(merges) == 1
    assert resolver.person_of(second.person_id) == resolver.person_of(first.person_id)


def test_a_record_judged_again_brings_in_a_singleton_at_the_match_threshold():
    """The record judged again belongs to an identity that has grown, but the identity it
    now fits is one record: that record joining is a link, not a merge of two grown
    identities, and needs only the match threshold."""
    strict = replace(Parameters.default(), match_probability=0.9995)
    resolver = Resolver(strict, learning=LearningSchedule(first_after=10**9))
    alone = resolver.resolve(
        person_event(given="Marg", line1="40 Oak Road", postcode="B1 1AA", town="Birmingham")
    )
    grown = resolver.resolve(person_event())
    resolver.resolve(person_event(gender="U"))  # a second record of the same person
    assert grown.new_person and grown.person_id != alone.person_id
    weight = second_weight(resolver)
    assert weight < strict.match_threshold, "not linked at first"
    lenient = replace(strict, match_probability=probability(weight - 0.01))
    assert lenient.merge_threshold > weight, "not enough to merge two grown identities"
    assert resolver.learner is not None
    resolver.learner.estimate = lambda _current, _records: (lenient, None)  # type: ignore[method-assign]
    resolver.relearn()
    merges = resolver.redo(person_event(event_id="trigger"))
    assert len(merges) == 1
    assert resolver.person_of(alone.person_id) == resolver.person_of(grown.person_id)


def _three_birth_dates(resolver: Resolver) -> list[str]:
    """One name at one address with three birth dates: kept apart under the shipped
    parameters (a parent and child may share a name and a home)."""
    people = [
        resolver.resolve(person_event(dob=dob)).person_id
        for dob in ("1957-02-13", "1971-06-30", "1984-11-02")
    ]
    assert len(set(people)) == 3, "apart at first"
    return people


def _lenient_learning(resolver: Resolver) -> None:
    """A re-estimate after which the three records' pairs are each over the match
    threshold (as learning brings on data where no two people share a name and a home)."""
    weight = resolver.scorer.weigh(resolver.profiles[0], resolver.profiles[1])[0]
    lenient = replace(resolver.parameters, match_probability=probability(weight - 0.01))
    assert resolver.learner is not None
    resolver.learner.estimate = lambda _current, _records: (lenient, None)  # type: ignore[method-assign]
    resolver.relearn()


def test_a_record_that_fits_several_identities_joins_them_when_they_fit_one_another():
    """Each of the three fits the other two equally: joining one would guess, but every
    pair among them is now a link on its own, so they are one person."""
    resolver = Resolver(learning=LearningSchedule(first_after=10**9))
    people = _three_birth_dates(resolver)
    _lenient_learning(resolver)
    merges = resolver.settle(person_event(event_id="end"))
    assert len(merges) == 2
    assert len({resolver.person_of(person) for person in people}) == 1
    assert all(merge.evidence for merge in merges)


def test_identities_marked_different_keep_a_record_that_fits_both_apart():
    resolver = Resolver(learning=LearningSchedule(first_after=10**9))
    people = _three_birth_dates(resolver)
    resolver.mark_different(people[0], people[2])
    _lenient_learning(resolver)
    resolver.settle(person_event(event_id="end"))
    assert resolver.person_of(people[0]) != resolver.person_of(people[2])
