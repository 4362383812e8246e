"""Who may call: account routes need the account's owner or admin (JWT); service routes need IAM."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ledger.domain.errors import Forbidden

ADMIN_ROLES = ("owner", "admin")


def require_account_admin(app: APIGatewayHttpResolver, account_id: str) -> None:
    """The JWT's account claim must name this account and its role claim be owner or admin.

    A foreign account answers the same 403 as a member: whether the account exists is not revealed."""
    claims = (
        app.current_event.raw_event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}) or {}
    ).get("claims") or {}
    account = claims.get(os.environ.get("ACCOUNT_CLAIM", "custom:account_id"))
    role = claims.get(os.environ.get("ROLE_CLAIM", "custom:role"))
    if account != account_id or role not in ADMIN_ROLES:
        raise Forbidden("only the account's owner or admin may do this")


def require_service(app: APIGatewayHttpResolver) -> None:
    """API Gateway's IAM authorizer already checked the signature; refuse anything that did not pass it."""
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer", {}) or {}
    if not authorizer.get("iam"):
        raise Forbidden("this route is for the service's IAM-signed requests")
