"""The OpenAPI document as this deployment answers: made once per application, because some
of what it must say is configuration (the purposes a look-up may declare).

Operation ids are the route functions' names (``search_persons``, ``get_person``), stable
across releases for generated clients; FastAPI's default joins the path and the method and
changes whenever a path does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from query_api.routes.persons import PURPOSES


def operation_id(route: APIRoute) -> str:
    return route.name


def _purposes(schema: dict[str, Any], codes: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": codes, "description": schema.get("description", "")}


def _state_purposes(node: Any, codes: list[str]) -> None:
    """Replaces every purpose marked by the routes with the configured list, and makes a
    query parameter that carries one required (a body marks its own ``required``)."""
    if isinstance(node, list):
        for item in node:
            _state_purposes(item, codes)
        return
    if not isinstance(node, dict):
        return
    if node.get("in") == "query" and PURPOSES in node.get("schema", {}):
        node["schema"] = _purposes(node["schema"], codes)
        node["required"] = True
    for key, value in node.get("properties", {}).items():
        if isinstance(value, dict) and PURPOSES in value:
            node["properties"][key] = _purposes(value, codes)
    for value in node.values():
        _state_purposes(value, codes)


def install_openapi(app: FastAPI, purposes: Sequence[str]) -> None:
    """``app.openapi`` returns the document with the configured purposes stated."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            made = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            _state_purposes(made, list(purposes))
            app.openapi_schema = made
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
