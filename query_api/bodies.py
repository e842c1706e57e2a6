"""The rules every JSON request body the API reads follows, in one base model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """Unknown fields refused, text stripped of surrounding space, numbers finite (JSON as
    Python reads it allows NaN and Infinity). A lone surrogate (the escape ``\\ud800``) is
    refused by every ``str`` field; refusals are answered by ``query_api.errors``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
