"""The routes' own router: what a route receives and what the caller gets back, from the event API Gateway
sends (HTTP API, payload 2.0)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from ledger.api.http import created, resolver
from ledger.api.router import Body, Query, Response


@dataclass(kw_only=True)
class Thing:
    amount: int
    at: datetime | None = None


app = resolver("public")
seen: dict[str, Any] = {}


@app.get("/things/<thing_id>")
def get_thing(
    thing_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    start: Annotated[datetime | None, Query(alias="from")] = None,
) -> Thing:
    seen.update(thing_id=thing_id, limit=limit, start=start)
    return Thing(amount=limit, at=datetime(2026, 1, 2, tzinfo=UTC))


@app.post("/things/<thing_id>")
def post_thing(thing_id: str, body: Annotated[Thing, Body()]) -> Response[Any]:
    return created(body)


@app.put("/things/<thing_id>/optional")
def put_optional(thing_id: str, body: Annotated[Thing | None, Body()] = None) -> dict[str, Any]:
    return {"had_body": body is not None}


def request(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None, **extra: Any
) -> Any:
    event = {
        "rawPath": path,
        "requestContext": {"http": {"method": method}, "stage": "$default"},
        "headers": {"content-type": "application/json"},
        "queryStringParameters": query,
        "body": None if body is None else json.dumps(body),
        **extra,
    }
    answer = app.resolve(event, None)
    return answer["statusCode"], json.loads(answer["body"]) if answer["body"] else None, answer


def test_path_and_query_parameters_reach_the_route_converted_and_the_model_comes_back_as_json() -> None:
    status, body, answer = request(
        "GET", "/things/a:b@c", query={"limit": "7", "from": "2026-01-01T00:00:00Z"}
    )
    assert status == 200 and answer["headers"]["Content-Type"] == "application/json"
    assert body == {"amount": 7, "at": "2026-01-02T00:00:00Z"}
    assert seen == {"thing_id": "a:b@c", "limit": 7, "start": datetime(2026, 1, 1, tzinfo=UTC)}
    assert request("GET", "/things/x")[1]["amount"] == 50  # the default


def test_a_named_stage_is_not_part_of_the_route() -> None:
    event = {"rawPath": "/live/things/x", "requestContext": {"http": {"method": "GET"}, "stage": "live"}}
    assert app.resolve(event, None)["statusCode"] == 200


def test_invalid_parameters_answer_422_naming_each_field() -> None:
    status, body, _ = request("GET", "/things/x", query={"limit": "0", "from": "soon"})
    assert status == 422 and body["error"] == "invalid_request"
    assert [d["field"] for d in body["details"]] == ["limit", "from"]
    assert body["message"].startswith("limit: ")
    status, body, _ = request("POST", "/things/x", body={"amount": "many"})
    assert status == 422 and body["details"][0]["field"] == "amount"
    status, body, _ = request("POST", "/things/x")
    assert status == 422 and body["message"] == "request: Field required"


def test_a_body_is_validated_by_its_model_and_an_optional_one_may_be_absent() -> None:
    status, body, _ = request("POST", "/things/x", body={"amount": 3})
    assert status == 201 and body == {"amount": 3, "at": None}
    assert request("PUT", "/things/x/optional")[1] == {"had_body": False}
    assert request("PUT", "/things/x/optional", body={"amount": 1})[1] == {"had_body": True}


def test_no_route_is_404_in_the_ledger_error_shape() -> None:
    assert request("DELETE", "/things/x")[:2] == (404, {"error": "not_found", "message": "no such route"})
    assert request("GET", "/things/x/y")[0] == 404
    assert request("GET", "/things/a#b")[0] == 404  # outside the characters a path parameter takes


def test_the_openapi_document_is_made_from_the_same_routes() -> None:
    document = json.loads(app.get_openapi_json_schema(title="t", version="1"))
    get = document["paths"]["/things/{thing_id}"]["get"]
    params = {p["name"]: p for p in get["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200 and "from" in params
    assert "requestBody" in document["paths"]["/things/{thing_id}"]["post"]


def test_a_body_that_is_not_utf8_or_not_base64_is_400_not_a_failure() -> None:
    # a public route's body is not read by the gate (the webhook checks its signature on the raw body first)
    for body, encoded in (("abc", True), ("////", True), ('{"amount": "\udcff"}', False)):
        event = {
            "rawPath": "/things/x",
            "requestContext": {"http": {"method": "POST"}, "stage": "$default"},
            "body": body,
            "isBase64Encoded": encoded,
        }
        answer = app.resolve(event, None)
        assert (answer["statusCode"], json.loads(answer["body"])["error"]) == (400, "malformed_json")
