"""How the API refuses input and reports its own failures without quoting what was sent.

Two rules, installed once on the application by ``install_error_handling``:

- A request that fails validation is a 422 that names each field (``loc``) and the problem
  (``type``, ``msg``), and never carries the submitted value: FastAPI's default answer quotes
  it as ``input`` (and ``ctx``), which echoes personal data and, for a NaN or a lone
  surrogate, cannot even be written as JSON (the 500s this module ends).
- An exception nothing handled leaves the application as an ``UnhandledError`` that says
  which exceptions were raised where, never their messages: the server logs what escapes
  the application, and a message may quote a request (FastAPI's validation error quotes the
  whole body it refused).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_LOC_TEXT = 64
"""A field name in an answer is cut to this length: the longest real one is far shorter."""


def is_text(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8 (so in a JSON answer, a log line, Avro):
    false for a string with a lone surrogate, which JSON's ``\\ud800`` escape can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _writable(text: str) -> str:
    """``text`` with any lone surrogate replaced, so it can be written as UTF-8."""
    return text if is_text(text) else text.encode("utf-8", "replace").decode("utf-8")


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) else _writable(str(part)[:MAX_LOC_TEXT])


def validation_problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors with only what names the field and the problem: ``type``, ``loc``
    and ``msg`` (pydantic's messages describe the rule, not the value)."""
    return [
        {
            "type": str(error.get("type", "invalid")),
            "loc": [_loc_part(part) for part in error.get("loc", ())],
            "msg": _writable(str(error.get("msg", "is not valid"))),
        }
        for error in errors
    ]


async def refuse_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse(
        {"detail": validation_problems(errors)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


class UnhandledError(Exception):
    """What leaves the application in place of an exception nothing handled: the types of
    the exceptions and the code they were raised in, never their messages."""


MAX_CHAIN = 6
MAX_FRAMES = 8


def describe(exc: BaseException) -> str:
    """``exc`` and the exceptions it was raised from or while handling, innermost frame
    first, by type and code location only."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < MAX_CHAIN:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)[-MAX_FRAMES:]
        where = " < ".join(
            f"{'/'.join(PurePath(f.filename).parts[-2:])}:{f.lineno} in {f.name}"
            for f in reversed(frames)
        )
        parts.append(f"{_kind(current)} at {where or 'an unknown place'}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "; raised while handling ".join(parts) + " (messages left out)"


def _kind(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    if isinstance(exc, BaseExceptionGroup):
        name += "[" + ", ".join(_kind(inner) for inner in exc.exceptions[:MAX_CHAIN]) + "]"
    return name


class HideExceptionValues:
    """Outermost of the application's own middleware: an exception from anything inside
    is replaced by an ``UnhandledError`` describing it, raised with no context, so the 500
    is answered as before (by Starlette) and the server logs a traceback without values."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            failure = UnhandledError(describe(exc))
        else:
            return
        raise failure  # outside the except block, so it carries no __context__


def install_error_handling(app: FastAPI) -> None:
    """Call after the application's other middleware are added, so this one wraps them."""
    app.add_exception_handler(RequestValidationError, refuse_invalid_request)
    app.add_middleware(HideExceptionValues)
