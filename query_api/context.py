"""What the API's routes share: settings, the ClickHouse client (one per process: chDB allows
one engine, so ``mast up`` hands the sink's client over), users, the audit log, and the
dependencies that authenticate and authorise each request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated

from clickhouse_connect.driver.client import Client
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from mast_core.access_review.rules import AccessRules, load_access_rules
from mast_core.settings import Settings
from producers.publisher import InteractionPublisher
from query_api.accounts import UserStore
from query_api.audit import AuditLog
from query_api.corrections import CorrectionPublisher
from query_api.limits import EventRate
from query_api.partners import PartnerKeys
from query_api.search import LearntParameters
from query_api.security import Principal, dummy_hash, read_token, signing_key

NOTICE = (
    "MAST is for safeguarding duties only, and its use is fully audited. Every search and "
    "every record you open is recorded with your name, your organisation and the purpose "
    "you declare, and your organisation's managers and data protection officer can see it. "
    "Look only at what your current safeguarding work needs."
)

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass
class ApiContext:
    settings: Settings
    client: Client
    lock: threading.Lock
    users: UserStore
    audit: AuditLog
    key: str
    partners: PartnerKeys
    ingest_rate: EventRate
    search_parameters: LearntParameters
    """The linkage parameters person search scores with: the pipeline's newest, cached."""
    access_rules: AccessRules
    """The unusual-access rules, read at start so that a mistake in the file stops the API
    with one clear error rather than failing every review."""
    correction_timeout_s: float = 15.0
    """How long a steward's decision waits for Kafka to take its correction (503 past it)."""
    deciding: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Held while a dispute is decided (checked, published, recorded), so that two stewards
    deciding the same dispute at once in one process do not both succeed."""
    _publisher: InteractionPublisher | None = field(default=None, repr=False)
    _corrections: CorrectionPublisher | None = field(default=None, repr=False)
    _publisher_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def publisher(self) -> InteractionPublisher:
        """The producer for events partners send over HTTP, made on first use so that an API
        nobody publishes through never connects to Kafka."""
        with self._publisher_lock:
            if self._publisher is None:
                self._publisher = InteractionPublisher(self.settings)
            return self._publisher

    def corrections(self) -> CorrectionPublisher:
        """The producer for stewards' corrections, made on first use."""
        with self._publisher_lock:
            if self._corrections is None:
                self._corrections = CorrectionPublisher(self.settings, self.correction_timeout_s)
            return self._corrections

    @classmethod
    def create(
        cls, settings: Settings, client: Client, lock: threading.Lock | None = None
    ) -> ApiContext:
        lock = lock or threading.Lock()
        dummy_hash()  # made now, so the first sign-in of an unknown username is not slower
        return cls(
            settings,
            client,
            lock,
            UserStore(client, lock),
            AuditLog(client, lock),
            signing_key(settings),
            PartnerKeys(client, lock),
            EventRate(settings.ingest_events_per_minute),
            LearntParameters(client, lock, settings.search_parameters_refresh_s),
            load_access_rules(settings.access_rules_file),
        )


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.mast
    return ctx


Context = Annotated[ApiContext, Depends(context)]


def signed_in(ctx: ApiContext, token: str | None) -> Principal | None:
    """Who a token names, if it is valid and unexpired and its user is not disabled."""
    who = read_token(token, ctx.key) if token else None
    if who is not None:
        user = ctx.users.get(who.username)
        if user is not None and not user.disabled:
            return who
    return None


def principal(ctx: Context, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """The signed-in user; 401 without a valid, unexpired token or for a disabled user."""
    who = signed_in(ctx, token)
    if who is not None:
        return who
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "sign in first (the token is missing, expired or no longer valid)",
        headers={"WWW-Authenticate": "Bearer"},
    )


SignedIn = Annotated[Principal, Depends(principal)]
