"""Engine ideas tried for issue 19 and not kept, each timed against the engine on R1.

Every try first checks its outputs and gradients against qimage's engine, then times whole
training steps (forward, cross-entropy, backward) of both, interleaved round by round (best
round kept), at 2 threads and batch 128 unless noted::

    python benchmarks/engine_tries.py chunked   # blocks on the first wires as batched GEMMs
    python benchmarks/engine_tries.py real-rot  # Rot layers as real RY blocks + phases
    python benchmarks/engine_tries.py compile   # gate by gate on (re, im) planes, compiled

* ``chunked``: ``m @ x`` with a 32x32 ``m`` and a 32 x 4096 ``x`` runs on one core in MKL;
  as a batched GEMM over column chunks (and a transposing copy back) it uses both.
* ``real-rot``: ``Rot = RZ RY RZ``; the RZs are diagonal and move through the CNOT ring as
  permuted phases, so a layer is one phase pass, two real 32x32 blocks applied to the
  (re, im) view of the state (half the flops of complex blocks) and the ring's gather.
* ``compile``: ``torch.compile`` (inductor, CPU) of R1 written gate by gate on separate real
  and imaginary planes, which inductor can fuse (it emits no code for complex tensors).
  Compiling takes minutes.

Results and their reading: ``docs/performance.md`` ("Tried for engine v2").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simulator_workloads import R1, Spec, make_data, qimage_circuit

from qimage.sim import amplitude_state, columns, run

N, BATCH = R1.n_qubits, 128


def _bits(n: int) -> torch.Tensor:
    """``(2^n, n)`` basis bits, qubit 0 the most significant."""
    return (torch.arange(2**n)[:, None] >> (n - 1 - torch.arange(n))) & 1


def _ring(n: int) -> torch.Tensor:
    """The CNOT ring ``CNOT(q, q+1 mod n)`` as a gather ``out[i] = in[ring[i]]``."""
    f = torch.arange(2**n)
    for q in range(n):
        f = f ^ (((f >> (n - 1 - q)) & 1) << (n - 1 - (q + 1) % n))
    return torch.argsort(f)


def _ry(theta: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def _kron5(m: torch.Tensor) -> torch.Tensor:
    """``(L, 5, 2, 2)`` -> ``(L, 32, 32)``: the Kronecker product of each row's five."""
    return torch.einsum("lab,lcd,lef,lgh,lij->lacegibdfhj", *m.unbind(1)).reshape(-1, 32, 32)


def real_rot(feats: torch.Tensor, w: torch.Tensor, spec: Spec) -> torch.Tensor:
    """``<Z_q>`` of R1 through phases, real RY blocks and gathers: ``(B, n)``."""
    n, layers, batch = spec.n_qubits, spec.n_layers, feats.shape[0]
    weights = w.reshape(layers, n, 3)
    half = _bits(n).to(w.dtype) - 0.5  # RZ(a) is exp(i a (bit - 1/2)) per wire
    phis, omegas = half @ weights[..., 0].T, half @ weights[..., 2].T  # (2^n, L)
    ry = _ry(weights[..., 1])
    lead, rest = _kron5(ry[:, :5]), _kron5(ry[:, 5:])
    ring = _ring(n)
    x = amplitude_state(feats, n, dtype=torch.complex64).reshape(batch, -1).T.contiguous()
    pending = torch.zeros(2**n, dtype=w.dtype)
    for layer in range(layers):
        x = x * torch.polar(torch.ones_like(pending), pending + phis[:, layer])[:, None]
        planes = torch.view_as_real(x).reshape(32, -1)
        planes = torch.bmm(rest[layer].expand(32, -1, -1), (lead[layer] @ planes).view(32, 32, -1))
        x = torch.view_as_complex(planes.reshape(2**n, batch, 2)).index_select(0, ring)
        pending = omegas[ring, layer]  # RZ(omega) before the ring: its phases move with rows
    probs = x.real**2 + x.imag**2  # the last phases do not change |psi|^2
    return (probs.T @ (1 - 2 * _bits(n).to(probs.dtype))).reshape(batch, n)


