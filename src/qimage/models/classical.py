"""Classical twins: logistic regression, an MLP and a small CNN, and :func:`match_params`.

A fair quantum-versus-classical comparison trains a classical model of the same size, with
the same head, through the same loop and budget. These models take the same preprocessed
features ``(B, F)`` as the quantum ones and return logits ``(B, C)``; the image models
(:class:`SmallCNN`, and :class:`qimage.models.QuanvNet`) reshape them to square images.
Their ``forward`` takes (and ignores) the ``execution`` a quantum model's does, so every
model is called the same way.

:func:`match_params` builds, within one family, the classical model whose number of
trainable parameters is closest to a given (quantum) model's.

Example:
    >>> import torch
    >>> from qimage.models import QNN
    >>> from qimage.circuits import AngleEncoder, StronglyEntangling
    >>> qnn = QNN(AngleEncoder(), StronglyEntangling(), 4, 3, 4, 2)
    >>> twin = match_params(qnn, n_features=4, n_classes=2, family="mlp")
    >>> twin.hidden, sum(p.numel() for p in twin.parameters())  # QNN: 36 + 4 parameters
    ((5,), 37)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.models.qnn import seeded_linear

__all__ = [
    "DEFAULT_HIDDEN",
    "MLP",
    "TWIN_FAMILIES",
    "LogisticRegression",
    "ProjectedLogisticRegression",
    "SmallCNN",
    "closest_size",
    "conv_out_side",
    "image_side",
    "make_head",
    "match_params",
]

DEFAULT_HIDDEN = 32
"""Hidden width of the ``mlp`` registry model when its config leaves ``hidden`` at 0."""

TWIN_FAMILIES = ("logreg", "mlp", "cnn")
"""Classical families :func:`match_params` can build."""


def image_side(n_features: int, image_size: int | None = None) -> int:
    """The side ``S`` of the square images whose ``S * S`` pixels are the features.

    Example:
        >>> image_side(784)
        28
    """
    side = math.isqrt(n_features) if image_size is None else int(image_size)
    if side < 1 or side * side != n_features:
        given = "" if image_size is None else f" with image_size={image_size}"
        raise CircuitError(
            f"an image model needs square images: {n_features} features are not S x S{given}"
        )
    return side


def conv_out_side(side: int, patch: int, stride: int) -> int:
    """Output side of a ``patch x patch`` window sliding by ``stride`` over ``side`` pixels."""
    if not 1 <= patch <= side or stride < 1:
        raise CircuitError(
            f"a {patch}x{patch} window with stride {stride} does not fit {side}x{side} images"
        )
    return (side - patch) // stride + 1


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one ``Linear(F, C)``; ``F * C + C`` parameters."""

    def __init__(self, n_features: int, n_classes: int, generator: torch.Generator | None = None):
        super().__init__()
        self.linear = seeded_linear(n_features, n_classes, generator)

    def forward(self, x: torch.Tensor, execution=None) -> torch.Tensor:
        return self.linear(x)


class ProjectedLogisticRegression(nn.Module):
    """Logistic regression on a fixed random projection of the features to ``k``.

    ``(B, F) -> (B, k) -> (B, C)``: the projection is a buffer of N(0, 1/k) entries drawn
    from ``projection_seed`` (never trained, the same for every training seed), so only the
    ``k * C + C`` weights of the ``Linear(k, C)`` count. It can be as small as a few qubits'
    worth of parameters on 784 pixels, where the smallest MLP has over 800.

    Example:
        >>> model = ProjectedLogisticRegression(784, 10, k=25)
        >>> sum(p.numel() for p in model.parameters()), tuple(model(torch.rand(2, 784)).shape)
        (260, (2, 10))
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        k: int,
        projection_seed: int = 0,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        draw = torch.Generator().manual_seed(projection_seed)
        self.register_buffer("projection", torch.randn(n_features, k, generator=draw) / k**0.5)
        self.linear = seeded_linear(k, n_classes, generator)

    def forward(self, x: torch.Tensor, execution=None) -> torch.Tensor:
        return self.linear(x @ self.projection.to(x.dtype))


class MLP(nn.Module):
    """``Linear -> ReLU`` per hidden width, then ``Linear(h, C)``: ``(B, F)`` -> ``(B, C)``."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
        if not self.hidden or min(self.hidden) < 1:
            raise CircuitError(f"MLP hidden widths must be >= 1, got {self.hidden}")
        layers: list[nn.Module] = []
        for n_in, n_out in zip((n_features, *self.hidden), self.hidden, strict=False):
            layers += [seeded_linear(n_in, n_out, generator), nn.ReLU()]
        layers.append(seeded_linear(self.hidden[-1], n_classes, generator))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, execution=None) -> torch.Tensor:
        return self.net(x)


