"""The clinicians' web page: thin routes that read the form, call the core, and render.

    GET  /                  the intake form (empty)
    POST /                  form + assessment, a whole page (works with JavaScript off)
    POST /web/assessment    the assessment fragment that htmx swaps in as the form changes
    POST /web/report        the printable clinician report (the core's HTML report)
    POST /web/handout       the patient handout
    POST /web/clear         "Clear the form" with JavaScript off: asks first if anything is entered
    GET  /web/static/NAME   vendored assets (not patient data: cacheable)

Privacy: every request with patient data is a POST (nothing clinical in a URL), every page is
``Cache-Control: no-store``, and nothing here logs or keeps what was submitted.  Input the core
rejects (a case error, or text it cannot read) is shown beside the form with the core's message,
never as a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from backtriage.api import assess_cases, default_knowledge, parse_case
from backtriage.assessment import Assessment
from backtriage.errors import CaseError, InputError
from backtriage.knowledge import Knowledge
from backtriage.report import to_html
from backtriage.report.view import build as build_view
from backtriage.web import form as intake
from backtriage.web import handout as patient
from backtriage.web.highlight import passages

router = APIRouter(include_in_schema=False)

_ENV = Environment(
    loader=PackageLoader("backtriage.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)

# The page loads only its own script and style; patient data never goes to another origin.
_CSP_PAGE = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
# The core's standalone report carries its stylesheet inline (it must work as a single file).
_CSP_REPORT = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_PRIVATE = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STATIC = {"htmx.min.js": "text/javascript", "web.js": "text/javascript", "web.css": "text/css"}


@dataclass(frozen=True)
class Outcome:
    values: dict[str, str]  # what was submitted, to fill the form in again
    assessment: Assessment | None
    error: str | None
    notice: str | None = None  # said beside the assessment; not an error

    @property
    def empty(self) -> bool:
        return self.assessment is None and self.error is None


def _outcome(values: dict[str, str], knowledge: Knowledge, *, live: bool = False) -> Outcome:
    """The assessment of a submitted form, or the message that says what to fix.

    ``live``: the pane updated as the form is filled in.  There the STarT Back questions,
    answered one at a time, are left out until all nine are (and the pane says so) instead of
    replacing the assessment with an error at the first answer; a submit still needs all or none.
    """
    notice, read = None, values
    _, unanswered = intake.start_back(values)
    if live and unanswered:
        left = ", ".join(map(str, unanswered))
        notice = (
            f"STarT Back: not scored until all nine questions are answered (not answered: {left})."
        )
        read = {k: v for k, v in values.items() if k not in intake.START_BACK_NAMES}
    case, problems = intake.read(read)
    if not case and not problems:
        return Outcome(values, None, None, notice)
    try:
        parsed = parse_case(case, knowledge)
    except CaseError as exc:
        return Outcome(values, None, "; ".join([*problems, str(exc)]))
    if problems:
        return Outcome(values, None, "; ".join(problems))
    try:
        (assessment,) = assess_cases([parsed], knowledge, date.today())
    except InputError as exc:  # text the reader refuses: binary, NUL bytes, over the size limit
        return Outcome(values, None, str(exc))
    return Outcome(values, assessment, None, notice)


async def _read(request: Request) -> dict[str, str]:
    data = await request.form()
    # Last value wins, as for a single control; files are not part of this form.
    return {key: value for key, value in data.multi_items() if isinstance(value, str)}


def _context(
    outcome: Outcome, knowledge: Knowledge, *, oob: bool = False, confirm_clear: bool = False
) -> dict[str, Any]:
    labels = {fid: f.label for fid, f in knowledge.findings.items()}
    view = None if outcome.assessment is None else build_view(outcome.assessment, knowledge)
    layout = intake.layout(knowledge)
    return {
        "o": outcome,
        "v": outcome.values,
        "view": view,
        "layout": layout,
        "passages": []
        if outcome.assessment is None
        else passages(outcome.assessment, labels, intake.value_labels(layout)),
        "control_id": intake.control_id,
        "invalid": intake.invalid_fields(outcome.error) if outcome.error else [],
        "error": intake.in_form_terms(outcome.error, layout.labels) if outcome.error else None,
        "oob": oob,  # a fragment also refreshes the screen-reader status line outside it
        "confirm_clear": confirm_clear,  # the page opens with "Clear the form?" asked
    }


def _page(html: str, status: int = 200, csp: str = _CSP_PAGE) -> HTMLResponse:
    return HTMLResponse(
        html, status_code=status, headers={**_PRIVATE, "Content-Security-Policy": csp}
    )


@router.get("/", response_class=HTMLResponse)
def intake_page() -> HTMLResponse:
    knowledge = default_knowledge()
    context = _context(Outcome({}, None, None), knowledge)
    return _page(_ENV.get_template("page.html.j2").render(**context))


@router.post("/", response_class=HTMLResponse)
async def submit(request: Request) -> HTMLResponse:
    knowledge = default_knowledge()
    outcome = _outcome(await _read(request), knowledge)
    html = _ENV.get_template("page.html.j2").render(**_context(outcome, knowledge))
    return _page(html, 422 if outcome.error else 200)


@router.post("/web/assessment", response_class=HTMLResponse)
async def live(request: Request) -> HTMLResponse:
    knowledge = default_knowledge()
    outcome = _outcome(await _read(request), knowledge, live=True)
    # 200 even for a case error: htmx swaps only 2xx, and the message belongs in the pane.
    return _page(
        _ENV.get_template("assessment.html.j2").render(**_context(outcome, knowledge, oob=True))
    )


@router.post("/web/report", response_class=HTMLResponse)
async def report(request: Request) -> HTMLResponse:
    knowledge = default_knowledge()
    outcome = _outcome(await _read(request), knowledge)
    if outcome.assessment is None:
        return await _back_to_form(outcome, knowledge)
    return _page(to_html(outcome.assessment, knowledge), csp=_CSP_REPORT)


@router.post("/web/handout", response_class=HTMLResponse)
async def handout(request: Request) -> HTMLResponse:
    knowledge = default_knowledge()
    outcome = _outcome(await _read(request), knowledge)
    if outcome.assessment is None:
        return await _back_to_form(outcome, knowledge)
    sheet = patient.build(outcome.assessment, knowledge)
    return _page(_ENV.get_template("handout.html.j2").render(h=sheet))


@router.post("/web/clear", response_class=HTMLResponse)
async def clear(request: Request) -> Response:
    """The form's "Clear the form" without the page's script (which asks in a dialog, with no
    round trip): a form with nothing entered is cleared at once; one with entries comes back as
    it was, with the question open, so a click by mistake loses nothing."""
    knowledge = default_knowledge()
    outcome = _outcome(await _read(request), knowledge)
    if outcome.empty:
        return RedirectResponse("/", status_code=303, headers=_PRIVATE)
    context = _context(outcome, knowledge, confirm_clear=True)
    html = _ENV.get_template("page.html.j2").render(**context)
    return _page(html, 422 if outcome.error else 200)


async def _back_to_form(outcome: Outcome, knowledge: Knowledge) -> HTMLResponse:
    if outcome.empty:
        outcome = Outcome(outcome.values, None, "Nothing entered yet: fill in the form first.")
    html = _ENV.get_template("page.html.j2").render(**_context(outcome, knowledge))
    return _page(html, 422)


@router.get("/web/static/{name}")
def static(name: str) -> Response:
    media = _STATIC.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body = (resources.files("backtriage.web") / "static" / name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=3600"})
