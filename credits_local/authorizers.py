"""The HTTP API's authorizers, emulated: JWT for account routes, IAM (SigV4) for service routes.

Both refuse before any handler runs, with API Gateway's answers: 401 {"message": "Unauthorized"} for a
missing or invalid token, 403 {"message": "Forbidden"} for a missing or invalid signature. On success they
return what API Gateway puts into ``requestContext.authorizer``."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from credits_local.state import ServiceCredential

REGION = "us-east-1"  # the local stack's region (every part uses this one)

LOCAL_ACCOUNT_ID = "123456789012"
SIGNATURE_MAX_AGE = 15 * 60  # seconds either side of the request's X-Amz-Date, as AWS allows


class Refused(Exception):
    """The authorizer refused the request: ``status`` and API Gateway's message."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.message, self.reason = status, message, reason


def _unauthorized(reason: str) -> Refused:
    return Refused(401, "Unauthorized", reason)


def _forbidden(reason: str) -> Refused:
    return Refused(403, "Forbidden", reason)


# JWT


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audience: str


def mint_token(
    key: rsa.RSAPrivateKey, settings: JwtSettings, claims: Mapping[str, Any], expires_in: int = 3600
) -> str:
    """An RS256 token with the settings' issuer and audience and the given claims."""
    now = int(time.time())
    payload = {
        **claims,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + expires_in,
    }
    return jwt.encode(payload, key, algorithm="RS256")


def _claim_text(value: Any) -> str:
    """API Gateway hands claims to Lambda as strings (arrays as "[a b]")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return str(value)


def authorize_jwt(
    headers: Mapping[str, str], public_key: rsa.RSAPublicKey, settings: JwtSettings
) -> dict[str, Any]:
    """The ``jwt`` authorizer context of a request with a valid bearer token, else Refused (401)."""
    header = headers.get("authorization", "").strip()
    if not header:
        raise _unauthorized("no Authorization header")
    token = header[7:].strip() if header[:7].lower() == "bearer " else header
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise _unauthorized(f"invalid token: {error}") from None
    scopes = claims.get("scope")
    return {
        "jwt": {
            "claims": {name: _claim_text(value) for name, value in claims.items()},
            "scopes": scopes.split() if isinstance(scopes, str) else None,
        }
    }


# IAM (SigV4)

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def authorize_iam(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    credential: ServiceCredential,
    now: float | None = None,
    region: str = REGION,
) -> dict[str, Any]:
    """The ``iam`` authorizer context of a request SigV4-signed with the service credential, else Refused (403).

    The signature must be for this API's region, as API Gateway requires: one for another region is refused.

    The signature is recomputed with botocore's signer over the headers the request says it signed."""
    match = _AUTHORIZATION.match(headers.get("authorization", "").strip())
    if not match:
        raise _forbidden("no SigV4 Authorization header")
    access_key, _, scope = match["credential"].partition("/")
    day, signed_region, service, terminator = ([*scope.split("/"), "", "", "", ""])[:4]
    if access_key != credential.access_key_id:
        raise _forbidden("unknown access key")
    if signed_region != region:
        raise _forbidden(f"signed for region {signed_region or 'none'}, not {region}")
    if service != "execute-api" or terminator != "aws4_request":
        raise _forbidden(f"signed for {service or 'no service'}, not execute-api")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _forbidden("no valid X-Amz-Date header") from None
    if amz_date[:8] != day:
        raise _forbidden("the credential scope's date is not the request's")
    if abs((now if now is not None else time.time()) - signed_at.timestamp()) > SIGNATURE_MAX_AGE:
        raise _forbidden("the signature has expired")
    signed = match["signed"].split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        raise _forbidden("a signed header is missing")
    declared_hash = headers.get("x-amz-content-sha256")
    if declared_hash is not None and declared_hash != hashlib.sha256(body).hexdigest():
        raise _forbidden("the body does not match x-amz-content-sha256")

    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{raw_path}" + (f"?{raw_query}" if raw_query else ""),
        headers={name: headers[name] for name in signed},
        data=body,
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(credential.access_key_id, credential.secret_access_key), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise _forbidden("the signature does not match")
    user = "credits-local-service"
    return {
        "iam": {
            "accessKey": access_key,
            "accountId": LOCAL_ACCOUNT_ID,
            "callerId": access_key,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/{user}",
            "userId": access_key,
        }
    }


def sign_request(
    credential: ServiceCredential,
    method: str,
    url: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    region: str = "us-east-1",
) -> dict[str, str]:
    """The headers of a SigV4-signed execute-api request, as the SaaS back end sends them."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    credentials = Credentials(credential.access_key_id, credential.secret_access_key)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())
