"""``qimage serve [MODEL_OR_RUN]``: a local page to draw a digit on and watch the model decide.

With no model it serves the small digits QNN shipped in the package. The page shows the
prepared image, the circuit with its actual gate values, the readout and how it becomes
class scores, the class probabilities (exact or under shots, with error bars, and under
depolarizing noise) and the parameter-shift gradient beside autograd's. Needs the
``serve`` extra (``pip install 'qimage[serve]'``). Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import sys
import threading
import webbrowser
from pathlib import Path

from qimage.cli.options import model_path
from qimage.errors import QimageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="draw a digit in the browser and watch the model decide",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument(
        "model",
        type=Path,
        nargs="?",
        help="model file or run folder (default: the bundled digits QNN)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(run=run_serve)


def _web():
    try:
        import uvicorn

        from qimage.serve.app import create_app
    except ImportError as err:
        raise QimageError(
            f"qimage serve needs the serve extra ({err.name} is missing): "
            "pip install 'qimage[serve]'"
        ) from None
    return uvicorn, create_app


def run_serve(args) -> int:
    import torch

    from qimage.serve import PRETRAINED
    from qimage.train import load_model

    if not 0 < args.port < 65536:
        raise QimageError(f"--port must be 1..65535, got {args.port}")
    uvicorn, create_app = _web()
    if args.threads is None:  # small circuits: one thread each is fastest and shares the CPU
        torch.set_num_threads(1)
    loaded = load_model(model_path(args.model) if args.model else PRETRAINED)
    app = create_app(loaded)  # refuses a model of non-image data before announcing it
    url = f"http://{args.host}:{args.port}/"
    print(f"qimage serve: {loaded.config.describe()} at {url} (Ctrl-C stops)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"qimage serve: warning: {args.host} exposes the page beyond this machine",
            file=sys.stderr,
        )
    if args.open:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
