"""The headers every answer carries, set in one place for the whole application: the JSON
API, the web page and its files, and the operations endpoints. Nothing MAST answers may be
stored by a browser or a proxy (an answer can name people), framed by another site, sniffed
as another type or followed by a referrer; scripts run only from MAST itself.

The interactive documentation (``/docs``, ``/redoc``, served in development only) is left
out: it loads its scripts from a public CDN, which this policy forbids."""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
_ENCODED = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_NAMES = {name for name, _ in _ENCODED}


class SecurityHeaders:
    """Sets ``SECURITY_HEADERS`` on every HTTP answer (replacing any the answer had) except
    on the paths in ``exempt``."""

    def __init__(self, app: ASGIApp, exempt: Collection[str] = ()) -> None:
        self.app = app
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in _NAMES
                ]
                message["headers"] = kept + _ENCODED
            await send(message)

        await self.app(scope, receive, with_headers)
