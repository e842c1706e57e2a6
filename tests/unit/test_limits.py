"""The per-key event rate: a sliding minute, and how long to wait when a batch does not fit."""

from __future__ import annotations

from query_api.limits import EventRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batches_fit_until_the_minute_is_full_then_the_wait_is_named():
    clock = Clock()
    rate = EventRate(1000, clock)
    assert rate.admit("k", 600) == 0.0
    clock.now += 20
    assert rate.admit("k", 400) == 0.0
    clock.now += 10
    wait = rate.admit("k", 100)
    assert wait == 30.0  # the first batch leaves the window 60 s after it was sent
    assert rate.admit("other", 1000) == 0.0  # each key has its own minute
    clock.now += 31
    assert rate.admit("k", 100) == 0.0


def test_a_batch_larger_than_the_limit_is_never_admitted():
    rate = EventRate(10, Clock())
    assert rate.admit("k", 11) > 0


def test_a_body_without_a_length_is_cut_off_at_the_limit():
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from query_api.limits import BodyLimit

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"bytes": len(await request.body())})

    client = TestClient(BodyLimit(Starlette(routes=[Route("/", echo, methods=["POST"])]), 100))

    def chunks(count: int):
        for _ in range(count):
            yield b"x" * 30

    assert client.post("/", content=chunks(3)).json() == {"bytes": 90}
    refused = client.post("/", content=chunks(5))
    assert refused.status_code == 413
    assert client.post("/", content=b"y" * 101).status_code == 413
