"""The FastAPI app of ``qimage serve``: one static page and two JSON endpoints.

* ``GET /`` and ``/static/...``: the page (plain HTML, JS and SVG, no build step, offline);
* ``GET /api/model``: the served model, its image size and circuit summary;
* ``POST /api/explain``: a drawing (``pixels``: rows of grey levels 0..255, at most
  ``MAX_SIDE`` a side) with ``shots``, ``noise``, ``label`` and ``seed``; answers what the
  page shows (see :class:`qimage.serve.Explainer`).

The model is chosen at start-up; no request names a file. Bad requests get 413 (body over
``MAX_BODY`` bytes) or 422 with a one-line message, never a traceback.

Example:
    >>> from fastapi.testclient import TestClient  # doctest: +SKIP
    >>> client = TestClient(create_app(load_model(PRETRAINED)))  # doctest: +SKIP
    >>> client.post("/api/explain", json={"pixels": [[0] * 8] * 8}).status_code  # doctest: +SKIP
    422
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qimage.errors import QimageError
from qimage.serve.explain import Explainer
from qimage.train import ModelFile

__all__ = ["MAX_BODY", "MAX_SIDE", "ExplainRequest", "create_app"]

MAX_SIDE = 512  # pixels a side: a canvas downsampled by the page is 140
MAX_BODY = 4 * 2**20  # bytes: 512 x 512 grey levels written with a few digits each
_log = logging.getLogger("qimage.serve")

Level = Annotated[float, Field(ge=0, le=255, allow_inf_nan=False)]


class ExplainRequest(BaseModel):
    """One drawing and how to run the model on it."""

    model_config = ConfigDict(extra="forbid")

    pixels: list[Annotated[list[Level], Field(min_length=1, max_length=MAX_SIDE)]] = Field(
        min_length=1, max_length=MAX_SIDE
    )
    shots: int | None = Field(default=None, ge=10, le=10_000)
    noise: float = Field(default=0.0, ge=0, le=0.2, allow_inf_nan=False)
    label: int | None = Field(default=None, ge=0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


def _message(err: ValidationError) -> str:
    """The first few problems of a validation error, one line."""
    parts = []
    for item in err.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"][:2]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


async def _body(request: Request) -> bytes | None:
    """The request body, or ``None`` once it passes ``MAX_BODY`` bytes."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _parse(raw: bytes, n_classes: int) -> ExplainRequest:
    request = ExplainRequest.model_validate_json(raw)
    widths = {len(row) for row in request.pixels}
    if len(widths) != 1:
        raise QimageError("pixels: every row must have the same length")
    if request.label is not None and request.label >= n_classes:
        raise QimageError(f"label must be 0..{n_classes - 1}, got {request.label}")
    return request


def create_app(loaded: ModelFile) -> FastAPI:
    """The app serving ``loaded`` (never changed by a request)."""
    from qimage.serve import STATIC

    explainer = Explainer(loaded)
    description = explainer.describe()
    lock = threading.Lock()  # one explanation at a time: the model's float64 copy is shared
    app = FastAPI(title="qimage serve", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/model")
    def model() -> dict:
        return description

    @app.post("/api/explain")
    async def explain(request: Request) -> JSONResponse:
        raw = await _body(request)
        if raw is None:
            return _error(413, f"request body over {MAX_BODY} bytes")
        try:
            req = _parse(raw, len(explainer.names))
        except ValidationError as err:
            return _error(422, _message(err))
        except QimageError as err:
            return _error(422, str(err))
        return await _run(req)

    async def _run(req: ExplainRequest) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        def work() -> dict:
            with lock:
                return explainer.explain(
                    np.asarray(req.pixels, dtype=np.float64),
                    shots=req.shots,
                    noise=req.noise,
                    label=req.label,
                    seed=req.seed,
                )

        try:
            return JSONResponse(await run_in_threadpool(work))
        except QimageError as err:
            return _error(422, str(err))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        _log.error("unexpected %s on %s: %s", type(err).__name__, request.url.path, err)
        return _error(500, f"internal error ({type(err).__name__}); see the server's log")

    return app
