"""Small torch helpers shared by teachers and students: devices, tensors, seeds, batched inference."""

import contextlib

import numpy as np
import torch

from ._inference_copy import InferenceCopy, copyable

DEVICE_CONSTRAINT = [str, torch.device, None]


def resolve_device(device, *, parameter="device"):
    """Turn a ``device`` parameter into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, str, torch.device or None
        ``"auto"`` picks CUDA when it is available and the CPU otherwise. ``None`` means the CPU.
        A device that is not available here (no CUDA, MPS or XPU, ``cuda:N`` past the last GPU) is
        refused with a ValueError.
    parameter : str
        The parameter's name, used in error messages.

    Returns
    -------
    torch.device
    """
    if device is None:
        return torch.device("cpu")
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{parameter}={device!r} is not a device torch knows; expected 'auto', 'cpu', 'cuda', "
            f"'cuda:N' or a torch.device."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{parameter}={device!r} asks for CUDA, but CUDA is not available here.")
    if resolved.type not in ("cpu", "meta"):
        # torch only finds out that an accelerator is missing (mps, xpu, ...) or that cuda:N does not exist
        # when a tensor goes there; an empty one asks now, before the teacher or the student does any work.
        try:
            torch.empty(0, device=resolved)
        except Exception as exc:  # RuntimeError, AssertionError, NotImplementedError, ...: torch's own choice
            raise ValueError(
                f"{parameter}={device!r} asks for a device of type {resolved.type!r}, which is not available here "
                f"(torch: {type(exc).__name__}: {str(exc).splitlines()[0][:120]})."
            ) from exc
    return resolved


def module_device_and_dtype(module):
    """The device and floating dtype of a module's first parameter (CPU, float32 if it has none)."""
    for tensor in module.parameters():
        return tensor.device, tensor.dtype
    for tensor in module.buffers():
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


def as_tensor(array, *, dtype, device):
    """A tensor view of ``array`` where possible, a copy where needed (read-only or non-contiguous input)."""
    array = np.asarray(array)
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, order="C", copy=True)
    return torch.from_numpy(array).to(device=device, dtype=dtype)


def seed_from(random_state):
    """Draw an integer seed for a torch generator from a :class:`numpy.random.RandomState`."""
    return int(random_state.randint(np.iinfo(np.int32).max))


def make_generator(seed, device=torch.device("cpu")):
    """A local :class:`torch.Generator` seeded with ``seed``; torch's global RNG is left alone."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


@contextlib.contextmanager
def eval_mode(module):
    """Put ``module`` in eval mode for the block and restore each submodule's own ``training`` flag."""
    flags = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for submodule, flag in flags:
            submodule.training = flag


def float64_inference_device(module):
    """Where :func:`batched_forward` with ``float64=True`` runs: the module's device, or the CPU for
    devices without float64 arithmetic (Apple's MPS)."""
    device, _ = module_device_and_dtype(module)
    return torch.device("cpu") if device.type == "mps" else device


class Float64Unsupported(RuntimeError):
    """A module's forward pass failed in float64: it makes tensors of its own dtype (a float32 hidden
    state, a tensor attribute that is not a buffer) that do not mix with float64 inputs."""


def _float64_tensors(module, device):
    """The module's parameters and buffers as float64 copies on ``device``, by name, for
    :func:`torch.func.functional_call`; the module itself is not changed. A tensor tied under several
    names appears under the first (``functional_call(tie_weights=True)`` uses it for all of them)."""
    named = [*module.named_parameters(), *module.named_buffers()]
    return {
        name: tensor.detach().to(device=device, dtype=torch.float64 if tensor.is_floating_point() else tensor.dtype)
        for name, tensor in named
    }


