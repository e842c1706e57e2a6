"""API keys for partner systems that publish over HTTP instead of running a Kafka client.

A key looks like ``mast_<key id>_<secret>``: the id finds the row, the secret is compared
by its SHA-256 in constant time. Secrets are 256 random bits, so a fast hash is enough
(no password-style stretching); only the hash is stored and the key is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from mast_core.errors import MastError
from mast_core.events import Agency
from sinks.clickhouse.tables import PARTNER_KEYS, PartnerKeyRow, select_list

_KEY = re.compile(r"^mast_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_SELECT = "SELECT " + select_list(PartnerKeyRow._fields) + " FROM " + PARTNER_KEYS + " FINAL "  # noqa: S608 - constant names


class PartnerKeyError(MastError):
    reason = "partner_key"


@dataclass(frozen=True)
class Partner:
    key_id: str
    agency: Agency
    name: str
    created_at: datetime
    revoked: bool


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


class PartnerKeys:
    def __init__(self, client: Client, lock: threading.Lock | None = None) -> None:
        self.client = client
        self.lock = lock or threading.Lock()

    def issue(self, agency: str, name: str) -> tuple[Partner, str]:
        """A new key for one partner system; returns the key, which is not kept."""
        try:
            chosen = Agency(agency.strip().upper())
        except ValueError:
            raise PartnerKeyError(
                f"agency must be one of {', '.join(a.value for a in Agency)}"
            ) from None
        name = name.strip()
        if not name or len(name) > 128:
            raise PartnerKeyError("name the partner system (1 to 128 characters)")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        self._write(key_id, _digest(secret), chosen.value, name, now, False)
        return Partner(key_id, chosen, name, now, False), f"mast_{key_id}_{secret}"

    def verify(self, key: str | None) -> Partner | None:
        """The partner a presented key belongs to; None for a malformed, unknown or revoked
        key (the caller cannot tell which, so keys cannot be probed)."""
        match = _KEY.match(key or "")
        if match is None:
            return None
        row = self._row(match[1])
        if row is None or row.revoked:
            return None
        if not hmac.compare_digest(row.secret_hash, _digest(match[2])):
            return None
        return _partner(row)

    def revoke(self, key_id: str) -> Partner:
        row = self._row(key_id)
        if row is None:
            raise PartnerKeyError(f"no key {key_id}")
        self._write(row.key_id, row.secret_hash, row.agency, row.name, row.created_at, True)
        return _partner(row._replace(revoked=1))

    def list(self) -> list[Partner]:
        with self.lock:
            rows = self.client.query(_SELECT + "ORDER BY agency, name").result_rows
        return [_partner(PartnerKeyRow._make(row)) for row in rows]

    def _row(self, key_id: str) -> PartnerKeyRow | None:
        with self.lock:
            rows = self.client.query(
                _SELECT + "WHERE key_id = {id:String}", parameters={"id": key_id}
            ).result_rows
        return PartnerKeyRow._make(rows[0]) if rows else None

    def _write(
        self,
        key_id: str,
        secret_hash: str,
        agency: str,
        name: str,
        created_at: datetime,
        revoked: bool,
    ) -> None:
        row = PartnerKeyRow(
            key_id=key_id,
            secret_hash=secret_hash,
            agency=agency,
            name=name,
            created_at=created_at,
            revoked=int(revoked),
            updated_at=datetime.now(UTC),
        )
        with self.lock:
            self.client.insert(PARTNER_KEYS, [row], column_names=PartnerKeyRow._fields)


def _partner(row: PartnerKeyRow) -> Partner:
    return Partner(
        key_id=row.key_id,
        agency=Agency(row.agency),
        name=row.name,
        created_at=row.created_at,
        revoked=bool(row.revoked),
    )
