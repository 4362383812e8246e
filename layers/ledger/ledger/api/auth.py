"""Who may call: account routes need the account's owner or admin (JWT), signed-in routes any user's JWT;
service routes need IAM.

Every function checks its callers before its route validates anything (``gate.py``), on the raw event; the
routes check again, so a route is never reached by a caller the gate would refuse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger import settings
from ledger.domain.errors import Forbidden

if TYPE_CHECKING:
    from ledger.api.router import Router

ADMIN_ROLES = ("owner", "admin")


def check_account_admin(event: dict[str, Any], account_id: str | None) -> None:
    """The JWT's account claim must name this account and its role claim be owner or admin.

    A foreign account answers the same 403 as a member: whether the account exists is not revealed."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}
    claims = claims.get("claims") or {} if isinstance(claims, dict) else {}
    account = claims.get(settings.account_claim())
    role = claims.get(settings.role_claim())
    if not account_id or account != account_id or role not in ADMIN_ROLES:
        raise Forbidden("only the account's owner or admin may do this")


def check_signed_in(event: dict[str, Any]) -> None:
    """API Gateway's JWT authorizer already checked the token; refuse a request that did not pass it (a route
    left without its authorizer, a direct invoke)."""
    jwt = ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    if not isinstance(claims, dict) or not claims:
        raise Forbidden("this route is for signed-in users")


def check_service(event: dict[str, Any]) -> None:
    """API Gateway's IAM authorizer already checked the signature; refuse anything that did not pass it."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if not authorizer.get("iam"):
        raise Forbidden("this route is for the service's IAM-signed requests")


def require_account_admin(app: Router, account_id: str) -> None:
    check_account_admin(app.current_event.raw_event, account_id)


def require_service(app: Router) -> None:
    check_service(app.current_event.raw_event)
