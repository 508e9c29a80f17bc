"""Shared machinery of the distillers: cloning that shares frozen models, label and target checks."""

import copy
import functools
import sys
import types
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import validate_data

from ._soft_targets import UNLABELLED, blended_targets, soft_targets
from .losses import BlendedSquaredError, KLDistillationLoss


class _SharedByClone:
    """Stands in for a value that :func:`sklearn.base.clone` must pass on as it is, not copy."""

    def __init__(self, value):
        self.value = value

    def __sklearn_clone__(self):
        return self.value


def clone_sharing(estimator, shared):
    """Clone ``estimator`` as :func:`sklearn.base.clone` does, but pass some parameters on by identity.

    A trained network used as a teacher is read, never written, by a fit: copying it for every
    grid-search candidate costs time and memory for nothing. This is how
    :class:`sklearn.frozen.FrozenEstimator` survives ``clone``, applied to single parameters.

    Parameters
    ----------
    estimator : BaseEstimator
    shared : iterable of str
        Names of the parameters to share rather than clone.

    Returns
    -------
    BaseEstimator
        An unfitted estimator with the same parameters, the shared ones being the same objects.
    """
    stand_in = copy.copy(estimator)
    for name in shared:
        setattr(stand_in, name, _SharedByClone(getattr(estimator, name)))
    # BaseEstimator's own clone: clones every parameter (ours pass themselves on), and carries over
    # metadata-routing requests and output configuration exactly as sklearn.base.clone does.
    return BaseEstimator.__sklearn_clone__(stand_in)


def unchanged_on_failure(method):
    """Make a fitting method atomic: if it raises (``KeyboardInterrupt`` included), the estimator's
    attributes are put back as they were before the call.

    A failed refit then leaves the previous fit whole (its teacher, classes and student together),
    whichever step failed; nothing is half-updated. A fit rebinds attributes rather than changing them
    in place, so restoring the attribute dictionary restores the estimator, with two exceptions of
    ``partial_fit``: it updates its student in place, and draws synthetic rows from a random state
    kept between calls, so a failure inside the student's own update cannot be undone and a retried
    chunk gets other synthetic rows.
    """

    @functools.wraps(method)
    def atomic(self, *args, **kwargs):
        before = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    return atomic


class _AvailableIf:
    """A method that exists only when ``check(instance)`` passes; otherwise an ``AttributeError`` says why.

    Like :func:`sklearn.utils.metaestimators.available_if` (``hasattr`` is False when the check
    fails), except that the reason the check gives is in the message users see, not only in the
    chained exception.
    """

    def __init__(self, method, check):
        self.method = method
        self.check = check
        functools.update_wrapper(self, method)

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self.method  # on the class: the function, with its docstring
        try:
            self.check(instance)
        except AttributeError as exc:
            raise AttributeError(f"This {type(instance).__name__!r} has no attribute {self.name!r}: {exc}") from exc
        return types.MethodType(self.method, instance)


def available_if(check):
    """Decorate a method so that it exists only when ``check(instance)`` does not raise ``AttributeError``.

    Parameters
    ----------
    check : callable
        Raises ``AttributeError`` with the reason when the method is not available.

    Returns
    -------
    callable
        A decorator.
    """
    return lambda method: _AvailableIf(method, check)


def without_nested(params, name, *, when):
    """``params`` without the nested ``name__*`` entries, when ``when``: a shared trained model's own."""
    if not when:
        return params
    return {key: value for key, value in params.items() if not key.startswith(f"{name}__")}


def refuse_nested(params, name, *, when):
    """Raise if ``params`` would set a nested ``name__*`` parameter while ``when``.

    A trained model passed in is shared, not copied, by clone (so grid search does not copy it), and it
    is not refitted: setting its parameters would change the user's own object and tune nothing.
    """
    nested = sorted(key for key in params if key.startswith(f"{name}__"))
    if when and nested:
        raise ValueError(
            f"Cannot set {', '.join(nested)}: the {name} is already trained, so it is used as it is and "
            f"shared, not refitted. Pass an unfitted {name} to tune its parameters."
        )


def check_at_least_two_classes(classes):
    """Raise a ``ValueError`` naming the class when ``classes`` (the distinct labels of y) has only one."""
    if len(classes) < 2:
        raise ValueError(
            f"y contains only one class ({classes[:1].tolist()[0]!r}); a classifier needs at least two classes."
        )


@dataclass(frozen=True)
class DistillationTargets:
    """What a student learns from in one fit.

    Parameters
    ----------
    teacher_logits : ndarray of shape (n_samples, n_classes)
        The teacher's scores, columns aligned to ``classes``.
    y : ndarray of shape (n_samples,) of int, or None
        Index of each row's label in ``classes``, ``UNLABELLED`` (-1) for a row only the teacher
        labels (a transfer-set row); ``None`` when no row has a label.
    classes : ndarray of shape (n_classes,)
        The class labels, sorted.
    T : float
        Temperature.
    alpha : float
        Weight of the labels' cross-entropy; ``1 - alpha`` weighs the teacher.
    loss : loss object, default=None
        What a neural student minimises (see :mod:`skdistill.losses`): ``KLDistillationLoss(T, alpha)``
        when None. Classical students learn :meth:`soft_targets`.
    """

    teacher_logits: np.ndarray
    y: np.ndarray | None
    classes: np.ndarray
    T: float
    alpha: float
    loss: object = None

    def __post_init__(self):
        if self.loss is None:
            object.__setattr__(self, "loss", KLDistillationLoss(self.T, self.alpha))

    def soft_targets(self):
        """``alpha * onehot(y) + (1 - alpha) * softmax(teacher_logits / T)``; unlabelled rows: the teacher's part."""
        return soft_targets(self.teacher_logits, self.y, self.T, self.alpha)

    @property
    def has_unlabelled_rows(self):
        return self.y is None or bool((self.y == UNLABELLED).any())

    @property
    def labelled(self):
        """1 for a labelled row, 0 for one only the teacher labels; None when every row is labelled."""
        if self.y is None or not self.has_unlabelled_rows:
            return None
        return self.y != UNLABELLED

    @property
    def n_outputs(self):
        """Columns of the student's output: one per class."""
        return len(self.classes)


