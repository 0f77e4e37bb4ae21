"""benchmarks/machine.py reads the CPU, its vector extensions and the BLAS correctly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "machine.py"
spec = importlib.util.spec_from_file_location("machine", SCRIPT)
machine = importlib.util.module_from_spec(spec)
spec.loader.exec_module(machine)

X86 = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse4_2 avx fma avx2 avx512f avx512bw avx512_bf16 amx_tile
"""
ARM = "processor\t: 0\nFeatures\t: fp asimd evtstrm sve\n"


def test_x86_cpuinfo():
    assert machine.cpu_model(X86) == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    assert machine.vector_extensions(X86) == [
        "amx_tile",
        "avx512f",
        "avx512_bf16",
        "avx2",
        "fma",
        "avx",
    ]


def test_arm_cpuinfo_and_blas():
    assert machine.vector_extensions(ARM) == ["sve", "asimd"]
    assert machine.vector_extensions("") == []
    config = "  - Build settings: BLAS_INFO=open, BUILD_TYPE=Release, LAPACK_INFO=open,"
    assert machine.blas(config) == "open"
    assert machine.blas("no build settings") == "unknown"
