"""A float64 copy of a module for fast inference, checked against the module before every use.

Neural students predict in float64, so that a row's prediction does not depend on the other rows of
its batch. Running the module itself with float64 copies of its tensors made for each call
(``torch.func.functional_call``) is always right but costs about 140 us per call, most of a one-row
prediction. An :class:`InferenceCopy` keeps one float64 copy of the module and reuses it for as long
as the module is provably unchanged; every call first compares, for each submodule, its identity,
class, hooks and hyperparameters, and for each parameter and buffer its values, against what the copy
was made from. Any difference, however made (training, ``load_state_dict``, writes through
``.data``, a swapped layer, a new hook, ``layer.negative_slope = 0.3``), makes the caller take the
exact path again, and make a new copy.

Only modules built entirely from torch's own layers (classes defined in ``torch.nn``) are copied:
their state is their tensors and scalar hyperparameters, which the check covers. A module of a class
of your own may keep state the check cannot see (a list it mutates, a tensor attribute), so it always
takes the exact path.
"""

import copy

import torch

# Types of scalar hyperparameters of a layer (in_features, negative_slope, eps, ...): compared by value.
# Concrete types, not numbers.Number: an isinstance check against an ABC costs microseconds per call.
_SCALAR_TYPES = frozenset({int, float, bool, str, complex, type(None), tuple, torch.dtype, torch.device})


def copyable(module):
    """Whether every submodule's class is one of ``torch.nn``'s own, whose state the check covers."""
    return all(type(submodule).__module__.startswith("torch.nn.modules.") for submodule in module.modules())


def _state(module):
    """``(structure, tensors)`` of ``module``, in one walk.

    ``structure`` is what besides its tensors' values decides the output: per submodule, its name,
    identity, class, hooks and scalar hyperparameters; ``tensors`` lists every parameter and buffer
    by name.
    """
    structure, tensors = [], []
    for name, submodule in module.named_modules():
        attributes = vars(submodule)
        hooks = tuple((key, tuple(value)) for key, value in attributes.items() if "hook" in key and isinstance(value, dict))
        scalars = tuple(
            (key, value) for key, value in attributes.items() if type(value) in _SCALAR_TYPES and key != "training"
        )
        structure.append((name, id(submodule), type(submodule), hooks, scalars))
        for group in (attributes["_parameters"], attributes["_buffers"]):
            tensors.extend((f"{name}.{key}", tensor) for key, tensor in group.items() if tensor is not None)
    return structure, tensors


class InferenceCopy:
    """A float64 copy of ``module`` on ``device``, and what it was made from.

    Parameters
    ----------
    module : torch.nn.Module
        Built from ``torch.nn``'s own layers (see :func:`copyable`).
    device : torch.device
    """

    def __init__(self, module, device):
        self.device = device
        self.structure, tensors = _state(module)
        self.reference = [(name, tensor.detach().clone()) for name, tensor in tensors]
        self.module = copy.deepcopy(module).to(device=device, dtype=torch.float64).eval()

    def matches(self, module, device):
        """Whether ``module`` is still exactly what this copy was made from (and for ``device``)."""
        if device != self.device:
            return False
        structure, tensors = _state(module)
        if structure != self.structure or len(tensors) != len(self.reference):
            return False
        with torch.inference_mode():
            for (name, tensor), (reference_name, reference) in zip(tensors, self.reference):
                if (
                    name != reference_name
                    or tensor.shape != reference.shape
                    or tensor.dtype != reference.dtype
                    or tensor.device != reference.device
                    or not torch.equal(tensor, reference)
                ):
                    return False
        return True

    def __call__(self, batch):
        return self.module(batch)
