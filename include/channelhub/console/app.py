"""The operations console's backend, mounted on Airflow's api-server (``plugins/channelhub_console.py``).

Airflow does not protect a plugin's endpoints, so every one here asks the :class:`Gate` who
the caller is (the same login as the UI: its session cookie or a bearer token) and which
DAGs they may read and edit (Airflow's auth manager, per DAG). Reads return only records of
DAGs the caller may read; actions need edit rights on every record they touch. A request
that changes something must carry ``X-Requested-With: channelhub-console`` (a cross-site
form cannot), and every refusal is a 4xx naming the field, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from channelhub.credentials import CredentialStore
from channelhub.credentials.checks import all_checks
from channelhub.exceptions import ConsoleRefused
from channelhub.hubdb.migrate import require_current
from channelhub.records import actions, erasure, query
from channelhub.records.actions import Actor
from channelhub.records.errors import ErrorStatus

PAGE = Path(__file__).with_name("page.html")
ACTION_HEADER = "X-Requested-With"
ACTION_HEADER_VALUE = "channelhub-console"
PAGING = {"page_size", "before", "after", "last"}
MAX_BODY = 1024 * 1024
M = TypeVar("M", bound=BaseModel)


class Gate(Protocol):
    """Who asks, and what they may read and edit (None: every DAG)."""

    def actor(self, request: Request) -> Actor: ...


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetryBody(_Strict):
    ids: list[int] | None = Field(default=None, max_length=actions.MAX_IDS)
    filter: query.ErrorFilter | None = None
    note: str | None = None


class SettleBody(_Strict):
    ids: list[int] | None = Field(default=None, max_length=actions.MAX_IDS)
    filter: query.ErrorFilter | None = None
    status: ErrorStatus
    note: str


class EditBody(_Strict):
    payload: Any
    note: str


class RunsBody(_Strict):
    dag_ids: list[str] = Field(max_length=1000)
    run_ids: list[str] = Field(max_length=1000)


class EraseBody(_Strict):
    email: str | None = Field(default=None, min_length=3, max_length=320)
    customer_id: str | None = Field(default=None, min_length=1, max_length=200)
    note: str


def _int(request: Request, name: str, low: int, high: int, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConsoleRefused(400, name, f"{name} is a whole number from {low} to {high}")
    return int(raw)


def _known_only(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ConsoleRefused(400, unknown[0], f"unknown parameter(s): {', '.join(unknown)}")


def error_filter(request: Request) -> query.ErrorFilter:
    """The filter of a list request's query string (``status`` may list several, comma-separated)."""
    _known_only(request, set(query.ErrorFilter.model_fields) | PAGING)
    raw: dict[str, Any] = {k: v for k, v in request.query_params.items() if k not in PAGING}
    if "status" in raw:
        raw["status"] = [s for s in raw["status"].split(",") if s]
    return query.ErrorFilter.model_validate(raw)


