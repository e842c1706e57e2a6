"""``mast demo`` and ``mast down``: the whole stack on the embedded defaults with a synthetic
region loaded, demo users, and where to look; and stopping it again.

The stack runs as a background ``mast up`` (its log in the state folder), so the terminal
is free and the web app keeps serving after the demo command ends. Running the demo again
reuses the running stack and sends the same region again, which the pipeline recognises
(deterministic event ids) and ignores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from mast_cli.console import err, fail, progress_bar, say
from mast_core.events import parse_event
from mast_core.settings import Settings, get_settings
from messaging.broker import LocalKafka
from producers.publisher import InteractionPublisher
from producers.synthetic.region import RegionGenerator
from producers.synthetic.scenarios import SCENARIOS

READY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    organisation: str


DEMO_USERS = (
    DemoUser("asc.practitioner", "demo-asc-practitioner", "practitioner", "ADULT_SOCIAL_CARE"),
    DemoUser("asc.manager", "demo-asc-manager-1", "manager", "ADULT_SOCIAL_CARE"),
    DemoUser("police.practitioner", "demo-police-practitioner", "practitioner", "POLICE"),
    DemoUser("police.manager", "demo-police-manager", "manager", "POLICE"),
    DemoUser("data.steward", "demo-data-steward", "steward", "OTHER"),
    DemoUser("partnership.dpo", "demo-partnership-dpo", "dpo", "OTHER"),
)
"""Fixed so that a demo can be followed from a script; the stack listens on loopback only
unless MAST_API_HOST says otherwise. Never use these outside a demo."""


def _files(settings: Settings) -> tuple[Path, Path, Path]:
    folder = settings.state_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "stack.pid", folder / "stack.log", folder / "broker-started"


def _status(settings: Settings) -> dict[str, Any] | None:
    from query_api.ops import operator_headers

    url = f"http://{_host(settings)}:{settings.api_port}/api/v1/status"
    request = urllib.request.Request(url, headers=operator_headers(settings.operator_token))
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310
            data: dict[str, Any] = json.load(response)
            return data
    except (OSError, ValueError):
        return None


def _host(settings: Settings) -> str:
    return "127.0.0.1" if settings.api_host in ("0.0.0.0", "") else settings.api_host  # noqa: S104


def _running(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _mast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "mast_cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _add_users() -> None:
    """In child processes: the embedded database allows one process per folder, and the
    stack (started next) must be that process."""
    for user in DEMO_USERS:
        added = _mast(
            "users",
            "add",
            "--username",
            user.username,
            "--password",
            user.password,
            "--role",
            user.role,
            "--org",
            user.organisation,
        )
        if added.returncode not in (0, 2) or (
            added.returncode == 2 and "exists" not in added.stderr
        ):
            fail(f"could not add the demo user {user.username}: {added.stderr.strip()}")


def _start_stack(settings: Settings, pid_file: Path, log_file: Path) -> int:
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mast_cli", "up"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # keeps serving when the demo's terminal goes
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        status = _status(settings)
        if status is not None and status.get("ready"):
            return process.pid
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace").splitlines()[-15:]
            fail("the stack stopped while starting; its log ends:\n" + "\n".join(tail))
        if time.monotonic() > deadline:
            fail(f"the stack was not ready after {READY_TIMEOUT_S:.0f} s; see {log_file}")
        time.sleep(0.5)


def _load_region(settings: Settings, people: int, seed: int) -> int:
    say(f"Generating a West Midlands-like region: {people:,} people over a year…")
    started = time.perf_counter()
    events = RegionGenerator(people=people, seed=seed).generate()
    say(f"  {len(events):,} events from 8 agencies ({time.perf_counter() - started:.0f} s)")
    publisher = InteractionPublisher(settings)
    with progress_bar() as progress:
        task = progress.add_task("Publishing", total=len(events))

        def parsed() -> Any:
            for number, item in enumerate(events, start=1):
                if number % 2000 == 0:
                    progress.update(task, completed=number)
                yield parse_event(item.event)

        delivery = publisher.publish(parsed(), timeout=120)
    if delivery.failed:
        fail(f"Kafka did not acknowledge {len(delivery.failed):,} events; run mast demo again")
    say(f"  published {delivery.delivered:,} events to {settings.interactions_topic}")
    return len(events)


def _wait_for_pipeline(settings: Settings, published: int) -> dict[str, Any]:
    """Until every stage has caught up: no consumer lag, and nothing new stored for a while."""
    say("Linking records into people and households, raising alerts, storing…")
    deadline = time.monotonic() + max(600.0, published / 200)
    last_shown = 0.0
    settled_since: float | None = None
    previous = -1
    with progress_bar() as progress:
        task = progress.add_task("Linking", total=published)
        while True:
            status = _status(settings)
            if not (status and status.get("counts")):
                # busy linking, the stack (or its worker) did not answer in time: wait, and
                # do not show a count of 0 between higher ones
                if time.monotonic() > deadline:
                    fail("the pipeline did not catch up in time; `mast status` shows where it is")
                time.sleep(1.0)
                continue
            counts = status.get("counts", {})
            done = int(counts.get("resolved", 0)) + int(counts.get("duplicates", 0))
            stored = int(counts.get("sink_resolved_interactions", 0))
            progress.update(task, completed=min(done, published))
            lag = status.get("consumer_lag", {})
            # the lag is measured every few seconds, so it can be zero from before the last
            # merges and alerts were published: they must be stored too
            written = int(counts.get("sink_identity_merges", 0)) >= int(
                counts.get("merges", 0)
            ) and int(counts.get("sink_alerts", 0)) >= int(counts.get("alerts", 0))
            caught_up = (
                bool(lag) and all(v == 0 for v in lag.values()) and done >= published and written
            )
            now = time.monotonic()
            if caught_up and stored == previous:
                settled_since = settled_since or now
                if now - settled_since > 3:
                    return status
            else:
                settled_since = None
            previous = stored
            if not err.is_terminal and now - last_shown > 15:
                say(f"  {done:,} of {published:,} events linked, {stored:,} stored")
                last_shown = now
            if now > deadline:
                fail("the pipeline did not catch up in time; `mast status` shows where it is")
            time.sleep(1.0)


def demo(
    people: Annotated[int, typer.Option(help="People in the synthetic region.")] = 75_000,
    seed: Annotated[int, typer.Option(help="Seed of the region (same seed, same region).")] = 1,
) -> None:
    """Set up and start the whole stack on this machine, load a synthetic region with the
    three named cases, create demo users, and print where to sign in."""
    settings = get_settings()
    pid_file, log_file, broker_mark = _files(settings)
    pid = _running(pid_file)
    if pid is not None and _status(settings) is not None:
        say(f"The demo stack is already running (pid {pid}); sending the region again.")
    else:
        if _status(settings) is not None:
            fail(
                f"something already serves on port {settings.api_port} (is `mast up` running? "
                "stop it first, or set MAST_API_PORT)"
            )
        say("Starting the local Kafka broker (the first time, Maven assembles it)…")
        broker = LocalKafka(settings)
        if not broker.status().running:
            broker.start(say=say)
            broker_mark.write_text("1")
        say("Creating the demo users…")
        _add_users()
        say(f"Starting MAST in the background (log: {log_file})…")
        pid = _start_stack(settings, pid_file, log_file)
        say(f"  ready (pid {pid})")
    published = _load_region(settings, people, seed)
    status = _wait_for_pipeline(settings, published)
    counts = status.get("counts", {})
    _summary(settings, counts)


def _summary(settings: Settings, counts: dict[str, Any]) -> None:
    url = f"http://{_host(settings)}:{settings.api_port}/"
    say("")
    say(
        f"MAST is serving at {url}  ({int(counts.get('resolved', 0)):,} events linked, "
        f"{int(counts.get('merges', 0)):,} merges, {int(counts.get('alerts', 0)):,} alerts "
        "in this run)"
    )
    say("")
    say("Demo users (username / password):")
    for user in DEMO_USERS:
        label = user.organisation.replace("_", " ").lower()
        where = "for the partnership" if user.role in ("steward", "dpo") else f"in {label}"
        say(f"  {user.username:<22} {user.password:<26} {user.role} {where}")
    say("")
    say("Where to look (declare a purpose, e.g. self-neglect review, when asked):")
    for make in SCENARIOS.values():
        scenario = make()
        search = ", ".join(f"{v}" for v in scenario.search.values())
        say(f"  - {scenario.title}")
        say(f"    {scenario.story}")
        say(f"    Search people: {search}   Search addresses: {scenario.address}")
    say("")
    say("Managers see every look-up of their organisation under Audit.")
    say("Stop everything with: .venv/bin/mast down")


def down() -> None:
    """Stop the stack `mast demo` started (and the broker, if the demo started it)."""
    settings = get_settings()
    pid_file, _log_file, broker_mark = _files(settings)
    pid = _running(pid_file)
    if pid is None:
        say("No demo stack is running.")
    else:
        say(f"Stopping MAST (pid {pid})…")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90
        while _running(pid_file) is not None and time.monotonic() < deadline:
            time.sleep(0.5)
        if _running(pid_file) is not None:
            os.kill(pid, signal.SIGKILL)
            say("  it did not stop within 90 s and was killed")
        else:
            say("  stopped")
    pid_file.unlink(missing_ok=True)
    if broker_mark.exists():
        LocalKafka(settings).stop(say=say)
        broker_mark.unlink()
