"""``prune_student``: structured pruning of a fitted distiller's neural student, then distillation again.

Whole hidden units are removed (the layers become smaller ``torch.nn.Linear`` layers, not masked ones),
and the smaller network is fine-tuned on the teacher's outputs with the distiller's own loss, through
the student's ordinary training (``fit_distill`` from the pruned module).
"""

import copy
import itertools
from numbers import Integral, Real

import torch
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ._base_distiller import BaseDistiller
from .students._mlp import MLPStudent
from .students._neural_base import _BaseTorchStudent

# Layers that act on each unit alone, by exact type (a subclass may override forward): removing a unit
# before one of them removes the same unit after it.
_ELEMENTWISE = (
    torch.nn.Identity,
    torch.nn.ReLU,
    torch.nn.ReLU6,
    torch.nn.LeakyReLU,
    torch.nn.ELU,
    torch.nn.SELU,
    torch.nn.CELU,
    torch.nn.GELU,
    torch.nn.SiLU,
    torch.nn.Mish,
    torch.nn.Sigmoid,
    torch.nn.Tanh,
    torch.nn.Softplus,
    torch.nn.Softsign,
    torch.nn.Hardtanh,
    torch.nn.Hardsigmoid,
    torch.nn.Hardswish,
    torch.nn.LogSigmoid,
    torch.nn.Tanhshrink,
    torch.nn.Softshrink,
    torch.nn.Hardshrink,
    torch.nn.Dropout,
    torch.nn.AlphaDropout,
)