def make_head(
    n_in: int, n_classes: int, hidden: int = 0, generator: torch.Generator | None = None
) -> nn.Module:
    """The classifier head shared by a quantum feature model and its twin.

    ``hidden == 0`` gives :class:`LogisticRegression`, otherwise a one-hidden-layer
    :class:`MLP` of that width.
    """
    if hidden < 0:
        raise CircuitError(f"hidden must be >= 0, got {hidden}")
    if hidden == 0:
        return LogisticRegression(n_in, n_classes, generator)
    return MLP(n_in, n_classes, hidden, generator)


def _seeded_conv(channels: int, patch: int, stride: int, generator) -> nn.Conv2d:
    """``nn.Conv2d(1, channels)`` with PyTorch's default init bound, drawn from ``generator``."""
    conv = nn.Conv2d(1, channels, patch, stride=stride)
    bound = 1 / patch  # 1 / sqrt(fan_in), fan_in = patch * patch
    with torch.no_grad():
        for p in (conv.weight, conv.bias):
            p.uniform_(-bound, bound, generator=generator)
    return conv


class SmallCNN(nn.Module):
    """One convolution (``patch x patch``, ``stride``, ``channels`` maps), ReLU, then a head.

    With ``channels = patch**2`` it is the classical counterpart of a quanvolution: the same
    windows, as many output channels as the circuit has qubits, the same head.

    Shapes: ``(B, S*S)`` -> ``(B, 1, S, S)`` -> ``(B, channels, S', S')`` -> ``(B, C)``.
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        channels: int = 4,
        patch: int = 2,
        stride: int = 2,
        hidden: int = 0,
        image_size: int | None = None,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if channels < 1:
            raise CircuitError(f"SmallCNN needs channels >= 1, got {channels}")
        self.side = image_side(n_features, image_size)
        out = conv_out_side(self.side, patch, stride)
        self.channels = channels
        self.conv = _seeded_conv(channels, patch, stride, generator)
        self.head = make_head(channels * out * out, n_classes, hidden, generator)

    def forward(self, x: torch.Tensor, execution=None) -> torch.Tensor:
        maps = torch.relu(self.conv(x.reshape(-1, 1, self.side, self.side)))
        return self.head(maps.flatten(1))


def _trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def closest_size(build: Callable[[int], nn.Module], target: int) -> int:
    """The size ``s >= 1`` whose model's parameter count is closest to ``target``.

    Parameter counts of these families are affine in their size (hidden width or channels),
    so two probe models give the slope and the best size follows in closed form.
    """
    p1, p2 = _trainable(build(1)), _trainable(build(2))
    slope = p2 - p1
    guess = max(1, round(1 + (target - p1) / slope))
    candidates = {max(1, guess - 1), guess, guess + 1}
    return min(sorted(candidates), key=lambda s: abs(p1 + slope * (s - 1) - target))


def match_params(
    model: nn.Module,
    n_features: int,
    n_classes: int,
    family: str = "mlp",
    *,
    patch: int = 2,
    stride: int = 2,
    image_size: int | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """The classical twin in ``family`` whose trainable-parameter count is closest to ``model``'s.

    Args:
        model: the model to match (frozen weights, ``requires_grad=False``, do not count).
        n_features, n_classes: the twin's input width and number of classes.
        family: ``"mlp"`` (sizes the hidden width), ``"cnn"`` (sizes the channels, with
            ``patch``/``stride`` windows) or ``"logreg"`` (no free size: ``F * C + C``).
        generator: seeds the twin's initial weights.

    Returns:
        The twin: :class:`MLP` (``.hidden``), :class:`SmallCNN` (``.channels``) or
        :class:`LogisticRegression`.
    """
    target = _trainable(model)
    if family == "logreg":
        return LogisticRegression(n_features, n_classes, generator)
    if family == "mlp":
        size = closest_size(lambda h: MLP(n_features, n_classes, h), target)
        return MLP(n_features, n_classes, size, generator)
    if family == "cnn":

        def cnn(c: int) -> nn.Module:
            return SmallCNN(
                n_features,
                n_classes,
                channels=c,
                patch=patch,
                stride=stride,
                image_size=image_size,
            )

        size = closest_size(cnn, target)
        return SmallCNN(
            n_features,
            n_classes,
            channels=size,
            patch=patch,
            stride=stride,
            image_size=image_size,
            generator=generator,
        )
    raise CircuitError(f"unknown twin family {family!r}; choose one of {', '.join(TWIN_FAMILIES)}")
