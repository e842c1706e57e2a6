"""Limits that keep one client from starving the others: the size of a request body, and
how many events one partner key may send over HTTP in a minute."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """413 before the body is read when its declared length is too large; a body sent
    without a length is read up to the limit first (413 past it) and then handed on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"the request body is over {self.max_bytes:,} bytes; send smaller batches"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class EventRate:
    """Events per key over the last minute (one process's view: each API process counts
    its own, so behind a load balancer the limit applies per process)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sent: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, events: int) -> float:
        """0 when ``events`` more may be sent now (and counts them); otherwise the seconds
        to wait before the batch would fit."""
        now = self._clock()
        with self._lock:
            window = self._sent.setdefault(key, deque())
            while window and window[0][0] <= now - 60:
                window.popleft()
            used = sum(count for _at, count in window)
            if used + events <= self.per_minute:
                window.append((now, events))
                return 0.0
            excess = used + events - self.per_minute
            freed = 0
            for at, count in window:
                freed += count
                if freed >= excess:
                    return max(1.0, at + 60 - now)
            return 60.0