def batched_forward(
    module, X, *, batch_size, device, dtype, who="The module", out_dtype=np.float64, float64=False, copy_holder=None
):
    """Run ``module`` over the rows of ``X`` in batches, without gradients, in eval mode.

    Memory is bounded by one batch of inputs and outputs on ``device``, plus the result: a numpy
    array on the CPU, filled batch by batch. Each batch is a copy, so a module that works in place (``relu_``) cannot
    modify ``X``.

    Parameters
    ----------
    module : torch.nn.Module
    X : ndarray of shape (n_samples, n_features)
    batch_size : int
    device : torch.device
    dtype : torch.dtype
        The dtype inputs are cast to (the module's parameter dtype).
    who : str
        How error messages name the module.
    out_dtype : numpy dtype, default=np.float64
        The dtype of the result.
    float64 : bool, default=False
        Compute in float64: the module runs with float64 copies of its parameters and buffers, made
        for this call (the module itself is not changed; ``dtype`` is then ignored). With
        ``copy_holder``, a module built from ``torch.nn``'s own layers runs as a float64 copy kept in
        ``copy_holder["copy"]`` (an :class:`~skdistill._inference_copy.InferenceCopy`), reused while
        the module is unchanged and made again when it changed: the same numbers, faster. A row's output then depends on the other
        rows of its batch only to float64 round-off: float32 matrix products are blocked differently
        for different batch sizes by the BLAS kernels of each CPU (AVX-512 against AVX2 or ARM), which
        moves a float32 result by up to about 1e-6.

    Returns
    -------
    ndarray of shape (n_samples, ...) of ``out_dtype``
    """
    # One preallocated result filled batch by batch: a list of per-batch arrays concatenated at the end
    # held twice the output and fragmented the heap (peak 4x the size of X at 1M rows, see
    # benchmarks/bench_memory.py).
    result = None
    forward, kept = module, None
    if float64:
        # The module itself runs, with float64 copies of its tensors made for this call: nothing is
        # cached that a later change to the module (training, load_state_dict, writes through .data,
        # a swapped submodule, a new hook) could leave stale.
        dtype = torch.float64
        kept = None if copy_holder is None else copy_holder.get("copy")
        if kept is not None and not kept.matches(module, device):
            kept = copy_holder["copy"] = None
        if kept is None and copy_holder is not None and copyable(module):
            kept = copy_holder["copy"] = InferenceCopy(module, device)
        if kept is not None:
            forward = kept
        else:
            tensors = _float64_tensors(module, device)

            def forward(batch):
                return torch.func.functional_call(module, tensors, (batch,), tie_weights=True)

    # A kept copy is in eval mode already: the module's own flags are not touched at all.
    with eval_mode(module) if kept is None else contextlib.nullcontext(), torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            batch = _batch_tensor(X[start : start + batch_size], dtype, device)
            try:
                output = forward(batch)
            except RuntimeError as exc:
                raise _forward_error(exc, who, X, device, float64=float64) from exc
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"{who} must return a tensor of scores, but it returned {type(output).__name__}.")
            if output.ndim == 0 or output.shape[0] != batch.shape[0] or (
                result is not None and tuple(output.shape[1:]) != result.shape[1:]
            ):
                raise ValueError(
                    f"{who} must return one row of scores per input row, of the same width for every batch; "
                    f"for a batch of {batch.shape[0]} rows it returned shape {tuple(output.shape)}."
                )
            if result is None:
                result = np.empty((X.shape[0], *output.shape[1:]), dtype=out_dtype)
            torch.from_numpy(result[start : start + batch.shape[0]]).copy_(output.detach())
    return np.empty((0,), dtype=out_dtype) if result is None else result


def _batch_tensor(rows, dtype, device):
    """A copy of ``rows`` as a tensor (an in-place module cannot write into X).

    Through numpy when it has the dtype: ``torch.tensor`` with a dtype conversion took about 28 us for
    one row, ``np.array`` then ``torch.from_numpy`` about 3 us.
    """
    numpy_dtype = _NUMPY_DTYPES.get(dtype)
    if numpy_dtype is None:
        return torch.tensor(np.ascontiguousarray(rows), dtype=dtype, device=device)
    return torch.from_numpy(np.array(rows, dtype=numpy_dtype, order="C", copy=True)).to(device)


_NUMPY_DTYPES = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16}


def _forward_error(exc, who, X, device, *, float64=False):
    """The error to raise for a ``RuntimeError`` from a module's forward pass: name what went wrong.

    Running out of memory and tensors on two devices are not a wrong input width; only torch's shape
    errors are reported as one. A dtype clash in a float64 forward pass is :class:`Float64Unsupported`.
    """
    message = str(exc)
    if float64 and any(hint in message.lower() for hint in _DTYPE_ERRORS):
        return Float64Unsupported(
            f"{who} cannot run in float64: its forward pass mixes float64 inputs and parameters with "
            f"tensors of another dtype that it makes itself. torch said: {message}"
        )
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in message.lower():
        return MemoryError(
            f"{who} ran out of memory on {device}; lower its batch size (batch_size=...). torch said: {message}"
        )
    if "same device" in message or "device type" in message.lower():
        return ValueError(
            f"{who} has tensors on another device than its input ({device}); move it or set device=... so "
            f"that its parameters and buffers are on one device. torch said: {message}"
        )
    if any(hint in message for hint in _SHAPE_ERRORS):
        return ValueError(
            f"{who} failed on X with {X.shape[1]} features; check that it takes {X.shape[1]} inputs. "
            f"torch said: {message}"
        )
    return RuntimeError(f"{who} raised an error in its forward pass. torch said: {message}")


# Substrings of torch's error messages (lower case) for tensors of two dtypes ("mat1 and mat2 must have
# the same dtype, but got Float and Double", "expected scalar type Double but found Float", "Input type
# (double) and bias type (float) should be the same").
_DTYPE_ERRORS = ("dtype", "scalar type", "double")

# Substrings of torch's error messages for a tensor of the wrong shape (e.g. "mat1 and mat2 shapes
# cannot be multiplied (5x3 and 4x8)").
_SHAPE_ERRORS = (
    "shapes cannot be multiplied",
    "size mismatch",
    "must match the size",
    "Expected size",
    "normalized_shape",
    "expected input",
)
