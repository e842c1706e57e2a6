"""Every route that shows or refuses something about people declares, in one ``Annotated``
dependency, the audit action it records (and, for a look-up, the purpose it requires): the
dependency authenticates the caller, checks the purpose and hands the route a ``Trail``
that records what was shown or refused, so a route says only what it looked up.

A request to such a route that fails validation (a missing or malformed part, refused by
FastAPI before the route or its dependency runs) is recorded all the same, found through
the same declaration: who asked, the action, ``refused``, the purpose declared, the person,
address or alert named, and each problem by field and rule, never the value sent. A request
without a valid token is not recorded (there is no one to record) and is answered as
before."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from query_api.audit import Entry
from query_api.context import ApiContext, Context, SignedIn, oauth2, signed_in
from query_api.errors import is_text, refuse_invalid_request, validation_problems
from query_api.security import Principal

MAX_PURPOSE = 64
"""A purpose is recorded cut to this length (the codes on the list are far shorter)."""
MAX_DETAIL = 500
MAX_NAMED = 64
"""A person, address or alert id, or another value named, longer than this is no id and is
not recorded."""
MAX_PROBLEMS = 20

Dependency = TypeVar("Dependency", bound=Callable[..., Any])
Asked = TypeVar("Asked")


@dataclass(frozen=True)
class Audited:
    action: str
    asked: tuple[str, ...] = ()
    """Path or query parameters recorded as what was asked."""
    person: str | None = None
    """The parameter naming the person asked about, recorded among ``person_ids``."""
    address: str | None = None


_DECLARED: dict[Callable[..., Any], Audited] = {}


def auditing(spec: Audited) -> Callable[[Dependency], Dependency]:
    """Marks a dependency as the one that declares its route's audit, so that a refusal by
    validation (before the dependency runs) is recorded with ``spec``."""

    def mark(dependency: Dependency) -> Dependency:
        _DECLARED[dependency] = spec
        return dependency

    return mark


@dataclass
class Trail:
    """One request's audit: who asked, for which action, with which purpose. Every entry a
    route records goes through ``record`` or ``refuse``, so none forgets the purpose."""

    ctx: ApiContext
    who: Principal
    spec: Audited
    purpose: str = ""
    detail: str = ""

    def record(
        self,
        outcome: str = "shown",
        *,
        action: str | None = None,
        asked: dict[str, Any] | None = None,
        person_ids: Sequence[str] = (),
        address_ids: Sequence[str] = (),
        event_ids: Sequence[str] = (),
    ) -> None:
        self.ctx.audit.record(
            self.who,
            Entry(
                action=action or self.spec.action,
                outcome=outcome,
                purpose=self.purpose,
                purpose_detail=self.detail,
                asked=dict(asked or {}),
                person_ids=person_ids,
                address_ids=address_ids,
                event_ids=event_ids,
            ),
        )

    def refuse(
        self, code: int, message: str, *, outcome: str = "refused", **recorded: Any
    ) -> NoReturn:
        """Records the refusal (``not_found`` for a 404 by the caller's choice), then
        answers ``code`` with ``message``."""
        self.record(outcome, **recorded)
        raise HTTPException(code, message)

    def require_purpose(
        self,
        purpose: str | None,
        detail: str,
        *,
        person_ids: Sequence[str] = (),
        address_ids: Sequence[str] = (),
    ) -> None:
        """Takes the declared purpose (surrounding space ignored) if it is on the configured
        list; otherwise (missing, empty, over-long, not on the list) 422 with the same
        answer on every route, and the refusal is audited with the person or address it
        concerned."""
        purpose = purpose.strip() if purpose is not None else None
        if purpose and purpose in self.ctx.settings.purposes:
            self.purpose, self.detail = purpose, detail
            return
        self.purpose = declared_purpose(purpose)
        self.detail = declared_purpose(detail, MAX_DETAIL)
        self.refuse(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"declare a purpose: one of {', '.join(self.ctx.settings.purposes)}",
            person_ids=person_ids,
            address_ids=address_ids,
        )


@dataclass(frozen=True)
class Declared(Generic[Asked]):
    """A look-up whose purpose was declared and accepted: its trail, and what it asks (an
    id, or a search's body)."""

    trail: Trail
    asked: Asked


def audit_of(action: str, *, asked: tuple[str, ...] = (), person: str | None = None) -> Any:
    """The dependency of a route that needs no purpose but records what it does (alert
    lists and actions, the audit itself, statistics): ``Annotated[Trail, audit_of(...)]``."""
    spec = Audited(action, asked, person)

    @auditing(spec)
    def trail(ctx: Context, who: SignedIn) -> Trail:
        return Trail(ctx, who, spec)

    return Depends(trail)


def declared_purpose(raw: object, limit: int = MAX_PURPOSE) -> str:
    """A purpose (or its detail) as the audit records it on every route: without
    surrounding space, cut to ``limit`` characters, and empty when it is not text."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()[:limit]
    return text if is_text(text) else ""


def _declarations(dependant: Any) -> Iterator[Audited]:
    for sub in getattr(dependant, "dependencies", ()):
        spec = _DECLARED.get(sub.call)
        if spec is not None:
            yield spec
        yield from _declarations(sub)


def declared_audit(request: Request) -> Audited | None:
    """The audit the matched route declares (None for a route that records nothing)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    return next(_declarations(dependant), None)


async def refuse_and_audit(request: Request, exc: Exception) -> JSONResponse:
    """The 422 of ``query_api.errors``, and for an audited route an audit entry."""
    answer = await refuse_invalid_request(request, exc)
    spec = declared_audit(request)
    context = getattr(request.app.state, "mast", None)
    if spec is not None and isinstance(context, ApiContext):
        token = await oauth2(request)
        await run_in_threadpool(_record, context, token, spec, request, exc)
    return answer


def _record(
    ctx: ApiContext, token: str | None, spec: Audited, request: Request, exc: Exception
) -> None:
    who = signed_in(ctx, token)
    if who is None:
        return
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = exc.body if isinstance(exc, RequestValidationError) else None
    problems = [
        ".".join(str(part) for part in problem["loc"]) + ": " + problem["type"]
        for problem in validation_problems(errors)[:MAX_PROBLEMS]
    ]
    record_refused(ctx, who, spec, request, body, problems)


def record_refused(
    ctx: ApiContext,
    who: Principal,
    spec: Audited,
    request: Request,
    body: object,
    problems: Sequence[str],
) -> None:
    """Records a request to the route ``spec`` declares as refused before its trail was
    made: the purpose sent (in ``body`` when it is a JSON object, else in the query), the
    parameters the route records and the person or address named, and ``problems`` (field
    and rule, never a value)."""
    sent: dict[str, Any] = body if isinstance(body, dict) else dict(request.query_params)
    values: dict[str, Any] = {**request.query_params, **request.path_params}

    def named(parameter: str | None) -> str | None:
        value = values.get(parameter) if parameter else None
        if isinstance(value, str) and len(value) <= MAX_NAMED and is_text(value):
            return value
        return None

    person, address = named(spec.person), named(spec.address)
    ctx.audit.record(
        who,
        Entry(
            action=spec.action,
            outcome="refused",
            purpose=declared_purpose(sent.get("purpose")),
            purpose_detail=declared_purpose(sent.get("purpose_detail"), MAX_DETAIL),
            asked={**{p: named(p) for p in spec.asked}, "problems": list(problems)},
            person_ids=[person] if person else [],
            address_ids=[address] if address else [],
        ),
    )
