"""The ``qimage`` command line: ``train``, ``evaluate``, ``predict``, ``info`` and more.

Every subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int``, listed in :data:`COMMANDS`. Only the chosen command's module is
imported, so ``qimage --help`` and ``qimage --version`` never load PyTorch. A user mistake
prints one line on stderr and exits with code 2; Ctrl-C during training saves a checkpoint
and exits with code 130.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from types import ModuleType

from qimage import __version__
from qimage.errors import QimageError

__all__ = ["COMMANDS", "SEED", "bounded", "build_parser", "main", "output_file", "parse_args"]

# name -> (loader of the module with add_parser/run, one-line help for `qimage --help`). A new
# command is one entry here; its module is imported only when the command runs. The module
# names are literal so that tests/test_layering.py sees every dependency.
COMMANDS: dict[str, tuple[Callable[[], ModuleType], str]] = {
    "train": (
        lambda: import_module("qimage.cli.train"),
        "train a model and report its test metrics",
    ),
    "evaluate": (
        lambda: import_module("qimage.cli.evaluate"),
        "evaluate a trained model on a test set",
    ),
    "predict": (lambda: import_module("qimage.cli.predict"), "classify image files"),
    "info": (
        lambda: import_module("qimage.cli.info"),
        "show a model's circuit, parameter count and configuration",
    ),
    "export": (
        lambda: import_module("qimage.cli.export"),
        "export a model's circuit (OpenQASM, Qiskit, Cirq, PennyLane)",
    ),
    "bench": (lambda: import_module("qimage.cli.bench"), "run the quantum-vs-classical benchmark"),
    "report": (
        lambda: import_module("qimage.cli.report"),
        "write the report of a benchmark's results",
    ),
    "serve": (
        lambda: import_module("qimage.cli.serve"),
        "draw a digit in the browser and watch the model decide",
    ),
    "sample": (lambda: import_module("qimage.cli.sample"), "draw images from a Born machine"),
    "completion": (
        lambda: import_module("qimage.cli.completion"),
        "print a shell completion script (bash, zsh)",
    ),
}

# Options accepted before or after the command: flag -> add_argument keywords. `--device`
# and `--quiet` belong to the commands that define them; `--threads` to every command.
GLOBAL_OPTIONS = {
    "--threads": {
        "type": int,
        "metavar": "N",
        "help": "CPU threads for PyTorch (default: all cores; use 1 on a busy machine)",
    },
    "--device": {"metavar": "DEVICE", "help": "where to run: cpu, cuda or cuda:N"},
    "--quiet": {"action": "store_true", "default": None, "help": "no progress output"},
}

_SPHINX = re.compile(r":[a-z:]+:`~?([^`<]+?)\s*(?:<[^>]*>)?`|``([^`]+)``")


def plain(text: str) -> str:
    """Text without Sphinx markup: ``:class:`x.Y``` and double-backquoted literals become
    the bare name, so help screens read as plain text."""
    return _SPHINX.sub(lambda m: m.group(1) or m.group(2), text)


class PlainHelpFormatter(argparse.HelpFormatter):
    """Help screens of docstring-derived texts, markup removed before lines are wrapped."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return super()._fill_text(plain(text), width, indent)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return super()._split_lines(plain(text), width)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``PROG: error: MESSAGE (see PROG --help)``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", PlainHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(commands: Iterable[str] = ()) -> argparse.ArgumentParser:
    """The ``qimage`` parser. The modules of ``commands`` add their full subparsers (which
    imports them); every other command is a bare entry that only lists its help line."""
    loaded = set(commands)
    parser = Parser(
        prog="qimage",
        description="Hybrid quantum-classical image classification on a fast simulator.",
        epilog="Options --threads, --device and --quiet may also follow the command.",
    )
    parser.add_argument("--version", action="version", version=f"qimage {__version__}")
    for flag, options in GLOBAL_OPTIONS.items():
        parser.add_argument(flag, dest=_global(flag), **options)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (load, summary) in COMMANDS.items():
        if name in loaded:
            load().add_parser(sub)
            _add_threads(sub.choices[name])
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def bounded(high: int, low: int | None = None, why: str = "") -> Callable[[str], int]:
    """An argparse type: an integer at most ``high`` (and at least ``low``). A huge count
    would run for ever or exhaust memory instead of failing, so it is refused while parsing,
    in one line: ``argument --layers: at most 10,000, got 1000000000``.

    Example:
        >>> bounded(10)("7")
        7
    """

    def parse(text: str) -> int:
        value = int(text)  # argparse turns a ValueError into "invalid int value: 'x'"
        if value > high:
            raise argparse.ArgumentTypeError(f"at most {high:,}{why}, got {value}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"at least {low:,}, got {value}")
        return value

    parse.__name__ = "int"
    return parse


SEED = bounded(2**63 - 1, -(2**63))
"""The argparse type of every ``--seed``: what PyTorch's and NumPy's generators take."""


def output_file(path: Path, flag: str) -> Path:
    """``path`` if a file can be created there; a missing folder is one clear line."""
    if path.is_dir():
        raise QimageError(f"{flag} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise QimageError(f"{flag} {path}: the folder {path.parent} does not exist")
    return path


def _global(flag: str) -> str:
    return "global_" + flag.removeprefix("--")


def _add_threads(parser: argparse.ArgumentParser) -> None:
    with contextlib.suppress(argparse.ArgumentError):  # the command defines its own
        parser.add_argument("--threads", **GLOBAL_OPTIONS["--threads"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse in two passes: the bare parser finds the command (and answers ``--help`` and
    ``--version``), then the command's own parser reads everything."""
    command = build_parser().parse_known_args(argv)[0].command
    parser = build_parser([command])
    args = parser.parse_args(argv)
    for flag in GLOBAL_OPTIONS:
        name, value = flag.removeprefix("--"), getattr(args, _global(flag))
        delattr(args, _global(flag))
        if value is None:
            continue
        if not hasattr(args, name):
            prog = f"qimage {command}"
            parser.exit(2, f"{prog}: error: no {flag} option (see {prog} --help)\n")
        if getattr(args, name) in (None, False):  # given after the command: that one wins
            setattr(args, name, value)
    return args


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


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    """PyTorch's thread count for one command, restored afterwards (in-process callers)."""
    if threads is None:
        yield
        return
    if threads < 1:
        raise QimageError(f"--threads must be >= 1, got {threads}")
    if threads > 4096:
        raise QimageError(f"--threads must be <= 4096, got {threads}")
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _interrupted(err: QimageError) -> bool:
    """Whether training stopped on Ctrl-C; only a command that trained can raise that, so
    the training package is consulted only when it is already loaded."""
    loop = sys.modules.get("qimage.train.loop")
    return loop is not None and isinstance(err, loop.TrainingInterrupted)


def _one_line(message: str) -> str:
    """A message that came with line breaks (a PyTorch state-dict report) as one line."""
    return " ".join(message.split())


def _os_error(err: OSError) -> str:
    """One line for a file the system refused: the reason and the file."""
    where = f": {err.filename}" if err.filename else ""
    return _one_line(f"{err.strerror or err}{where}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        with _sigterm_as_interrupt(), _torch_threads(args.threads):
            return args.run(args)
    except QimageError as err:
        if _interrupted(err):
            print(f"qimage: {err}", file=sys.stderr)
            return 130
        print(f"qimage: error: {_one_line(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qimage: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (qimage info | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a missing folder, a full disk, no permission: the user's to fix
        print(f"qimage: error: {_os_error(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