async def _body(request: Request, model: type[M]) -> M:
    """The JSON body of an action, read only after the caller was let in, and bounded."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_BODY:
        raise ConsoleRefused(413 if declared and declared.isdigit() else 411, "body",
                             f"an action's body has a Content-Length of at most {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ConsoleRefused(413, "body", f"an action's body is at most {MAX_BODY} bytes")
    return model.model_validate_json(body)


def _reader(request: Request) -> Actor:
    return request.app.state.gate.actor(request)


def _doer(request: Request) -> Actor:
    if request.headers.get(ACTION_HEADER) != ACTION_HEADER_VALUE:
        raise ConsoleRefused(403, ACTION_HEADER, f"an action needs the header {ACTION_HEADER}: {ACTION_HEADER_VALUE}")
    return request.app.state.gate.actor(request)


Reader = Annotated[Actor, Depends(_reader)]
Doer = Annotated[Actor, Depends(_doer)]


def create_app(engine_factory: Callable[[], sa.Engine], gate: Gate) -> FastAPI:
    app = FastAPI(title="Channel Hub console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.gate = gate
    state: dict[str, sa.Engine] = {}

    def engine() -> sa.Engine:
        if "engine" not in state:
            state["engine"] = engine_factory()
            require_current(state["engine"])
        return state["engine"]

    @app.exception_handler(ConsoleRefused)
    async def refused(_: Request, exc: ConsoleRefused) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=exc.status)

    @app.exception_handler(ValidationError)
    async def invalid(_: Request, exc: ValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return JSONResponse({"detail": f"{where}: {first['msg']}", "field": where}, status_code=400)

    @app.get("/", response_class=HTMLResponse)
    def page(actor: Reader) -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(), headers={"Cache-Control": "no-store"})

    @app.get("/api/me")
    def me(actor: Reader) -> dict[str, Any]:
        return {"username": actor.username, "can_edit": actor.editable is None or bool(actor.editable),
                "can_erase": actor.editable is None, "can_see_credentials": actor.readable is None}

    @app.get("/api/errors")
    def errors(request: Request, actor: Reader) -> dict[str, Any]:
        where = error_filter(request)
        return query.error_page(engine(), where, actor.readable,
                                page_size=_int(request, "page_size", 1, query.MAX_PAGE, 50),
                                before=_int(request, "before", 1, 2**62), after=_int(request, "after", 0, 2**62),
                                last=request.query_params.get("last") == "true")

    @app.get("/api/errors/count")
    def count(request: Request, actor: Reader) -> dict[str, Any]:
        _known_only(request, set(query.ErrorFilter.model_fields))
        return query.error_count(engine(), error_filter(request), actor.readable)

    @app.get("/api/errors/{error_id}")
    def error(error_id: int, actor: Reader) -> dict[str, Any]:
        found = query.error_detail(engine(), error_id, actor.readable)
        if found is None:
            raise ConsoleRefused(404, "id", f"no error {error_id}")
        found["can_edit"] = actor.editable is None or found["dag_id"] in actor.editable
        return found

    @app.post("/api/errors/retry")
    async def retry(request: Request, actor: Doer) -> dict[str, Any]:
        body = await _body(request, RetryBody)
        done = await run_in_threadpool(actions.retry, engine(), actor, ids=body.ids, where=body.filter,
                                       note=body.note)
        return {"count": done.count, "dag_ids": done.dag_ids}

    @app.post("/api/errors/settle")
    async def settle(request: Request, actor: Doer) -> dict[str, Any]:
        body = await _body(request, SettleBody)
        done = await run_in_threadpool(actions.settle, engine(), actor, body.status, body.note, ids=body.ids,
                                       where=body.filter)
        return {"count": done.count}

    @app.post("/api/errors/{error_id}/edit")
    async def edit(error_id: int, request: Request, actor: Doer) -> dict[str, Any]:
        body = await _body(request, EditBody)
        done = await run_in_threadpool(actions.retry_edited, engine(), actor, error_id, body.payload, body.note)
        return {"count": done.count, "dag_ids": done.dag_ids}

    @app.post("/api/runs")
    async def runs(request: Request, actor: Doer) -> dict[str, Any]:
        body = await _body(request, RunsBody)
        await run_in_threadpool(actions.record_run_now, engine(), actor, body.dag_ids, body.run_ids)
        return {"recorded": len(body.dag_ids)}

    @app.get("/api/loads")
    def loads(request: Request, actor: Reader) -> dict[str, Any]:
        _known_only(request, {"dag_id", "table", "status", "before", "page_size"})
        params = request.query_params
        return query.tenant_load_page(engine(), actor.readable, dag_id=params.get("dag_id"),
                                      table=params.get("table"), status=params.get("status"),
                                      before=_int(request, "before", 1, 2**62),
                                      page_size=_int(request, "page_size", 1, query.MAX_PAGE, 50))

    @app.get("/api/loads/{load_id}/report")
    def report(load_id: int, actor: Reader) -> Response:
        found = query.tenant_load_report(engine(), load_id, actor.readable)
        if found is None:
            raise ConsoleRefused(404, "id", f"no error report for load {load_id}")
        name, text = found
        return Response(text, media_type="text/tab-separated-values; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/api/activity")
    def activity(request: Request, actor: Reader) -> dict[str, Any]:
        _known_only(request, {"days", "owner"})
        return {"activity": query.activity_by_day(engine(), actor.readable, _int(request, "days", 1, 400, 14),
                                                  request.query_params.get("owner"))}

    @app.get("/api/overview")
    def overview(request: Request, actor: Reader) -> dict[str, Any]:
        _known_only(request, {"days", "owner"})
        return query.overview(engine(), actor.readable, request.query_params.get("owner"),
                              _int(request, "days", 1, 400, 14))

    @app.get("/api/audit")
    def audit(request: Request, actor: Reader) -> dict[str, Any]:
        _known_only(request, {"before"})
        return query.audit_page(engine(), None if actor.readable is None else actor.username,
                                before=_int(request, "before", 1, 2**62))

    @app.get("/api/credentials")
    def credentials(actor: Reader) -> dict[str, Any]:
        """Every push credential (grant, expiry, signing, rotation overlap; never a secret) and every
        pair's last connection check; for those who may read every DAG of the hub."""
        if actor.readable is not None:
            raise ConsoleRefused(403, "user", "the hub's credentials are shown to those who may read every DAG")
        return {"credentials": [info.shown() for info in CredentialStore(engine()).listed()],
                "checks": all_checks(engine())}

    @app.post("/api/erase")
    async def erase(request: Request, actor: Doer) -> dict[str, Any]:
        if actor.editable is not None:
            raise ConsoleRefused(403, "user", "erasing a person's data needs edit rights on every DAG of the hub")
        body = await _body(request, EraseBody)
        receipt = await run_in_threadpool(erasure.erase, engine(), actor.username, email=body.email,
                                          customer_id=body.customer_id, note=body.note)
        return {"receipt": receipt}

    return app