def prune_student(estimator, X, y=None, *, keep=0.5, max_iter=50):
    """A copy of a fitted distiller whose neural student has fewer hidden units, fine-tuned on the teacher.

    Structured pruning with distillation. In each hidden layer of the student's network, the units
    of least weight (see Notes) are removed: the layers become physically smaller
    ``torch.nn.Linear`` layers (fewer parameters, less memory, faster predictions), not masked ones.
    The smaller network is then fine-tuned for ``max_iter`` epochs on the teacher's outputs for ``X``,
    with the distiller's own loss (``T``, ``alpha``, ``loss``) and the student's own training
    settings (optimizer, learning rate, batch size, ``random_state``), to win back the agreement with
    the teacher that removing units cost. The estimator given is not changed.

    Parameters
    ----------
    estimator : DistilledClassifier or DistilledRegressor
        Fitted, with ``keep_teacher=True`` (the teacher labels ``X`` for the fine-tuning), and a
        neural student: an :class:`~skdistill.MLPStudent`, or a :class:`~skdistill.TorchStudent`
        whose module is a ``torch.nn.Sequential`` of ``Linear`` layers with element-wise activations
        (``ReLU``, ``Tanh``, ``GELU``, ...) or ``Dropout`` between them, at least one hidden layer.
    X : array-like of shape (n_samples, n_features)
        The rows the student is fine-tuned on (the training rows, or unlabelled rows like them); the
        teacher labels them.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        True labels (targets) of ``X``. Given, the fine-tuning uses them as the distiller's ``fit``
        does, weighted by ``alpha``. ``None``: the student learns the teacher's outputs alone (as
        with ``alpha=0``), whatever the distiller's ``alpha``, so that unlabelled rows serve.
    keep : float, default=0.5
        Fraction of the units of each hidden layer that are kept, in (0, 1]: a layer of ``n`` units
        keeps ``round(keep * n)``, at least 1. ``keep=1`` prunes nothing and only fine-tunes.
    max_iter : int, default=50
        Epochs of fine-tuning (the student's ``max_iter`` for this training; its early stopping, if
        set, applies).

    Returns
    -------
    pruned : DistilledClassifier or DistilledRegressor
        A new fitted estimator: a copy of ``estimator`` (same parameters, teacher and classes) whose
        ``student_`` is the pruned, fine-tuned student. An ``MLPStudent``'s ``hidden_layer_sizes``
        give its new widths; a ``TorchStudent``'s ``module`` is the pruned network before
        fine-tuning. The copy's own parameters are those of ``estimator``: refitting it distils the
        original student again.

    Raises
    ------
    TypeError
        If ``estimator`` is not a distiller, its student is not neural, or the student's network is
        not a plain stack of ``Linear`` layers.
    ValueError
        If ``keep`` is not in (0, 1], ``max_iter`` is not a positive integer, the student has no
        hidden layer, the estimator was fitted with ``keep_teacher=False``, or ``X`` has the wrong
        width. All of these are raised before any work.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    to_onnx : Export the (pruned) student to ONNX.
    DistilledClassifier : Distils a teacher into a student.

    Notes
    -----
    The importance of a hidden unit is the product of the L2 norms of its incoming weights (with its
    bias) and of its outgoing weights (its column of the next ``Linear`` layer): a unit that reads
    little or writes little can go. Every layer is scored on the unpruned network and keeps its most
    important units, in their original order; the score needs no data. Measured before fine-tuning
    (``benchmarks/bench_pruning.py``: digits and a synthetic 4-class task, an MLP(256, 256) student,
    3 splits, keep 0.75 to 0.25), it kept as much agreement with the teacher on held-out rows as any
    score tried: tied with the spread of each unit's output on the training rows times its outgoing
    norm, ahead of units chosen at random, while the mean absolute output times the outgoing norm did
    worse than random on digits (0.54 against 0.90 at ``keep=0.5``), likely because it keeps units
    that are active on every row and drops the selective ones.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, MLPStudent, prune_student
    >>> X, y = load_iris(return_X_y=True)
    >>> student = MLPStudent(hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=0.01, random_state=0)
    >>> clf = DistilledClassifier(RandomForestClassifier(random_state=0), student, T=2.0).fit(X, y)
    >>> small = prune_student(clf, X, y, keep=0.25, max_iter=50)
    >>> small.student_.hidden_layer_sizes
    (8,)
    >>> small.fidelity(X) > 0.9
    True
    """
    layers, linear = _check_prunable(estimator, keep, max_iter)
    # Without labels the fine-tuning learns the teacher alone: the distiller's checks and targets with alpha=0.
    source = estimator if y is not None or estimator.alpha == 0 else _with_alpha_zero(estimator)
    X, _, y, _, kept = source._check_data(X, y, None, reset=False)
    if y is not None:
        source._output_space(estimator.teacher_, y)  # every label is one the teacher scores (the width, for regression)

    kept_units = _units_to_keep(layers, linear, keep)
    pruned_module = _pruned_stack(layers, linear, kept_units)

    X_student, targets, _ = source._distillation_data(
        estimator._fitted_space(),
        X,
        y,
        None,
        kept,
        estimator._teacher_outputs(X),
        transfer=None,
        score=None,
    )
    student = clone(estimator.student_).set_params(max_iter=max_iter)
    if isinstance(student, MLPStudent):
        student.set_params(hidden_layer_sizes=tuple(len(units) for units in kept_units))
    else:  # the template a refit of this student starts from: the pruned network
        student.set_params(module=copy.deepcopy(pruned_module))
    student.fit_distill(X_student, targets, initial_module=pruned_module)

    pruned = copy.copy(estimator)
    pruned.student_ = student
    if "_augment_random_state" in pruned.__dict__:  # a stream continued on the copy draws its own rows
        pruned._augment_random_state = copy.deepcopy(estimator._augment_random_state)
    return pruned


