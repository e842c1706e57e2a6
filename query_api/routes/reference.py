"""The lists a client offers its users: the purposes a look-up may declare, the agencies."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from mast_core.events import Agency
from query_api.answers import refusals
from query_api.context import Context, SignedIn

router = APIRouter(prefix="/api/v1", tags=["reference"], responses=refusals(401))


class Purpose(BaseModel):
    code: str
    label: str


@router.get("/purposes", summary="The purposes a look-up may declare")
def list_purposes(ctx: Context, _who: SignedIn) -> list[Purpose]:
    return [Purpose(code=code, label=label) for code, label in ctx.settings.purposes.items()]


@router.get("/agencies", summary="The partner agencies MAST knows")
def list_agencies(_who: SignedIn) -> list[Agency]:
    return list(Agency)
