"""``qimage completion SHELL``: print a tab-completion script for bash, zsh or tcsh.

The script completes commands, options, their choices and file names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qimage.cli import PlainHelpFormatter
from qimage.errors import QimageError

SHELLS = ("bash", "zsh", "tcsh")

EXAMPLES = """\
load it in the current shell:
  eval "$(qimage completion bash)"
install it for every new shell:
  qimage completion bash > ~/.local/share/bash-completion/completions/qimage
  qimage completion zsh > ~/.zfunc/_qimage   # with fpath+=~/.zfunc before compinit
"""


class _ExamplesFormatter(PlainHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of the examples."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh)",
        description=__doc__.split("\n\n", 1)[1],
        epilog=EXAMPLES,
        formatter_class=_ExamplesFormatter,
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(run=run_completion)


def _complete_paths(parser: argparse.ArgumentParser) -> None:
    """Arguments that take a path complete file names (shtab reads ``action.complete``)."""
    import shtab

    for action in parser._actions:
        if action.type is Path:
            action.complete = shtab.FILE
        if action.nargs == argparse.PARSER:  # the subcommands
            for child in action.choices.values():
                _complete_paths(child)


def run_completion(args) -> int:
    try:
        import shtab
    except ImportError:
        raise QimageError("shell completion needs shtab: pip install shtab") from None
    from qimage.cli import COMMANDS, build_parser

    parser = build_parser(COMMANDS)
    _complete_paths(parser)
    script = shtab.complete(parser, shell=args.shell)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
    return 0
