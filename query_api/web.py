"""The web app for people: one page and its script and styles, served by the API's own
process. The page is a client of the JSON API, so it can do nothing the API would refuse.
Its headers (a Content-Security-Policy that allows scripts from MAST only, no framing, no
caching) are those of every answer, set by ``query_api.headers``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).with_name("static")


def mount_web_app(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
