"""Passwords and tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106). Tokens are
signed JWTs that expire; the signing key comes from MAST_JWT_SECRET or, on one machine, is
generated once into the state folder (readable by its owner only), so tokens survive a
restart of the stack.
"""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mast_core.settings import Settings

_HASHER = PasswordHasher()
ALGORITHM = "HS256"
ROLES = ("practitioner", "manager", "admin", "steward", "dpo")
"""``steward``: the partnership's data-quality officer, who decides disputed records
(``query_api.stewards``). ``dpo``: the partnership's data protection officer, who reviews
unusual access (``query_api.access_review``)."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed. ``None`` (no such user) is checked against a
    dummy hash made with the same parameters and always fails, so that an unknown username
    costs the same time as a known one with a wrong password."""
    try:
        return _HASHER.verify(password_hash or dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made once per process (the API makes it at
    start-up, so the first unknown username is not slower than the next)."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def signing_key(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.state_dir / "api" / "jwt.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


@dataclass(frozen=True)
class Principal:
    """Who is asking: from a verified token."""

    username: str
    role: str
    organisation: str


def issue_token(principal: Principal, key: str, minutes: int) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    now = datetime.now(UTC)
    claims = {
        "sub": principal.username,
        "role": principal.role,
        "org": principal.organisation,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM), minutes * 60


def read_token(token: str, key: str) -> Principal | None:
    """The principal of a valid, unexpired token; None for anything else."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    role, organisation = claims.get("role"), claims.get("org")
    if role not in ROLES or not isinstance(organisation, str):
        return None
    return Principal(str(claims["sub"]), role, organisation)
