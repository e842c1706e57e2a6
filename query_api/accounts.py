"""Users and sign-in attempts, kept in ClickHouse so every API process sees the same ones."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from mast_core.errors import MastError
from mast_core.events import Agency
from query_api.security import ROLES, hash_password, verify_password
from sinks.clickhouse.tables import LOGIN_ATTEMPTS, USERS, LoginAttemptRow, UserRow, select_list

MIN_PASSWORD_LENGTH = 12
SIGN_IN_LOCKS = 256
"""Sign-ins for one username are checked one at a time under one of this many locks (a
fixed number, so that guessing many usernames cannot grow memory)."""


class AccountError(MastError):
    reason = "account"


class LockedOut(AccountError):
    reason = "locked"


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    role: str
    organisation: str
    display_name: str
    disabled: bool


_SELECT = "SELECT " + select_list(UserRow._fields) + " FROM " + USERS + " FINAL"  # noqa: S608 - constant names


class UserStore:
    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()
        self._sign_in_locks = [threading.Lock() for _ in range(SIGN_IN_LOCKS)]

    def add(
        self,
        username: str,
        password: str,
        role: str,
        organisation: str,
        display_name: str = "",
    ) -> User:
        username = username.strip()
        if not username or len(username) > 64 or not username.isprintable():
            raise AccountError("a username is 1 to 64 printable characters")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if organisation not in Agency.__members__:
            raise AccountError(f"organisation must be one of {', '.join(Agency.__members__)}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
        if self.get(username) is not None:
            raise AccountError(f"user {username!r} exists")
        user = User(username, hash_password(password), role, organisation, display_name, False)
        self._write(user)
        return user

    def disable(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        disabled = User(
            user.username,
            user.password_hash,
            user.role,
            user.organisation,
            user.display_name,
            True,
        )
        self._write(disabled)
        return disabled

    def get(self, username: str) -> User | None:
        with self.lock:
            rows = self.client.query(
                _SELECT + " WHERE username = {u:String}",
                parameters={"u": username},
            ).result_rows
        return _user(rows[0]) if rows else None

    def all(self) -> list[User]:
        with self.lock:
            rows = self.client.query(_SELECT + " ORDER BY username").result_rows
        return [_user(row) for row in rows]

    def _write(self, user: User) -> None:
        row = UserRow(
            username=user.username,
            password_hash=user.password_hash,
            role=user.role,
            organisation=user.organisation,
            display_name=user.display_name,
            disabled=int(user.disabled),
            updated_at=datetime.now(UTC),
        )
        with self.lock:
            self.client.insert(USERS, [row], column_names=UserRow._fields)

    # Sign-in attempts -------------------------------------------------------------------------
    def check_sign_in(
        self, username: str, password: str, *, max_failures: int, window: timedelta
    ) -> User | None:
        """The user, when ``password`` is theirs and they are not disabled; otherwise None,
        and the failure is recorded. An unknown or disabled user costs the same password
        check as a known one. ``LockedOut`` (nothing checked) once ``max_failures`` failures
        since the last success are within ``window``.

        Counting, checking and recording a failure happen under one lock per username, so
        guesses sent at the same time are taken one after another and no more than
        ``max_failures`` are ever checked (by this process: API processes that share the
        ClickHouse server each keep their own locks, and each checks at most as many)."""
        with self._sign_in_locks[hash(username) % SIGN_IN_LOCKS]:
            if self.recent_failures(username, window) >= max_failures:
                raise LockedOut("too many failed sign-ins")
            user = self.get(username)
            right = verify_password(user.password_hash if user else None, password)
            if user is None or user.disabled or not right:
                self.record_attempt(username, succeeded=False)
                return None
            return user

    def record_attempt(self, username: str, succeeded: bool) -> None:
        row = LoginAttemptRow(username=username, at=datetime.now(UTC), succeeded=int(succeeded))
        with self.lock:
            self.client.insert(LOGIN_ATTEMPTS, [row], column_names=LoginAttemptRow._fields)

    def recent_failures(self, username: str, window: timedelta) -> int:
        """Failures since the last success within the window."""
        since = datetime.now(UTC) - window
        with self.lock:
            rows = self.client.query(
                "SELECT count() FROM login_attempts "
                "WHERE username = {u:String} AND succeeded = 0 "
                "AND at > {since:DateTime64(3, 'UTC')} "
                "AND at > (SELECT max(at) FROM login_attempts "
                "          WHERE username = {u:String} AND succeeded = 1)",
                parameters={"u": username, "since": since},
            ).result_rows
        return int(rows[0][0]) if rows else 0


def _user(values: Sequence[Any]) -> User:
    row = UserRow._make(values)
    return User(
        username=str(row.username),
        password_hash=str(row.password_hash),
        role=str(row.role),
        organisation=str(row.organisation),
        display_name=str(row.display_name),
        disabled=bool(row.disabled),
    )
