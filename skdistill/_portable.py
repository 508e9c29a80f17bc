"""Torch objects stored as numpy arrays plus their architecture: for pickle, for skops, across devices.

An estimator that holds torch modules or optimizers pickles them (``__getstate__``) as copies of
their structure whose tensors are numpy arrays with their dtype, device and ``requires_grad`` flag.
This is what lets

- :mod:`skops.io` save and load it: skops cannot store tensors, but stores numpy arrays, the module
  and optimizer classes (which ``get_untrusted_types`` lists, so that the user decides to trust
  them) and skdistill's own types. No class is looked up from a string, nothing is ``torch.load``-ed;
- a model trained on a GPU load on a CPU-only machine: tensors go back to the device they were on
  when this machine has it, and to the CPU, with a warning, when it does not.

Within one estimator a tensor is stored once, so an optimizer drives the very parameters of its
module after loading, and tied weights stay tied. A module held by two estimators is stored by each:
whoever holds both (``DistilledClassifier``) names it in one place only. Copies (``copy.copy``,
``copy.deepcopy``) do not convert anything.
"""

import copy
import warnings
from collections import defaultdict

import numpy as np
import torch

__all__ = ["PortablePickleMixin", "portable_state", "restored_state"]


def _torch_attributes(state):
    """The names of the attributes that hold modules or optimizers."""
    return [name for name, value in state.items() if isinstance(value, (torch.nn.Module, torch.optim.Optimizer))]


def _devices_of(value):
    if isinstance(value, torch.nn.Module):
        tensors = [*value.parameters(), *value.buffers()]
    else:
        tensors = [t for group in value.param_groups for t in group["params"]]
        tensors += [t for state in value.state.values() for t in state.values() if isinstance(t, torch.Tensor)]
    return {tensor.device for tensor in tensors}


def off_cpu_devices(state):
    """The non-CPU devices the modules and optimizers in ``state`` live on."""
    devices = set()
    for name in _torch_attributes(state):
        devices |= {device for device in _devices_of(state[name]) if device.type != "cpu"}
    return devices


def device_available(device):
    """Whether this machine has ``device`` (a :class:`torch.device`)."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False


class _TensorRecord:
    """A tensor as a numpy array, its torch dtype, device, ``requires_grad`` and whether it is a Parameter."""

    def __init__(self, tensor):
        data = tensor.detach()
        self.dtype = str(data.dtype).removeprefix("torch.")
        if data.dtype == torch.bfloat16:
            data = data.float()  # numpy has no bfloat16; float32 holds every bfloat16 value exactly
        try:
            self.array = data.cpu().numpy()
        except TypeError as exc:
            raise TypeError(
                f"A tensor of dtype {tensor.dtype} cannot be stored: numpy has no such type ({exc}). Convert "
                "the module to a type numpy knows (float16, float32, float64) or to bfloat16 before saving."
            ) from exc
        self.device = str(tensor.device)
        self.requires_grad = tensor.requires_grad
        self.is_parameter = isinstance(tensor, torch.nn.Parameter)

    def tensor(self):
        """The tensor again, on its device if this machine has it, else on the CPU."""
        dtype = getattr(torch, self.dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise TypeError(f"A stored tensor has dtype {self.dtype!r}, which this torch does not know.")
        device = torch.device(self.device)
        if not device_available(device):
            device = torch.device("cpu")
        # A read-only array (never made by pickle or skops, but possible by hand) is copied, not shared.
        tensor = torch.from_numpy(np.require(self.array, requirements="W")).to(device=device, dtype=dtype)
        if self.is_parameter:
            return torch.nn.Parameter(tensor, requires_grad=self.requires_grad)
        return tensor.requires_grad_(self.requires_grad)


class _Records:
    """One record per tensor, and one tensor per record: what keeps shared tensors shared."""

    def __init__(self):
        self._made = {}  # id of the object given -> (that object, what was made of it)

    def _get(self, value, make):
        if id(value) not in self._made:
            self._made[id(value)] = (value, make(value))  # holding `value` keeps its id unique
        return self._made[id(value)][1]

    def record(self, tensor):
        return self._get(tensor, _TensorRecord)

    def tensor(self, record):
        return self._get(record, _TensorRecord.tensor)


def _map_tensors(value, convert, kind):
    """``value`` (nested dicts, lists and tuples) with every ``kind`` object passed through ``convert``."""
    if isinstance(value, kind):
        return convert(value)
    if isinstance(value, dict):
        return {key: _map_tensors(item, convert, kind) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(item, convert, kind) for item in value)
    return value


def _portable_module(module, records):
    """A copy of ``module`` whose tensors (parameters, buffers, tensor attributes) are records.

    The copy keeps the module's classes, layer sizes, ``training`` flags and hooks; its tensors are
    not copied, but recorded as numpy arrays. A ``torch.compile`` wrapper is stored as the module it
    compiles (see :func:`_uncompiled`).
    """
    module = _uncompiled(module)
    tensors = [
        value
        for submodule in module.modules()
        for value in (*submodule._parameters.values(), *submodule._buffers.values(), *vars(submodule).values())
        if isinstance(value, torch.Tensor)
    ]
    return copy.deepcopy(module, memo={id(tensor): records.record(tensor) for tensor in tensors})


def _uncompiled(module):
    """The module that a ``torch.compile`` wrapper runs, or ``module`` itself.

    The wrapper holds the compiler's state (guards, caches, frames): skops loads it with an error and
    pickles it at megabytes for a small network. The module it compiles computes the same function;
    after loading, ``torch.compile`` it again for speed.
    """
    original = getattr(module, "_orig_mod", None)
    return original if type(module).__name__ == "OptimizedModule" and isinstance(original, torch.nn.Module) else module


def _restored_module(module, records):
    for submodule in module.modules():
        for table in (submodule._parameters, submodule._buffers, submodule.__dict__):
            for name, value in table.items():
                if isinstance(value, _TensorRecord):
                    table[name] = records.tensor(value)
    return module


def _portable_optimizer(optimizer, records):
    """An optimizer as its class, hyperparameters and state; its parameters are its module's records."""
    state = optimizer.__getstate__()
    parameters = [p for group in state["param_groups"] for p in group["params"]]
    position = {id(p): i for i, p in enumerate(parameters)}
    return {
        "class": type(optimizer),
        "defaults": _map_tensors(state["defaults"], records.record, torch.Tensor),
        "param_groups": _map_tensors(state["param_groups"], records.record, torch.Tensor),
        # Keyed by position among the groups' parameters, as in state_dict(): skops keys dicts by value.
        "state": {
            position[id(p)]: _map_tensors(values, records.record, torch.Tensor) for p, values in state["state"].items()
        },
    }


