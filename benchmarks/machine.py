"""The machine a figure was made on, as the one line that goes beside it in docs/.

Per-seed training figures are machine-specific: the BLAS kernels PyTorch picks for the CPU's
vector extensions (AVX-512, AVX2, ...) round differently, and 30 epochs of a 64-layer
circuit amplify that (issue 20: seed 0 of the quick-start model gives 94.15 on one machine,
97.49 on another). So every figure a command produced states the CPU, its vector
extensions, PyTorch and its BLAS; the claims to rely on are means and spreads over seeds.

    $ python benchmarks/machine.py
    machine: AMD EPYC (x86_64, 2 cores; avx2 fma avx; torch kernels AVX2), torch 2.13.0+cpu,
    BLAS mkl  (one line)
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

# Vector extensions that change which kernels run, widest first (x86 and Arm names).
VECTOR_FLAGS = ("amx_tile", "avx512f", "avx512_bf16", "avx2", "fma", "avx", "sve", "asimd")


def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text() if path.is_file() else ""


def cpu_model(cpuinfo: str) -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    return found.group(1).strip() if found else platform.processor() or "unknown CPU"


def vector_extensions(cpuinfo: str) -> list[str]:
    """The CPU's vector extensions among :data:`VECTOR_FLAGS`, widest first."""
    found = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", cpuinfo, re.M)
    flags = set(found.group(1).split()) if found else set()
    return [flag for flag in VECTOR_FLAGS if flag in flags]


def blas(config: str) -> str:
    """The BLAS PyTorch was built with, from ``torch.__config__.show()``."""
    found = re.search(r"BLAS_INFO=(\w+)", config)
    return found.group(1) if found else "unknown"


def machine_line() -> str:
    """``machine: CPU (arch, cores; extensions; torch kernels X), torch V, BLAS B``."""
    import torch

    info = _cpuinfo()
    extensions = " ".join(vector_extensions(info)) or "no vector extensions found"
    kernels = torch.backends.cpu.get_cpu_capability()
    cpu = f"{cpu_model(info)} ({platform.machine()}, {os.cpu_count()} cores; {extensions}"
    return (
        f"machine: {cpu}; torch kernels {kernels}), torch {torch.__version__}, "
        f"BLAS {blas(torch.__config__.show())}"
    )


if __name__ == "__main__":
    print(machine_line())
