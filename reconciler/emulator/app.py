"""The emulator's ASGI app: the Data Integrations API plus ``/_emulator/stats`` and ``/reset``.

Both sets of routes need the API key; ``/_emulator/*`` also refuses a foreign
``Origin`` (``ApiMiddleware``), so no web page elsewhere can wipe the state.

``create_app`` opens the store itself, so the app works without lifespan
events (as under ``httpx.ASGITransport``). A lifespan shutdown leaves it open,
so one app may be served again (test clients run a lifespan per use): its
owner closes it (``store_of(app).close()``), or garbage collection does.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from reconciler.emulator.faults import FaultMiddleware, FaultPolicy, RandomFaults, RateLimit
from reconciler.emulator.middleware import ApiMiddleware, BodyLimitMiddleware, RequestStats
from reconciler.emulator.openapi import (
    CREATE_EXAMPLES,
    SLUG_EXAMPLES,
    UPDATE_EXAMPLES,
    responses,
)
from reconciler.emulator.problems import (
    ApiProblem,
    FieldProblem,
    error_body,
    field_problems,
    validation_problem,
)
from reconciler.emulator.schemas import (
    ID_PATTERN,
    IMMUTABLE_FIELDS,
    CreateIntegrationBody,
    IntegrationList,
    IntegrationOutput,
    ListOrder,
    Ownership,
    UpdateIntegrationBody,
)
from reconciler.emulator.service import Service
from reconciler.emulator.store import Store

DEFAULT_API_KEY = "sk_test_emulator"
_DESCRIPTION = (
    "A local emulator of the WorkOS Pipes Data Integrations API, served by "
    "`reconciler emulator`. Authenticate with `Authorization: Bearer <api key>`."
)
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
_bearer = HTTPBearer(auto_error=False, description="The emulator's API key.")
Slug = Annotated[str, Path(description="The provider slug.", openapi_examples=SLUG_EXAMPLES)]


def create_app(
    *,
    api_key: str = DEFAULT_API_KEY,
    db_path: str | None = None,
    seed: list[dict[str, Any]] | None = None,
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    fault_seed: int | None = None,
    rate_limit: int | None = None,
    faults: FaultPolicy | None = None,
    hosts: Collection[str] = (),
) -> FastAPI:
    """Build the emulator: state in SQLite (``db_path``, or memory), optionally seeded.

    Faults: ``fail_rate`` of API requests fail at random (``RandomFaults``,
    repeatable with ``fault_seed``), or as ``faults`` decides; ``rate_limit``
    requests per second, then 429. ``hosts``: the names besides the loopback ones that a
    request's ``Host`` may give (any other is refused: DNS rebinding). Raises
    ``SeedError`` (a ``ValueError`` naming the entry) for an invalid seed.
    """
    if faults is None and fail_rate > 0:
        faults = RandomFaults(fail_rate, fault_seed)
    limit = RateLimit(rate_limit) if rate_limit is not None else None
    store = Store(db_path)
    service = Service(store)
    try:
        service.seed(seed or [])
    except BaseException:
        store.close()
        raise

    app = FastAPI(
        title="WorkOS Data Integrations API (reconciler emulator)",
        version="1.0.0",
        description=_DESCRIPTION,
        docs_url=None,  # only the API's paths, /openapi.json and /_emulator/* are served
        redoc_url=None,
    )
    stats = RequestStats()
    app.state.service = service
    app.state.stats = stats
    weakref.finalize(app, store.close)
    api_router = _api_router(service)
    # Starlette nests the last added outermost: ApiMiddleware (key check) runs first,
    # then the body cap, then faults.
    app.add_middleware(FaultMiddleware, stats=stats, policy=faults, rate_limit=limit)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        ApiMiddleware,
        api_key=api_key,
        latency_ms=latency_ms,
        stats=stats,
        hosts=hosts,
        routes=[(r.path, r.methods or set()) for r in api_router.routes if isinstance(r, APIRoute)],
    )
    app.add_exception_handler(ApiProblem, _problem_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.include_router(api_router)
    resettable: list[FaultPolicy | RateLimit] = [x for x in (faults, limit) if x is not None]
    app.include_router(_emulator_router(service, stats, resettable))
    return app


def store_of(app: FastAPI) -> Store:
    """The store behind an app made by ``create_app`` (to close it, or inspect it in tests)."""
    service = app.state.service
    assert isinstance(service, Service)
    return service.store


def _api_router(service: Service) -> APIRouter:
    router = APIRouter(dependencies=[Depends(_bearer)], tags=["data integrations"])

    @router.get(
        "/data-integrations",
        response_model=IntegrationList,
        responses=responses(200),
        summary="List data integrations",
    )
    async def list_data_integrations(
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        after: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        before: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        order: ListOrder = "desc",
        ownership: Ownership | None = None,
    ) -> JSONResponse:
        page = service.list(
            limit=limit, order=order, after=after, before=before, ownership=ownership
        )
        return JSONResponse(page)

    @router.post(
        "/data-integrations",
        status_code=201,
        response_model=IntegrationOutput,
        responses=responses(201, 404, 409, replayable=True),
        summary="Create a data integration",
    )
    async def create_data_integration(
        body: Annotated[CreateIntegrationBody, Body(openapi_examples=CREATE_EXAMPLES)],
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        created, replayed = service.create(body, idempotency_key or None)
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(created, status_code=201, headers=headers)

    for suffix, ownership in (("", "user"), ("/organization", "organization")):
        _add_item_routes(router, service, "/data-integrations/{slug}" + suffix, ownership)
    return router


def _add_item_routes(router: APIRouter, service: Service, path: str, ownership: str) -> None:
    """GET, PUT and DELETE of one integration, at its user or organization path."""
    owned = f"{ownership}-owned"

    @router.get(
        path,
        response_model=IntegrationOutput,
        responses=responses(200, 404),
        summary=f"Get a {owned} data integration",
    )
    async def get_data_integration(slug: Slug) -> JSONResponse:
        return JSONResponse(service.get(slug, ownership))

    @router.put(
        path,
        response_model=IntegrationOutput,
        responses=responses(200, 404),
        summary=f"Update a {owned} data integration (partial)",
    )
    async def update_data_integration(
        slug: Slug,
        body: Annotated[UpdateIntegrationBody, Body(openapi_examples=UPDATE_EXAMPLES)],
    ) -> JSONResponse:
        return JSONResponse(service.update(slug, ownership, body))

    @router.delete(
        path,
        status_code=204,
        response_class=Response,
        responses=responses(204),
        summary=f"Delete a {owned} data integration (idempotent)",
    )
    async def delete_data_integration(slug: Slug) -> Response:
        service.delete(slug, ownership)
        return Response(status_code=204)


def _emulator_router(
    service: Service, stats: RequestStats, resettable: Sequence[FaultPolicy | RateLimit]
) -> APIRouter:
    """``GET /_emulator/stats`` and ``POST /_emulator/reset``: key and origin are checked
    by ``ApiMiddleware`` before these run; neither is counted, delayed nor faulted."""
    router = APIRouter(prefix="/_emulator", include_in_schema=False)

    @router.get("/stats")
    async def emulator_stats() -> JSONResponse:
        return JSONResponse(stats.snapshot(service.store.count()))

    @router.post("/reset", status_code=204)
    async def emulator_reset() -> Response:
        service.store.reset()
        stats.reset()
        for part in resettable:  # a run after a reset sees the same faults as the first
            part.reset()
        return Response(status_code=204)

    return router


async def _problem_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _validation_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problem = validation_problem(field_problems(exc.errors(), IMMUTABLE_FIELDS))
    return JSONResponse(problem.body(), status_code=problem.status)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8): the 422 of any body
        # that is not JSON, so that one kind of mistake gets one answer.
        problem = validation_problem([FieldProblem("body", "json_invalid", "JSON decode error")])
        return JSONResponse(problem.body(), status_code=problem.status)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"No route for {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)