def _restored_optimizer(portable, records):
    """The optimizer rebuilt as pickle does (``__new__`` then ``__setstate__``): any optimizer class works."""
    param_groups = _map_tensors(portable["param_groups"], records.tensor, _TensorRecord)
    parameters = [p for group in param_groups for p in group["params"]]
    state = defaultdict(dict)
    for position, values in portable["state"].items():
        state[parameters[position]] = _map_tensors(values, records.tensor, _TensorRecord)
    optimizer = portable["class"].__new__(portable["class"])
    optimizer.__setstate__(
        {
            "defaults": _map_tensors(portable["defaults"], records.tensor, _TensorRecord),
            "state": state,
            "param_groups": param_groups,
        }
    )
    return optimizer


class _TorchObjects:
    """An estimator's modules and optimizers, converted to numpy arrays and architecture when pickled.

    The conversion happens only when this object is pickled or saved by skops (its ``__getstate__``):
    a shallow copy of the estimator (``copy.copy``, as ``clone`` of a shared teacher makes) keeps the
    very objects, and a deep copy copies them as torch does.
    """

    def __init__(self, objects, devices):
        self.objects = objects
        self.devices = devices

    def __getstate__(self):
        records = _Records()
        modules = {name: value for name, value in self.objects.items() if isinstance(value, torch.nn.Module)}
        optimizers = {name: value for name, value in self.objects.items() if name not in modules}
        return {
            # One record per tensor across all of them: an optimizer's parameters are its module's records.
            "modules": {name: _portable_module(module, records) for name, module in modules.items()},
            "optimizers": {name: _portable_optimizer(optimizer, records) for name, optimizer in optimizers.items()},
            "devices": self.devices,
        }

    def __setstate__(self, state):
        self.objects = None  # until restored()
        self.__dict__.update(state)

    def __deepcopy__(self, memo):
        return _TorchObjects(copy.deepcopy(self.objects, memo), list(self.devices))

    def restored(self, owner):
        """The objects, on this machine's devices (the CPU for missing ones)."""
        if self.objects is not None:  # never pickled
            return self.objects
        missing = [device for device in self.devices if not device_available(torch.device(device))]
        if missing:
            warnings.warn(
                f"{owner} was pickled with tensors on {', '.join(missing)}, which this machine does not have; "
                "they are loaded on the CPU. Set the estimator's device parameter to match before refitting.",
                UserWarning,
                stacklevel=4,
            )
        records = _Records()
        modules = {name: _restored_module(module, records) for name, module in self.modules.items()}
        optimizers = {name: _restored_optimizer(optimizer, records) for name, optimizer in self.optimizers.items()}
        return {**modules, **optimizers}


def portable_state(state):
    """``state`` with its modules and optimizers in one object that pickles them as numpy arrays."""
    names = _torch_attributes(state)
    if not names:
        return state
    devices = sorted(str(device) for device in off_cpu_devices(state))
    state = dict(state)
    state["_torch_objects"] = _TorchObjects({name: state.pop(name) for name in names}, devices)
    return state


def restored_state(state, owner):
    """The inverse of :func:`portable_state`."""
    objects = state.pop("_torch_objects", None)
    return state if objects is None else {**state, **objects.restored(owner)}


class PortablePickleMixin:
    """``__getstate__`` / ``__setstate__`` storing torch objects as numpy arrays (see :mod:`skdistill._portable`)."""

    def __getstate__(self):
        return portable_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(restored_state(dict(state), type(self).__name__))
