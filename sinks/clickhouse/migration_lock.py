"""A lock held in ClickHouse itself, so that of several MAST processes starting together
(a deployment's API, sink and workers, each on its own machine) only one applies migrations.

ClickHouse has no advisory locks and no compare-and-set, so the lock is a queue of claims in
a table, ordered by the server's clock: each contender inserts a claim stamped with the
server's time, and the holder is the earliest live claim. Two claims made in the same instant
could each be briefly invisible to the other, so a contender that finds itself first waits a
moment (``settle_s``) and looks again before it goes ahead; every claim it missed is visible
by then. A claim lives for a lease, renewed by the holder before each statement it runs, and
is withdrawn when the holder is done; a holder that died on this machine is recognised at
once (its process is gone), one that died elsewhere when its lease runs out.

Migrations are also written to be re-runnable (see ``migrate``), so a lock lost in an
extreme case costs a repeated statement, not a broken schema.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from clickhouse_connect.driver.client import Client

from mast_core.errors import MastError

LOCK_TABLE = "schema_migrations_lock"
LEASE_S = 1800
"""How long a claim lives unless renewed: longer than any one statement of a migration (a
table rebuilt by copying its rows), since the holder renews only between statements."""
SETTLE_S = 1.0
"""How long a contender that finds itself first waits before it looks again: far longer than
a claim's insert can take to become visible."""
POLL_S = 0.5


class MigrationLockError(MastError):
    reason = "migration_lock"


@dataclass(frozen=True)
class Claim:
    token: str
    holder: str
    """``host:pid`` of the process that made it: names it in messages, and lets a process on
    the same machine see that the holder has died."""
    claimed_at: datetime


def _this_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class MigrationLock:
    """``with MigrationLock(client):`` — held inside the block; ``renew()`` between long
    steps."""

    def __init__(
        self,
        client: Client,
        *,
        lease_s: float = LEASE_S,
        settle_s: float = SETTLE_S,
        timeout_s: float | None = None,
        holder: str | None = None,
    ) -> None:
        self.client = client
        self.lease_s = lease_s
        self.settle_s = settle_s
        self.timeout_s = lease_s + 60.0 if timeout_s is None else timeout_s
        self.holder = holder or _this_holder()
        self.token = uuid.uuid4().hex
        self.held = False

    # The protocol -----------------------------------------------------------------------------
    def claim(self) -> None:
        """Join the queue (the server's clock orders it)."""
        self.client.command(
            f"INSERT INTO {LOCK_TABLE} SELECT {{token:String}}, {{holder:String}}, now64(6), "
            "addMilliseconds(now64(6), {lease:UInt64}), now64(6)",
            parameters={
                "token": self.token,
                "holder": self.holder,
                "lease": int(self.lease_s * 1000),
            },
        )

    def renew(self) -> None:
        """Extend the claim's lease from now."""
        self._rewrite("addMilliseconds(now64(6), {lease:UInt64})")

    def release(self) -> None:
        """Withdraw the claim (held or still queued)."""
        self._rewrite("toDateTime64(0, 6, 'UTC')")
        self.held = False

    def first(self) -> Claim | None:
        """The live claim that holds the lock now: the earliest whose lease has not run out
        and whose holder, when on this machine, is still running."""
        rows = self.client.query(
            "SELECT token, holder, claimed_at FROM (SELECT token, any(holder) AS holder, "  # noqa: S608 - constant table
            "min(claimed_at) AS claimed_at, argMax(expires_at, written_at) AS expires "
            f"FROM {LOCK_TABLE} GROUP BY token) WHERE expires > now64(6) "
            "ORDER BY claimed_at, token"
        ).named_results()
        for row in rows:
            claim = Claim(row["token"], row["holder"], row["claimed_at"])
            if claim.token == self.token or not _died_here(claim.holder):
                return claim
        return None

    def acquire(self) -> None:
        """Claim, then wait until this claim is first on two looks ``settle_s`` apart.

        Raises MigrationLockError, naming the holder, when another process holds the lock
        for longer than ``timeout_s``.
        """
        ensure_lock_table(self.client)
        self.claim()
        deadline = time.monotonic() + self.timeout_s
        renewed = time.monotonic()
        while True:
            first = self.first()
            if first is not None and first.token == self.token:
                time.sleep(self.settle_s)
                again = self.first()
                if again is not None and again.token == self.token:
                    self.held = True
                    return
                first = again
            if time.monotonic() > deadline:
                self.release()
                who = (
                    f"{first.holder}, since {first.claimed_at:%Y-%m-%d %H:%M:%S} UTC"
                    if first
                    else "?"
                )
                raise MigrationLockError(
                    f"another process ({who}) is applying ClickHouse migrations; waited "
                    f"{self.timeout_s:.0f}s. Try again once it has finished"
                )
            if time.monotonic() - renewed > self.lease_s / 3:  # keep this claim's place
                self.renew()
                renewed = time.monotonic()
            time.sleep(POLL_S)

    def __enter__(self) -> MigrationLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _rewrite(self, expires: str) -> None:
        self.client.command(
            f"INSERT INTO {LOCK_TABLE} SELECT token, any(holder), min(claimed_at), {expires}, "  # noqa: S608 - constant table and expressions
            f"now64(6) FROM {LOCK_TABLE} WHERE token = {{token:String}} GROUP BY token",
            parameters={"token": self.token, "lease": int(self.lease_s * 1000)},
        )


def ensure_lock_table(client: Client) -> None:
    client.command(
        f"CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (token String, holder String, "
        "claimed_at DateTime64(6, 'UTC'), expires_at DateTime64(6, 'UTC'), "
        "written_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY (token, written_at) "
        "TTL toDateTime(written_at) + INTERVAL 7 DAY"
    )


def _died_here(holder: str) -> bool:
    """Whether ``holder`` (``host:pid``) was a process on this machine that has ended."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
