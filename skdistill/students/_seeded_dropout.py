"""Dropout whose masks come from a local generator, swapped into a module only while it trains."""

import contextlib

import torch


class DropoutWithGenerator(torch.nn.Module):
    """``torch.nn.Dropout`` drawing its masks from ``generator``, so training never touches torch's global RNG."""

    def __init__(self, p, generator):
        super().__init__()
        self.p = p
        self.generator = generator

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


@contextlib.contextmanager
def seeded_dropout(module, generator):
    """Within the block, every ``torch.nn.Dropout`` layer of ``module`` draws its masks from ``generator``.

    The layers are swapped for :class:`DropoutWithGenerator` and the original layer objects put back
    afterwards, so the module's architecture is unchanged when the block ends. Only use on a module
    skdistill owns (a training copy), never on a user's.
    """
    swapped = [
        (parent, name, child)
        for parent in module.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Dropout
    ]
    for parent, name, child in swapped:
        setattr(parent, name, DropoutWithGenerator(child.p, generator))
    try:
        yield module
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