@dataclass(frozen=True)
class RegressionTargets:
    """What a regression student learns from in one fit.

    Parameters
    ----------
    teacher_outputs : ndarray of shape (n_samples, n_outputs)
        The teacher's predictions.
    y : ndarray of shape (n_samples, n_outputs) of float, or None
        The true targets; NaN on the rows only the teacher labels (a transfer set). ``None`` when no
        row has a target.
    alpha : float
        Weight of the true targets; ``1 - alpha`` weighs the teacher.
    """

    teacher_outputs: np.ndarray
    y: np.ndarray | None
    alpha: float
    loss: object = None

    def __post_init__(self):
        if self.loss is None:
            object.__setattr__(self, "loss", BlendedSquaredError(self.alpha))

    # Regression has no classes; neural students read the width from n_outputs.
    classes = None

    @property
    def teacher_logits(self):
        """The teacher's predictions (named as the neural students' training reads them)."""
        return self.teacher_outputs

    @property
    def has_unlabelled_rows(self):
        return self.y is None or bool(np.isnan(self.y).any())

    @property
    def labelled(self):
        """1 for a row with a target, 0 for one only the teacher labels; None when every row has one."""
        if self.y is None or not self.has_unlabelled_rows:
            return None
        return ~np.isnan(self.y).any(axis=1)

    @property
    def n_outputs(self):
        return self.teacher_outputs.shape[1]

    def blended(self):
        """``alpha * y + (1 - alpha) * teacher_outputs``; the teacher's outputs where ``y`` is missing."""
        return blended_targets(self.teacher_outputs, self.y, self.alpha)


def validated_rows(estimator, X, validation=None):
    """``X`` checked as ``validate_data(estimator, X, reset=False, **validation())`` checks it.

    A plain 2-D float array of the fitted width, all finite, for an estimator fitted without feature
    names, is returned as it is after checks that cost a few microseconds; anything else (a
    DataFrame, a list, another dtype or width, a non-finite value) goes through ``validate_data``,
    which converts it or raises its usual error. One-row predictions spent most of their time in
    ``validate_data`` (about 95 us).

    Parameters
    ----------
    estimator : fitted estimator
    X : array-like of shape (n_samples, n_features)
    validation : callable, default=None
        ``validation()`` gives the arguments of ``validate_data`` (a distiller's take what its student
        takes); None: ``dtype=(float64, float32)``, dense and finite. Not called for a plain float array.

    Returns
    -------
    ndarray or sparse matrix of shape (n_samples, n_features)
        float64 or float32; zeros in the columns of a DataFrame that are not numbers (see
        :func:`numeric_stand_in`).
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _FLOAT_DTYPES
        and 0 < X.shape[0]
        and X.shape[1] == getattr(estimator, "n_features_in_", -1)
        and not hasattr(estimator, "feature_names_in_")
        and np.isfinite(X.sum())  # inf or NaN anywhere makes the sum so (an overflow too: then the full check)
    ):
        return X
    arguments = {"dtype": (np.float64, np.float32)} if validation is None else validation()
    return validate_data(estimator, numeric_stand_in(X), reset=False, **arguments)


def is_pandas_frame(X):
    """Whether ``X`` is a pandas DataFrame (other frames, polars', are array-likes to scikit-learn)."""
    pd = sys.modules.get("pandas")  # not imported: X cannot be one
    return pd is not None and isinstance(X, pd.DataFrame)


def non_numeric_columns(X):
    """The names of the columns of the pandas DataFrame ``X`` that do not hold numbers (booleans are
    numbers); empty for anything else."""
    if not is_pandas_frame(X):
        return []
    import pandas as pd

    return [name for name, dtype in X.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]


def numeric_stand_in(X):
    """What ``validate_data`` checks in place of ``X``: ``X`` itself, or for a DataFrame with columns that
    are not numbers, a shallow copy with each of them replaced by zeros.

    Such columns reach teacher and student as they are; what validation needs (the number of rows and
    columns, their names, the numeric columns' missing values) stays, without converting every cell of
    the frame into a Python object (about 4 times the frame's memory, at fit and at each predict).
    """
    columns = non_numeric_columns(X)
    if not columns:
        return X
    stand_in = X.copy(deep=False)  # the caller's frame keeps its columns (a column is replaced, not written to)
    for name in columns:
        stand_in[name] = np.zeros(len(X), dtype=np.float32)
    return stand_in


_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def softmax_in_place(logits):
    """Softmax along rows, written into ``logits`` (a fresh, writable float array): no temporaries.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)

    Returns
    -------
    ndarray
        ``logits`` itself, now holding probabilities.
    """
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


class LogitsPredictionMixin:
    """``predict_proba``, ``predict_log_proba`` and ``predict`` for models that compute logits.

    The class defines ``_logits(X)`` (checks included) and ``classes_``, the label of each column.
    """

    def _check_gives_probabilities(self, method):
        """Raise ``AttributeError`` if this fitted model has no class probabilities (a regression head)."""

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        self._check_gives_probabilities("predict_proba")
        return softmax_in_place(self._logits(X))  # _logits returns a fresh array

    def predict_log_proba(self, X):
        """Log of the class probabilities, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        self._check_gives_probabilities("predict_log_proba")
        return log_softmax(self._logits(X), axis=1)

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]
