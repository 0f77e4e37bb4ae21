"""Server-side latency of one ``qimage serve`` answer for the bundled digits QNN.

One answer is everything the page shows for a drawing: preparation, the readout, the class
bars and the gradient by parameter shift and by autograd. Timed two ways: the explainer
alone, and the whole HTTP request through FastAPI's test client (JSON both ways included).

Usage: python benchmarks/serve_latency.py [--runs 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from qimage.data import load_dataset
from qimage.serve import PRETRAINED, Explainer
from qimage.train import load_model


def drawings(n: int) -> list[np.ndarray]:
    """Test digits drawn 140x140, dark on white, as the page sends them."""
    ds = load_dataset("digits")
    pages = []
    for digit in ds.X_test[:n].astype(float):
        page = np.full((140, 140), 255.0)
        page[14:126, 14:126] -= np.kron(digit, np.ones((14, 14)))
        pages.append(page.round())
    return pages


def percentiles(call, inputs, runs: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 of ``call(input)`` in milliseconds, wall clock and CPU time, after two
    warm-up calls. On a busy machine the CPU time is what an idle core would take."""
    for image in inputs[:2]:
        call(image, 0)
    wall, cpu = [], []
    for i in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call(inputs[i % len(inputs)], i % 10)
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
    return {
        k: (float(np.percentile(v, 50)), float(np.percentile(v, 95)))
        for k, v in (("wall", wall), ("cpu", cpu))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_model(PRETRAINED)
    explainer = Explainer(loaded)
    inputs = drawings(20)

    def direct(image, label):
        explainer.explain(image, label=label)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette: httpx -> httpx2
        from fastapi.testclient import TestClient

    from qimage.serve.app import create_app

    client = TestClient(create_app(loaded))

    def http(image, label):
        reply = client.post("/api/explain", json={"pixels": image.tolist(), "label": label})
        assert reply.status_code == 200, reply.text

    print(f"{loaded.config.describe()}, {args.threads} thread(s), {args.runs} runs")
    for name, call in (("explainer", direct), ("HTTP request", http)):
        for clock, (p50, p95) in percentiles(call, inputs, args.runs).items():
            print(f"  {name:13s} {clock:4s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
