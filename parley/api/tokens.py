"""Your API tokens: create one (its secret is shown once), list them, revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from parley.accounts.models import ApiToken
from parley.accounts.selectors import token_of_user, tokens_for_user
from parley.accounts.services import token_issue, token_revoke
from parley.api.auth import caller, caller_user
from parley.api.errors import error_responses
from parley.api.schemas import JsonBody, Text
from parley.wire.errors import ParleyError
from parley.wire.text import MAX_SEQ

router = Router(tags=["tokens"])


class TokenCreate(JsonBody):
    name: Text = Field(default="", max_length=100, description="A name to tell your tokens apart, e.g. 'deploy bot'.")


class TokenOut(Schema):
    """An API token, without its secret."""

    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None = Field(description="When it was revoked; null while it is active.")
    active: bool


class TokenCreated(TokenOut):
    """A new token and its secret: store the secret now, it is never shown again."""

    secret: str = Field(description="Send it as 'Authorization: Bearer <secret>'.")


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
        active=token.is_active,
    )


@router.get(
    "/tokens",
    response={200: list[TokenOut], **error_responses()},
    operation_id="tokens_list",
    summary="List your API tokens",
)
def tokens_list(request: HttpRequest) -> list[TokenOut]:
    """Your tokens, newest first, revoked ones included."""
    return [token_out(token) for token in tokens_for_user(user=caller_user(request))]


TOKENS_MINT_TOKENS = (
    "A token cannot mint tokens: create tokens from a signed-in session (the session cookie with "
    "X-CSRFToken, as /api/docs does in a signed-in browser) or with 'manage.py issuetoken'."
)


@router.post(
    "/tokens",
    response={201: TokenCreated, **error_responses(403)},
    operation_id="tokens_create",
    summary="Create an API token",
)
def tokens_create(request: HttpRequest, payload: TokenCreate) -> Status[TokenCreated]:
    """A new token for you; the answer is the only time its secret is shown.

    Only a signed-in session may call this, never a bearer token: a stolen token that could mint
    others would outlive its own revocation.
    """
    if caller(request).token_id is not None:
        raise ParleyError("forbidden", TOKENS_MINT_TOKENS)
    issued = token_issue(user=caller_user(request), name=payload.name)
    return Status(201, TokenCreated(**token_out(issued.token).model_dump(), secret=issued.secret))


@router.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, **error_responses(404)},
    operation_id="tokens_revoke",
    summary="Revoke one of your API tokens",
)
def tokens_revoke(
    request: HttpRequest, token_id: Annotated[int, Path(ge=1, le=MAX_SEQ, description="The token's id.")]
) -> TokenOut:
    """The token stops working at once and the sockets it opened are closed. Revoking twice is harmless."""
    token = token_of_user(user=caller_user(request), token_id=token_id)
    if token is None:
        raise ParleyError("not_found", f"You have no API token with id {token_id}; GET /api/tokens lists yours.")
    token_revoke(token=token)
    token.refresh_from_db(fields=["revoked_at"])
    return token_out(token)
