"""Sign-in: the OAuth2 password flow, with the notice accepted and guessing locked out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from query_api.accounts import LockedOut
from query_api.answers import refusals
from query_api.context import NOTICE, Context, SignedIn
from query_api.security import Principal, issue_token

router = APIRouter(prefix="/api/v1", tags=["sign-in"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: str
    organisation: str


class Notice(BaseModel):
    notice: str


class Me(BaseModel):
    username: str
    role: str
    organisation: str


@router.get("/auth/notice", summary="The notice a user accepts at sign-in")
def sign_in_notice() -> Notice:
    return Notice(notice=NOTICE)


@router.post(
    "/auth/token",
    summary="Sign in (OAuth2 password flow); the notice must be accepted",
    responses=refusals(
        400,
        401,
        403,
        413,
        422,
        429,
        _401="Wrong username or password (the same answer for an unknown or disabled user).",
        _403="The notice was not accepted (`notice_accepted=true`).",
        _429="Too many failed sign-ins for this username; try again after Retry-After seconds.",
    ),
)
def sign_in(
    ctx: Context,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    notice_accepted: Annotated[bool, Form()] = False,
) -> Token:
    settings = ctx.settings
    try:
        user = ctx.users.check_sign_in(
            form.username,
            form.password,
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
        )
    except LockedOut:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(settings.login_window_minutes * 60)},
        ) from None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not notice_accepted:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"accept the notice to sign in: {NOTICE}")
    ctx.users.record_attempt(form.username, succeeded=True)
    principal = Principal(user.username, user.role, user.organisation)
    access_token, lifetime = issue_token(principal, ctx.key, settings.token_minutes)
    return Token(
        access_token=access_token,
        expires_in=lifetime,
        role=user.role,
        organisation=user.organisation,
    )


@router.get("/me", summary="Who is signed in", responses=refusals(401))
def who_am_i(who: SignedIn) -> Me:
    return Me(username=who.username, role=who.role, organisation=who.organisation)
