"""The app factory: thin routes (parse, call one function, render) and the error mapping —
input errors 400, bad credentials 401 without detail, unknown service 404, missing prefetch 412,
a body over the size limit 413, each with an OperationOutcome; never a 5xx for anything a client
sends."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backtriage import api
from backtriage.api import default_knowledge, parse_case
from backtriage.errors import InputError
from backtriage.fhir import fhir_codes, intake_questionnaire
from backtriage.knowledge import Knowledge
from backtriage.report import to_html, to_markdown
from backtriage.service.auth import Unauthorized, Verifier
from backtriage.service.feedback import FeedbackRequest
from backtriage.service.group_commit import GroupCommit
from backtriage.service.hooks import SERVICES, Caller, HookRequest
from backtriage.service.outcome import FHIR_JSON, operation_outcome
from backtriage.service.prefetch import PrefetchMissing
from backtriage.service.settings import Settings
from backtriage.service.store import Feedback, Store
from backtriage.web import router as web_router

log = logging.getLogger("backtriage.service")
INSECURE_WARNING = (
    "WARNING: --insecure-no-auth: CDS Hooks calls are NOT authenticated. Anyone who can reach "
    "this port can send patient data and read cards. Use only on a developer machine."
)


def create_app(
    settings: Settings | None = None,
    knowledge: Knowledge | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or Settings()
    knowledge = knowledge or default_knowledge()
    codes = fhir_codes(knowledge)
    store = store or Store(settings.db)
    caller = Caller(knowledge, codes, settings, store)
    verifier = Verifier(settings, store)
    if settings.insecure_no_auth:
        print(INSECURE_WARNING, file=sys.stderr)  # always seen, whatever the logging set-up
        if log.hasHandlers():  # and in the logs when there are any (else it would print twice)
            log.warning(INSECURE_WARNING)
    elif not settings.trust:
        log.warning("no --trust given: every CDS Hooks call will be refused (401)")

    app = FastAPI(
        title="backtriage",
        summary="Low back pain decision support: case -> assessment, and CDS Hooks 2.0",
        version=knowledge.version,
    )
    app.state.store = store
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(  # outside the limit, so a browser client can read a 413
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Accept"],
    )

    # Starlette builds a URL object for request.base_url on every call; what it depends on is
    # a handful of values, so the answer is kept per distinct set of them (bounded: the Host
    # header is the client's).
    base_urls: dict[tuple[Any, ...], str] = {}

    def base_url(request: Request) -> str:
        if settings.public_url:
            return settings.public_url.rstrip("/")
        scope = request.scope
        server = scope.get("server")
        key = (
            scope.get("scheme", "http"),
            tuple(server) if server is not None else None,
            next((value for name, value in scope["headers"] if name == b"host"), None),
            scope.get("app_root_path", scope.get("root_path", "")),
        )
        found = base_urls.get(key)
        if found is None:
            found = str(request.base_url).rstrip("/")
            if len(base_urls) < 64:
                base_urls[key] = found
        return found

    # A call that needs no network I/O (local SQLite store, keys from files, every prefetch key
    # sent) is under a millisecond of CPU: it runs on the event loop, store write included (a
    # WAL commit without fsync, shared by the calls of one loop turn), which spares thread
    # hand-offs and their contention for the GIL.  Anything that may wait on a network
    # (PostgreSQL, a JWKS URL, fetching prefetch from fhirServer) runs in the thread pool so it
    # cannot stall other requests.
    local_auth = not store.postgres and not any(t.is_url for t in settings.trust)
    commits = GroupCommit(store)

    async def client(request: Request) -> None:
        """Every CDS Hooks endpoint: a verified JWT whose aud is the URL called (either form,
        with or without a trailing slash, of an endpoint that answers both)."""
        await _verify(request, _slash_forms(base_url(request) + request.url.path))

    async def feedback_client(request: Request) -> None:
        """The feedback endpoint: a verified JWT whose aud is its own URL or that of the CDS
        Service it belongs to.  The spec's aud is "the URL of the CDS Service endpoint being
        invoked" (CDS Hooks 2.0 §Trusting CDS Clients), and its feedback URL is "constructed
        from the CDS Service endpoint and a path segment of 'feedback'" (§Feedback), so a
        conformant client may sign either; no other endpoint's URL is taken."""
        url = base_url(request) + request.url.path
        service = url.rstrip("/").removesuffix("/feedback")
        await _verify(request, _slash_forms(url) + _slash_forms(service + "/"))

    async def _verify(request: Request, audience: tuple[str, ...]) -> None:
        if settings.insecure_no_auth:
            return
        authorization = request.headers.get("authorization")
        if local_auth:
            verifier.verify(authorization, audience)
        else:
            await run_in_threadpool(verifier.verify, authorization, audience)

    @app.exception_handler(InputError)
    def _input_error(_: Request, exc: InputError) -> Response:
        return operation_outcome(400, "invalid", str(exc))

    @app.exception_handler(RequestValidationError)
    def _shape_error(request: Request, exc: RequestValidationError) -> Response:
        if isinstance(exc.body, bytes):  # FastAPI reads a body as JSON only when it is labelled so
            kind = (request.headers.get("content-type") or "no Content-Type")[:100]
            return operation_outcome(
                400,
                "structure",
                f"body: not read as JSON ({kind}); send it with Content-Type: application/json",
            )
        problems = []
        for error in exc.errors()[:5]:
            if error.get("type") == "json_invalid":
                problems.append(_json_problem(error, exc.body))
                continue
            loc = ".".join(str(step) for step in error.get("loc", ()) if step != "body")
            problems.append(f"{loc or 'body'}: {error.get('msg', 'invalid')}")
        return operation_outcome(400, "structure", "; ".join(problems))

    @app.exception_handler(Unauthorized)
    def _unauthorized(_: Request, __: Unauthorized) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(PrefetchMissing)
    def _precondition(_: Request, exc: PrefetchMissing) -> Response:
        return operation_outcome(412, "processing", f"prefetch {exc.key!r} {exc.why}")

    @app.exception_handler(HTTPException)
    def _http_error(_: Request, exc: HTTPException) -> Response:
        code = {404: "not-found", 405: "not-supported", 413: "too-long"}.get(
            exc.status_code, "processing"
        )
        return operation_outcome(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    def _server_error(_: Request, exc: Exception) -> Response:
        log.error("internal error: %s", type(exc).__name__)  # no message: it may hold patient data
        return operation_outcome(500, "exception", "internal error")

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "knowledge_version": knowledge.version}

    @app.post(
        "/assess",
        tags=["assess"],
        responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
    )
    def assess_case(request: Request, case: dict[str, Any] = Body(...)) -> Response:
        """Case format 1 -> the assessment (JSON), or the report with ``Accept: text/markdown``
        or ``text/html``."""
        parsed = parse_case(case, knowledge)
        result = api.assess_case(parsed, knowledge, date.today())
        accept = request.headers.get("accept", "")
        if "text/markdown" in accept:
            return PlainTextResponse(to_markdown(result, knowledge), media_type="text/markdown")
        if "text/html" in accept:
            return HTMLResponse(to_html(result, knowledge))
        return JSONResponse(result.to_json_dict())

    @app.get("/reports/{report_id}", tags=["assess"], response_class=HTMLResponse)
    def report(report_id: str) -> Response:
        """The web report behind a card's link (kept for ``report_ttl_days``)."""
        case = (
            store.report_case(report_id, settings.report_ttl_days * 86400)
            if len(report_id) <= 64
            else None
        )
        if case is None:
            raise HTTPException(404, "no such report (or it has expired)")
        result = api.assess_case(parse_case(case, knowledge), knowledge, date.today())
        return HTMLResponse(to_html(result, knowledge))

    @app.get("/fhir/Questionnaire/lbp-intake", tags=["fhir"])
    def questionnaire() -> Response:
        return JSONResponse(intake_questionnaire(knowledge), media_type=FHIR_JSON)

    # Each CDS Hooks endpoint also answers with a trailing slash ("/cds-services/", ".../{id}/"):
    # FastAPI's default is a 307 to the URL without it, and EHR clients rarely send a POST again
    # after a redirect.  The slash forms stay out of the OpenAPI description.
    @app.get("/cds-services", tags=["cds-hooks"], dependencies=[Depends(client)])
    @app.get("/cds-services/", dependencies=[Depends(client)], include_in_schema=False)
    def discovery() -> dict[str, Any]:
        return {"services": [service.discovery() for service in SERVICES.values()]}

    async def call(service_id: str, body: HookRequest, request: Request) -> Response:
        service = SERVICES.get(service_id)
        if service is None:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        args = (service, body, base_url(request), date.today())
        if not store.postgres and caller.prefetch_complete(service, body):
            result, record = caller.answer(*args)
            if record is not None:
                await commits.record(record)
        else:
            result = await run_in_threadpool(caller.call, *args)
        # plain JSON already: encoded once, compact and UTF-8, as JSONResponse would
        return Response(to_json(result), media_type="application/json")

    async def call_shortcut(request: Request) -> Response | None:
        """:func:`call` for a plain JSON body that is a valid service call (nearly every call):
        parsed and checked in one step, then the client's token, as FastAPI would.  None for
        anything else, which goes through FastAPI's own handling and its errors."""
        body = await _plain_json(request, HookRequest)
        if body is None:
            return None
        await client(request)
        return await call(request.path_params["service_id"], body, request)

    class HookCallRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            generic = super().get_route_handler()

            async def handler(request: Request) -> Response:
                return await call_shortcut(request) or await generic(request)

            return handler

    hooks = APIRouter(route_class=HookCallRoute)
    hooks.post("/cds-services/{service_id}", tags=["cds-hooks"], dependencies=[Depends(client)])(
        call
    )
    hooks.post(
        "/cds-services/{service_id}/", dependencies=[Depends(client)], include_in_schema=False
    )(call)
    app.include_router(hooks)

    @app.post(
        "/cds-services/{service_id}/feedback",
        tags=["cds-hooks"],
        dependencies=[Depends(feedback_client)],
    )
    @app.post(
        "/cds-services/{service_id}/feedback/",
        dependencies=[Depends(feedback_client)],
        include_in_schema=False,
    )
    def feedback(service_id: str, body: FeedbackRequest) -> dict[str, int]:
        if service_id not in SERVICES:
            raise HTTPException(404, f"no CDS service {service_id!r}")
        items = [
            Feedback(
                card=item.card,
                outcome=item.outcome,
                outcome_ts=item.outcomeTimestamp,
                override_code=(
                    item.overrideReason.reason.code
                    if item.overrideReason and item.overrideReason.reason
                    else None
                ),
                accepted_count=len(item.acceptedSuggestions or []),
            )
            for item in body.feedback
        ]
        return {"stored": store.add_feedback(service_id, items)}

    # The clinicians' web page (intake form, live assessment, report, handout) at "/".
    app.include_router(web_router)
    return app


