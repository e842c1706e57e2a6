"""Splink (the Ministry of Justice's linkage library) and MAST on the same synthetic events.

Splink gets the same normalised fields MAST works from (its documentation asks for cleaned
input), is set up as its deduplication example recommends (blocking rules, comparisons
with term-frequency adjustment, u by random sampling, m by EM on two blocking rules), and
its clusters are taken at a match probability of 0.95. Both F1s and both rates are
printed; Splink's time includes training, as a real run would.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from mast_core.events import parse_event
from mast_core.linkage import Resolver
from mast_core.linkage.estimation import profiles_from_events
from mast_core.linkage.quality import pairwise_quality
from producers.synthetic.population import EventGenerator


def compare_with_splink(events: int, workdir: Path, seed: int) -> None:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    generated = list(EventGenerator("default", seed=seed).generate(events))
    parsed = [parse_event(item.event) for item in generated]
    truth = {item.event["event_id"]: item.person_id for item in generated}

    started = time.perf_counter()
    resolver = Resolver()
    ours = {event.event_id: resolver.resolve(event).person_id for event in parsed}
    ours = {k: resolver.person_of(v) for k, v in ours.items()}
    ours_seconds = time.perf_counter() - started
    ours_quality = pairwise_quality(ours, truth)

    profiles = profiles_from_events(parsed)
    frame = pd.DataFrame(
        {
            "unique_id": [event.event_id for event in parsed],
            "first_name": [p.given for p in profiles],
            "surname": [p.family for p in profiles],
            "dob": [
                p.dob.as_date().isoformat() if p.dob and p.dob.valid else None for p in profiles
            ],
            "postcode": [p.postcode for p in profiles],
            "address_id": [p.address_id for p in profiles],
            "gender": [None if p.gender == "U" else p.gender for p in profiles],
            "nhs_number": [p.nhs for p in profiles],
        }
    )
    frame["first_name_surname_concat"] = (
        (frame["first_name"].fillna("") + " " + frame["surname"].fillna(""))
        .str.strip()
        .replace("", None)
    )

    started = time.perf_counter()
    db_api = DuckDBAPI()
    table = db_api.register(frame, dataset_display_name="events")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("nhs_number"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name",
                "surname",
                forename_surname_concat_col_name="first_name_surname_concat",
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("address_id").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
            cl.ExactMatch("nhs_number"),
        ],
    )
    linker = Linker(table, settings, log_level=logging.WARNING)  # training narrates at INFO
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    clustered = clusters.as_pandas_dataframe()
    splink_seconds = time.perf_counter() - started
    theirs = dict(zip(clustered["unique_id"], clustered["cluster_id"].astype(str), strict=True))
    splink_quality = pairwise_quality(theirs, truth)

    print(f"\nSide by side on {events:,} events (default corruption, seed {seed}):")
    print(f"{'engine':<8} {'rec/s':>8} {'precision':>9} {'recall':>7} {'F1':>7}")
    for name, seconds, quality in (
        ("MAST", ours_seconds, ours_quality),
        ("Splink", splink_seconds, splink_quality),
    ):
        print(
            f"{name:<8} {events / seconds:>8,.0f} {quality.precision:>9.4f} "
            f"{quality.recall:>7.4f} {quality.f1:>7.4f}"
        )
    (workdir / "splink.json").write_text(json.dumps({"splink_f1": splink_quality.f1}))
