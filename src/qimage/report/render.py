"""Writing report blocks as Markdown and as one self-contained HTML page.

A block is a tuple whose first item says its kind: ``("h1", text)``, ``("h2", text, anchor)``,
``("p", text)``, ``("contents", [(text, anchor), ...])``, ``("table", header, rows, id)``,
``("img", caption, path)`` or ``("legend", path)``. Table cells are text, :class:`Link` or
:class:`Badge`.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

from qimage.report.style import style

__all__ = ["Badge", "Link", "html_page", "markdown"]


@dataclass(frozen=True)
class Link:
    """A link to a section of the report (in ``page``, another file; default: this one)."""

    text: str
    anchor: str
    page: str = ""


@dataclass(frozen=True)
class Badge:
    """A verdict, coloured by the family it favours (``"quantum"``, ``"classical"``, ``"even"``)."""

    text: str
    winner: str


def _md_cell(cell) -> str:
    if isinstance(cell, Link):
        return f"[{cell.text}]({cell.page}#{cell.anchor})"
    if isinstance(cell, Badge):
        return f"{style(cell.winner).emoji} **{cell.text}**"
    return str(cell).replace("|", "\\|")


def _md_block(block, root: Path) -> str:
    kind = block[0]
    if kind == "h1":
        return f"# {block[1]}"
    if kind == "h2":
        return f'<a id="{block[2]}"></a>\n\n## {block[1]}'
    if kind == "p":
        return block[1]
    if kind == "contents":
        return "\n".join(f"- [{text}](#{anchor})" for text, anchor in block[1])
    if kind == "table":
        header, rows = block[1], block[2]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(map(_md_cell, r)) + " |" for r in rows])
    path = block[-1].relative_to(root).as_posix()
    if kind == "legend":
        return f"![legend: quantum and classical models]({path})"
    return f"![{block[1]}]({path})"


def markdown(blocks: list[tuple], root: Path) -> str:
    """The report as Markdown; image paths relative to ``root``."""
    return "\n\n".join(_md_block(b, root) for b in blocks) + "\n"


def _html_cell(cell) -> str:
    if isinstance(cell, Link):
        return f'<a href="#{cell.anchor}">{html.escape(cell.text)}</a>'
    if isinstance(cell, Badge):
        return f'<span class="badge {cell.winner}">{html.escape(cell.text)}</span>'
    return html.escape(str(cell)).replace(" ± ", "&nbsp;±&nbsp;")  # a figure stays on one line


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _html_block(block) -> str:
    kind, text = block[0], block[1]
    if kind == "h1":
        return f"<h1>{html.escape(text)}</h1>"
    if kind == "h2":
        return f'<h2 id="{block[2]}">{html.escape(text)}</h2>'
    if kind == "p":
        return f"<p>{html.escape(text)}</p>"
    if kind == "contents":
        items = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for t, a in text)
        return f'<nav id="contents"><ul>{items}</ul></nav>'
    if kind == "table":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in text)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in r) + "</tr>" for r in block[2]
        )
        ident = f' id="{block[3]}"' if block[3] else ""
        return f"<table{ident}><tr>{head}</tr>{rows}</table>"
    if kind == "legend":
        return f'<div id="legend">{_image(text, "legend: quantum and classical models")}</div>'
    return f"<figure>{_image(block[2], text)}<figcaption>{html.escape(text)}</figcaption></figure>"


def _css() -> str:
    winners = ("quantum", "classical", "even")
    badges = "".join(f".badge.{w}{{background:{style(w).colour}}}" for w in winners)
    return (
        "body{font-family:sans-serif;max-width:62em;margin:2em auto;padding:0 1em;line-height:1.4}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.25em .5em}"
        "th{background:#f4f4f4}img{max-width:100%}figure{margin:1.5em 0}"
        ".badge{color:#fff;border-radius:.8em;padding:.1em .7em;white-space:nowrap;font-size:.9em}"
        + badges
    )


def html_page(blocks: list[tuple]) -> str:
    """The report as one HTML page with its images embedded."""
    body = "".join(_html_block(b) for b in blocks)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>qimage benchmark</title>"
        f"<style>{_css()}</style></head><body>{body}</body></html>\n"
    )
