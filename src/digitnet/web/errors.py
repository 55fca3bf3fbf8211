"""How the explorer answers a mistake: always a 4xx with one line, `{"detail": "..."}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DigitnetError

# What json.loads raised, for a body it gave up on before parsing (FastAPI then says only "400").
UNREADABLE_JSON = {UnicodeDecodeError: "it is not UTF-8 text", RecursionError: "it is nested too deeply",
                   ValueError: "a number in it has too many digits"}


# What a body should look like, by route, for "the body must be a JSON object, e.g. ...".
BODY_EXAMPLES = {"/api/jobs": '{"layers": [16, 16], "epochs": 30}', None: '{"pixels": [784 numbers in 0..1]}'}


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DigitnetError)
    async def user_mistake(request: Request, error: DigitnetError):
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        example = BODY_EXAMPLES.get(request.url.path, BODY_EXAMPLES[None])
        return JSONResponse({"detail": _describe_validation(error.errors(), example)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        reason = next((text for kind, text in UNREADABLE_JSON.items() if isinstance(error.__cause__, kind)), None)
        if error.status_code == 400 and reason is not None:
            return JSONResponse({"detail": f"the body is not valid JSON ({reason})"}, status_code=422)
        return await http_exception_handler(request, error)


def _describe_validation(errors, example: str) -> str:
    """Pydantic's error list -> one line: where each problem is and what was wrong (first three)."""
    lines = []
    for error in errors[:3]:
        # A key of the body is the sender's text: one with a line break in it would break the one line.
        location = [str(part) if str(part).isprintable() else repr(str(part)) for part in error.get("loc", ())
                    if part != "body"]
        where = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in location).lstrip(".")
        if error.get("type") == "json_invalid":
            lines.append(f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})")
        elif not where:
            lines.append(f"the body must be a JSON object, e.g. {example}")
        elif error.get("type") == "missing":
            lines.append(f"{where}: missing")
        else:
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more problems)" if len(errors) > 3 else ""
    return "; ".join(lines) + more
