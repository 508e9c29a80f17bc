"""Pickling that survives a change of machine: a model trained on a GPU loads on a CPU-only machine.

A tensor pickles with its device, and unpickling a CUDA tensor where CUDA is missing fails. Estimators
that hold torch objects (modules, optimizers) on another device than the CPU store them, when pickled,
as one ``torch.save`` payload; loading maps them back to their device when this machine has it, and
to the CPU (with a warning) when it does not. Models on the CPU pickle as they always do.
"""

import io
import warnings

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


class _TorchPayload:
    """Modules and optimizers saved together by ``torch.save`` (which keeps their shared parameters shared)."""

    def __init__(self, objects, devices):
        buffer = io.BytesIO()
        torch.save(objects, buffer)
        self.payload = buffer.getvalue()
        self.devices = sorted(str(device) for device in devices)

    def load(self, owner):
        missing = [device for device in self.devices if not device_available(torch.device(device))]
        if missing:
            warnings.warn(
                f"{owner} was pickled with tensors on {', '.join(missing)}, which this machine does not have; "
                "they are loaded on the CPU. Set the estimator's device parameter to match before refitting.",
                UserWarning,
                stacklevel=4,
            )
        # weights_only=False: these are whole modules (their classes), as trusted as the pickle around them.
        return torch.load(io.BytesIO(self.payload), map_location="cpu" if missing else None, weights_only=False)


def portable_state(state):
    """``state`` with its off-CPU modules and optimizers packed into one device-mappable payload."""
    devices = off_cpu_devices(state)
    if not devices:
        return state
    state = dict(state)
    names = _torch_attributes(state)
    state["_torch_payload"] = _TorchPayload({name: state.pop(name) for name in names}, devices)
    return state


def restored_state(state, owner):
    """The inverse of :func:`portable_state`, on this machine's devices (the CPU for missing ones)."""
    payload = state.pop("_torch_payload", None)
    return state if payload is None else {**state, **payload.load(owner)}


class PortablePickleMixin:
    """``__getstate__`` / ``__setstate__`` that let models trained on a GPU unpickle on a CPU-only machine."""

    def __getstate__(self):
        return portable_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(restored_state(dict(state), type(self).__name__))