def gate_by_gate(feats: torch.Tensor, w: torch.Tensor, spec: Spec) -> torch.Tensor:
    """R1 one gate at a time on real and imaginary planes ``(2^n, B)``: ``(B, n)``."""
    n, layers, batch = spec.n_qubits, spec.n_layers, feats.shape[0]
    re, im = feats.T.contiguous(), torch.zeros_like(feats.T)
    weights = w.reshape(layers, n, 3)
    a, b, c = weights.unbind(-1)
    cb, sb, plus, minus = torch.cos(b / 2), torch.sin(b / 2), (a + c) / 2, (a - c) / 2
    g_re = torch.stack([cb * plus.cos(), -sb * minus.cos(), sb * minus.cos(), cb * plus.cos()])
    g_im = torch.stack([-cb * plus.sin(), -sb * minus.sin(), -sb * minus.sin(), cb * plus.sin()])
    ring = _ring(n)
    for layer in range(layers):
        for q in range(n):
            gr, gi = g_re[:, layer, q], g_im[:, layer, q]
            r = re.reshape(2**q, 2, -1)
            i = im.reshape(2**q, 2, -1)
            r0, r1, i0, i1 = r[:, 0], r[:, 1], i[:, 0], i[:, 1]
            rows_re = [gr[k] * r0 + gr[k + 1] * r1 - gi[k] * i0 - gi[k + 1] * i1 for k in (0, 2)]
            rows_im = [gr[k] * i0 + gr[k + 1] * i1 + gi[k] * r0 + gi[k + 1] * r1 for k in (0, 2)]
            re = torch.stack(rows_re, 1).reshape(re.shape)
            im = torch.stack(rows_im, 1).reshape(im.shape)
        re, im = re[ring], im[ring]
    probs = re**2 + im**2
    return (probs.T @ (1 - 2 * _bits(n).to(probs.dtype))).reshape(batch, n)


def _chunked(m: torch.Tensor, x2: torch.Tensor, chunk: int = 128) -> torch.Tensor:
    d, width = x2.shape
    if width < 2048 or width % chunk:
        return m @ x2
    parts = width // chunk
    out = torch.bmm(m.expand(parts, d, d), x2.reshape(d, parts, chunk).transpose(0, 1))
    return out.transpose(0, 1).reshape(d, width)


class _Leading(torch.autograd.Function):
    """``m @ x2`` chunked, with the state's gradient chunked too."""

    @staticmethod
    def forward(ctx, m, x2):
        ctx.save_for_backward(m, x2)
        return _chunked(m, x2)

    @staticmethod
    def backward(ctx, grad):
        m, x2 = ctx.saved_tensors
        grad_m = grad @ x2.mH if ctx.needs_input_grad[0] else None
        grad_x = _chunked(m.mH.contiguous(), grad) if ctx.needs_input_grad[1] else None
        return grad_m, grad_x


def _dense_chunked(x, m, block, n):
    if block.contiguous and block.wires[0] == 0:
        return _Leading.apply(m, x.reshape(2 ** len(block.wires), -1)).reshape(x.shape)
    return ENGINE_DENSE(x, m, block, n)


ENGINE_DENSE = columns._dense


def _engine(feats, w, spec):
    state = amplitude_state(feats, spec.n_qubits, dtype=torch.complex64)
    return run(qimage_circuit(spec), None, w, state=state, diff_method="backprop")


def _with_chunks(feats, w, spec):
    columns._dense = _dense_chunked
    try:
        return _engine(feats, w, spec)
    finally:
        columns._dense = ENGINE_DENSE


def _step(forward, feats, w, labels, spec):
    def step():
        w.grad = None
        loss = torch.nn.functional.cross_entropy(forward(feats, w, spec).double(), labels)
        loss.backward()

    return step


def _check(forward, feats, w, labels, spec) -> float:
    """Largest difference from the engine in outputs and weight gradients (complex64)."""
    outs, grads = [], []
    for f in (_engine, forward):
        out = f(feats, w, spec)
        grads.append(torch.autograd.grad(torch.nn.functional.cross_entropy(out, labels), w)[0])
        outs.append(out.detach())
    error = max((outs[0] - outs[1]).abs().max().item(), (grads[0] - grads[1]).abs().max().item())
    if error > 2e-4:
        raise SystemExit(f"the try disagrees with the engine by {error:.2e}")
    return float(error)


def compare(name: str, forward, spec: Spec, batch: int, rounds: int) -> None:
    data = make_data(spec, batch)
    feats, labels = data["features"].float(), data["labels"]
    w = data["weights"].float().requires_grad_(True)
    start = time.perf_counter()
    error = _check(forward, feats, w, labels, spec)
    first = time.perf_counter() - start
    print(f"{name}: agrees with the engine to {error:.1e} (first calls {first:.0f} s)")
    steps = {"engine": _step(_engine, feats, w, labels, spec)}
    steps[name] = _step(forward, feats, w, labels, spec)
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for key, step in steps.items():
            step()
            t0 = time.perf_counter()
            for _ in range(5):
                step()
            best[key] = min(best[key], (time.perf_counter() - t0) / 5)
    for key, seconds in best.items():
        print(f"  {key:10s} {1e3 * seconds:7.2f} ms per step, {batch / seconds:7.0f} samples/s")
    print(f"  {name} / engine: {best['engine'] / best[name]:.3f}x")


TRIES = {
    "chunked": (_with_chunks, False),
    "real-rot": (real_rot, False),
    "compile": (gate_by_gate, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tries", nargs="+", choices=sorted(TRIES))
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    torch.set_num_threads(2)
    for name in args.tries:
        forward, compiled = TRIES[name]
        fn = torch.compile(forward) if compiled else forward
        compare(name, fn, R1, BATCH, args.rounds)
        if name == "chunked":
            compare(name, fn, Spec("R1-32", N, 32, True), 64, args.rounds)


if __name__ == "__main__":
    main()