def _slash_forms(url: str) -> tuple[str, ...]:
    """``url``, and the same URL without its trailing slash if it has one (the form of an
    endpoint that answers both a client may have signed)."""
    return (url, url.rstrip("/")) if url.endswith("/") else (url,)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413: at once when its Content-Length
    says so, else (a chunked body) as soon as the bytes received pass it, so no client can
    make a worker hold an unbounded body (they are read before the token is checked)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refusal()(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, self._refusal_text())  # answered by _http_error
            return message

        await self.app(scope, counted, send)

    def _refusal_text(self) -> str:
        return f"the request body is over {self.limit} bytes, the most this service reads"

    def _refusal(self) -> Response:
        return operation_outcome(413, "too-long", self._refusal_text())


async def _plain_json(request: Request, model: type[_Model]) -> _Model | None:
    """The body as ``model`` when it is sent as ``application/json`` and is valid; else None.

    For a valid body this is what FastAPI's body handling gives (its JSON parse, then the
    model's check), in one pass of pydantic's parser, about a tenth of a millisecond less per
    call.  Both parsers read JSON alike (the last of repeated keys wins; NaN, Infinity and big
    integers are accepted); any body either one refuses returns None, so FastAPI's handling,
    and the errors it gives, are the only ones a client ever sees."""
    kind = request.headers.get("content-type", "").partition(";")
    if kind[0].strip().lower() != "application/json" or kind[2].strip().lower() not in _UTF8:
        return None
    raw = await request.body()
    if not raw:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError:
        return None


_Model = TypeVar("_Model", bound=BaseModel)
_UTF8 = ("", "charset=utf-8", 'charset="utf-8"')


def _json_problem(error: dict[str, Any], body: Any) -> str:
    """Where a body that is not JSON goes wrong (the parser's words and the line and column;
    never the body's text, which may hold patient data), and what to send instead."""
    reason = str((error.get("ctx") or {}).get("error") or "JSON decode error")
    loc = error.get("loc") or ()
    pos = loc[-1] if loc and isinstance(loc[-1], int) else None
    where = ""
    if pos is not None and isinstance(body, str):
        line = body.count("\n", 0, pos) + 1
        column = pos - body.rfind("\n", 0, pos)
        where = f" at line {line}, column {column}"
    elif pos is not None:
        where = f" at character {pos}"
    return f"body: not valid JSON — {reason}{where}; send one JSON object"