def _check_prunable(estimator, keep, max_iter):
    """The student's layers and the positions of its ``Linear`` layers; raise before any work if it cannot be pruned."""
    if not isinstance(estimator, BaseDistiller):
        raise TypeError(
            f"prune_student takes a fitted DistilledClassifier or DistilledRegressor; got {type(estimator).__name__}."
        )
    if isinstance(keep, bool) or not isinstance(keep, Real) or not 0 < keep <= 1:
        raise ValueError(
            f"keep is the fraction of each hidden layer's units that is kept, in (0, 1]; got {keep!r}. A value "
            "above 1 would ask for more units than the student has."
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
        raise ValueError(f"max_iter is the number of epochs of fine-tuning, an integer >= 1; got {max_iter!r}.")
    check_is_fitted(estimator)
    if not hasattr(estimator, "teacher_"):
        raise ValueError(
            f"prune_student fine-tunes the pruned student on the teacher's outputs, but this "
            f"{type(estimator).__name__} was fitted with keep_teacher=False and left its teacher behind. Prune "
            "before shipping: fit with keep_teacher=True, prune, then ship the pruned student (skdistill.to_onnx, "
            "or pickle its student_)."
        )
    student = estimator.student_
    if not isinstance(student, _BaseTorchStudent):
        raise TypeError(
            f"prune_student removes hidden units of a neural student (MLPStudent, TorchStudent); the student_ of "
            f"this {type(estimator).__name__} is a {type(student).__name__}, which has none. Distil into a smaller "
            "student instead (fewer leaves, fewer features, ...)."
        )
    module = student.module_
    expected = (
        "prune_student needs a torch.nn.Sequential of Linear layers with element-wise activations (ReLU, Tanh, "
        "GELU, ...) or Dropout between them"
    )
    if type(module) is not torch.nn.Sequential:
        raise TypeError(f"{expected}; the student's module is a {type(module).__name__}.")
    layers = list(module)
    for index, layer in enumerate(layers):
        if type(layer) is not torch.nn.Linear and type(layer) not in _ELEMENTWISE:
            raise TypeError(
                f"{expected}; layer {index} of the student's Sequential is a {type(layer).__name__}, which "
                "prune_student does not know how to shrink."
            )
    linear = [index for index, layer in enumerate(layers) if type(layer) is torch.nn.Linear]
    if len(linear) < 2:
        raise ValueError(
            f"The student's network has {len(linear)} Linear layer(s) and so no hidden layer: there are no hidden "
            "units to remove."
        )
    return layers, linear


def _with_alpha_zero(estimator):
    """A shallow copy of ``estimator`` with ``alpha=0``: it checks and builds targets without labels."""
    source = copy.copy(estimator)
    source.alpha = 0.0
    return source


def _units_to_keep(layers, linear, keep):
    """For each hidden ``Linear`` layer, the sorted indices of the units it keeps (see ``prune_student``, Notes)."""
    kept = []
    for index, following in itertools.pairwise(linear):
        scores = _unit_importance(layers[index], layers[following])
        n_kept = max(1, int(keep * len(scores) + 0.5))
        kept.append(torch.sort(torch.topk(scores, n_kept).indices).values)
    return kept


def _unit_importance(layer, following):
    """``||(W_in[j], b_in[j])||_2 * ||W_out[:, j]||_2`` for every unit ``j`` of ``layer``'s outputs."""
    incoming = layer.weight.detach().double().cpu()
    if layer.bias is not None:
        incoming = torch.cat([incoming, layer.bias.detach().double().cpu()[:, None]], dim=1)
    return incoming.norm(dim=1) * following.weight.detach().double().cpu().norm(dim=0)


def _pruned_stack(layers, linear, kept_units):
    """A new ``Sequential`` on the CPU: the hidden ``Linear`` layers cut to their kept units, the rest copied."""
    kept_of = dict(zip(linear[:-1], kept_units))
    inputs_kept = None  # the units of the previous hidden layer that remain: this layer's kept inputs
    new_layers = []
    for index, layer in enumerate(layers):
        if type(layer) is not torch.nn.Linear:
            new_layers.append(copy.deepcopy(layer))
            continue
        outputs_kept = kept_of.get(index)
        new_layers.append(_sliced_linear(layer, inputs_kept, outputs_kept))
        inputs_kept = outputs_kept
    return torch.nn.Sequential(*new_layers).eval()


def _sliced_linear(layer, inputs, outputs):
    """A new ``Linear`` holding the rows ``outputs`` and columns ``inputs`` of ``layer`` (None: all)."""
    weight = layer.weight.detach().cpu()
    bias = None if layer.bias is None else layer.bias.detach().cpu()
    if outputs is not None:
        weight = weight[outputs]
        bias = None if bias is None else bias[outputs]
    if inputs is not None:
        weight = weight[:, inputs]
    # Made on the meta device and filled: no random initialisation, so torch's global generator is not drawn from.
    new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta", dtype=weight.dtype)
    new = new.to_empty(device="cpu")
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)
    new.weight.requires_grad_(layer.weight.requires_grad)
    if bias is not None:
        new.bias.requires_grad_(layer.bias.requires_grad)
    return new
