"""The ``qimage`` command line: ``train``, ``evaluate``, ``predict``, ``info`` and more.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``. A user mistake prints one line on stderr and exits with code 2; Ctrl-C
during training saves a checkpoint and exits with code 130.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from qimage import __version__
from qimage.cli import bench, evaluate, export, info, predict, report, sample, serve, train
from qimage.errors import QimageError
from qimage.train import TrainingInterrupted

__all__ = ["build_parser", "main"]

COMMANDS = (train, evaluate, predict, info, export, bench, report, serve, sample)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qimage",
        description="Hybrid quantum-classical image classification on a fast simulator.",
    )
    parser.add_argument("--version", action="version", version=f"qimage {__version__}")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU threads for PyTorch (default: all cores; use 1 on a busy machine)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """`kill` behaves as Ctrl-C (training saves its checkpoint, bench stops its workers);
    the previous handler is restored, so calling :func:`main` in-process leaves no trace."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        import torch

        torch.set_num_threads(args.threads)
    try:
        with _sigterm_as_interrupt():
            return args.run(args)
    except TrainingInterrupted as err:
        print(f"qimage: {err}", file=sys.stderr)
        return 130
    except QimageError as err:
        print(f"qimage: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qimage: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (qimage info | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
