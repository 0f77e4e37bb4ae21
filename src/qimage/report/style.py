"""The report's one visual vocabulary: quantum vs classical, shared by every plot and badge.

Colours are from a colour-blind-safe purple/green palette; families differ by line style and
marker as well, so the plots also read in greyscale.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAMILIES", "Style", "style"]


@dataclass(frozen=True)
class Style:
    """How one model family is drawn.

    ``shades`` and ``markers`` tell models of the same family apart (as many distinct pairs
    as the product of their coprime lengths); ``emoji`` stands in for the colour where
    Markdown cannot colour text.
    """

    colour: str
    line: str
    markers: tuple[str, ...]
    shades: tuple[str, ...]
    emoji: str

    @property
    def marker(self) -> str:
        return self.markers[0]

    def member(self, k: int) -> tuple[str, str]:
        """``(colour, marker)`` of the family's ``k``-th model."""
        return self.shades[k % len(self.shades)], self.markers[k % len(self.markers)]


FAMILIES: dict[str, Style] = {
    "quantum": Style(
        colour="#762a83",
        line="-",
        markers=("o", "^", "v", "<", ">"),
        shades=("#40004b", "#762a83", "#9970ab", "#c2a5cf"),
        emoji="🟣",
    ),
    "classical": Style(
        colour="#1b7837",
        line="--",
        markers=("s", "D", "P", "X", "p"),
        shades=("#00441b", "#1b7837", "#5aae61", "#a6dba0"),
        emoji="🟢",
    ),
}

_OTHER = Style("#777777", ":", ("*",), ("#777777",), "⚪")


def style(family: str | None) -> Style:
    """The style of a family (grey for anything else)."""
    return FAMILIES.get(family or "", _OTHER)
