"""Teacher adapters: one per kind of teacher, all turning X into class scores the same way.

Every adapter exposes, once fitted, ``classes_`` (the labels its columns score, in column order) and
``logits(X)`` (scores whose softmax is the teacher's class distribution). Adapters never modify the
model they wrap, and :func:`sklearn.base.clone` shares a trained model instead of copying it.
"""

import contextlib
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.multioutput import MultiOutputRegressor
from sklearn.utils import InputTags, _safe_indexing, check_array, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted, has_fit_parameter

from ._base import LogitsPredictionMixin, clone_sharing, refuse_nested, without_nested
from ._portable import PortablePickleMixin
from ._torch_utils import DEVICE_CONSTRAINT, batched_forward, module_device_and_dtype, resolve_device
from .students._provenance import takes_any_labels

__all__ = ["SklearnTeacher", "TorchTeacher"]

# The log of a probability of exactly 0; finite so that softmax(log(p) / T) stays well defined.
_LOG_ZERO_PROBA = float(np.log(np.finfo(np.float64).tiny))


def is_trained(model):
    """Whether ``model`` is a ready-made teacher, one that needs no fitting on the training data.

    The one answer to "is this teacher trained?", asked by clone (a trained teacher is shared), the
    tags (``y`` is optional for pure distillation from a trained teacher), ``partial_fit`` (offered
    for a trained teacher only) and the adapters. Trained are: a torch module or a ``TorchTeacher``;
    a ``SklearnTeacher`` whose estimator is trained; a fitted model (as
    :func:`~sklearn.utils.validation.check_is_fitted` tells); a model without ``fit`` (any object
    with ``predict_proba``); a list of teachers or a ``TeacherEnsemble`` whose members (those not
    dropped) all are.
    """
    from ._ensemble import TeacherEnsemble  # it builds on this module

    if isinstance(model, list):
        return all(is_trained(teacher) for teacher in model)
    if isinstance(model, TeacherEnsemble):
        return is_trained(model._kept_teachers())
    if isinstance(model, (torch.nn.Module, TorchTeacher)):
        return True
    if isinstance(model, SklearnTeacher):
        return is_trained(model.estimator)
    if not hasattr(model, "fit"):
        return True
    try:
        check_is_fitted(model)
    except NotFittedError:
        return False
    return True


def shared_on_clone(teacher):
    """Whether :func:`~sklearn.base.clone` passes ``teacher`` on as it is instead of copying it.

    A trained model given as it is is only read, so every clone shares it; so is a list of teachers,
    whose members are only read too (unfitted ones are cloned before fitting). An adapter is cloned,
    and shares its own trained model.
    """
    if isinstance(teacher, list):
        return True
    return not isinstance(teacher, _TeacherAdapter) and is_trained(teacher)


def _tagged_classifier(estimator):
    """Whether scikit-learn's tags say ``estimator`` is a classifier (public API: ``get_tags``)."""
    try:
        return get_tags(estimator).estimator_type == "classifier"
    except Exception:  # noqa: BLE001 - another library's object whose tags cannot be read: not known to be one
        return False


def _for_outputs(regressor, y):
    """A clone of ``regressor`` able to fit ``y``: one per column (``MultiOutputRegressor``) for a
    regressor of one output and a ``y`` of several."""
    several = np.ndim(y) == 2 and np.shape(y)[1] > 1
    if several and not get_tags(regressor).target_tags.multi_output:
        return MultiOutputRegressor(clone(regressor))
    return clone(regressor)


def as_teacher(teacher):
    """Wrap a user's teacher in its adapter (unfitted); adapters given by the user are cloned.

    Parameters
    ----------
    teacher : torch.nn.Module, classifier with ``predict_proba``, adapter or list of teachers
        A list is a :class:`~skdistill.TeacherEnsemble` of equal weights.

    Returns
    -------
    TorchTeacher, SklearnTeacher or TeacherEnsemble
    """
    if isinstance(teacher, _TeacherAdapter):
        return clone(teacher)
    if isinstance(teacher, list):
        from ._ensemble import ensemble_of  # it builds on this module

        return ensemble_of(teacher)
    if isinstance(teacher, torch.nn.Module):
        return TorchTeacher(teacher)
    if hasattr(teacher, "predict_proba") or hasattr(teacher, "predict"):
        return SklearnTeacher(teacher)
    raise TypeError(
        "teacher must be a torch.nn.Module, a scikit-learn classifier with predict_proba (fitted or "
        f"not), a TorchTeacher, a SklearnTeacher, a TeacherEnsemble or a list of teachers; got "
        f"{type(teacher).__name__}."
    )


def teacher_input_tags(teacher):
    """The kinds of input ``teacher`` takes by its scikit-learn tags: missing values, sparse matrices.

    A scikit-learn teacher's own input tags; every member's for an ensemble; a torch teacher takes
    neither NaN nor sparse input.

    Parameters
    ----------
    teacher : torch.nn.Module, estimator, adapter or list of teachers

    Returns
    -------
    sklearn.utils.InputTags
    """
    try:
        adapter = teacher if isinstance(teacher, _TeacherAdapter) else as_teacher(teacher)
    except TypeError:  # not a teacher: fit says so, before any work
        return InputTags()
    return get_tags(adapter).input_tags


def _own_input_tags(estimator, tags):
    """``tags`` with ``estimator``'s own ``allow_nan`` and ``sparse`` (unchanged if it has no scikit-learn tags)."""
    try:
        own = get_tags(estimator).input_tags
    except AttributeError:  # no __sklearn_tags__ (an estimator of another library): nothing is known
        return tags
    tags.input_tags.allow_nan = own.allow_nan
    tags.input_tags.sparse = own.sparse
    return tags


def _check_finite(scores, who):
    bad_rows = ~np.isfinite(scores).all(axis=1)
    if bad_rows.any():
        raise ValueError(
            f"{who} returned non-finite values (NaN or inf) for {int(bad_rows.sum())} of "
            f"{scores.shape[0]} rows (first at row {int(np.flatnonzero(bad_rows)[0])}); a teacher must "
            "return finite scores."
        )


def _log_of_probabilities(proba, who):
    """``log(proba)``, finite, computed in place: ``proba`` (finite, owned by the caller) is overwritten."""
    if proba.size and (proba.min() < 0 or proba.max() > 1 + 1e-6):
        raise ValueError(
            f"{who} returned probabilities outside [0, 1] (min {proba.min():.4g}, max {proba.max():.4g})."
        )
    with np.errstate(divide="ignore"):
        np.log(proba, out=proba)
    return np.maximum(proba, _LOG_ZERO_PROBA, out=proba)


class _TeacherAdapter(LogitsPredictionMixin, BaseEstimator):
    """What every adapter offers once fitted: ``classes_``, ``logits``, ``predict_proba``, ``predict``."""

    # Appended to errors about labels the teacher does not score.
    _relabel_hint = ""

    @property
    def task(self):
        """``"classification"`` (``logits`` are class scores) or ``"regression"`` (``logits`` are predictions)."""
        return "classification"

    def check_fit_arguments(self, y, sample_weight):
        """Raise if fitting this teacher on ``y`` and ``sample_weight`` cannot work; called before any work.

        Parameters
        ----------
        y : array-like or None
        sample_weight : array-like or None
        """

    def check_input(self, X, *, input_name="X"):
        """Raise if this teacher certainly cannot take ``X``; called before any work.

        The default knows nothing of the model and lets it decide when it runs. An ensemble calls this
        for every member before it fits or runs any of them.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        input_name : str, default="X"
            How an error names ``X`` (``"X_unlabeled"``, say).
        """

    def fit_logits(self, X, y=None, sample_weight=None):
        """:meth:`fit`, then :meth:`logits` of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self.fit(X, y, sample_weight=sample_weight).logits(X)

    def _logits(self, X):
        return self.logits(X)

    def _fitted_state(self):
        """The attributes ``fit`` set, for the teacher-output cache; a shared model is named, not stored."""
        params = self.get_params(deep=False)
        state = {}
        for name, value in vars(self).items():
            if name.endswith("_") and not name.startswith("_"):
                shared = [param for param, param_value in params.items() if param_value is value]
                state[name] = _SharedParameter(shared[0]) if shared else value
        return state

    def _set_fitted_state(self, state):
        """Restore what :meth:`_fitted_state` returned (a shared model is this adapter's own parameter)."""
        for name, value in state.items():
            setattr(self, name, getattr(self, value.name) if isinstance(value, _SharedParameter) else value)


class _SharedParameter:
    """In a cached fitted state: "this attribute is the adapter's parameter ``name``" (a trained model)."""

    def __init__(self, name):
        self.name = name


class TorchTeacher(PortablePickleMixin, _TeacherAdapter):
    """A trained PyTorch module used as a teacher.

    The module is only read: it runs in eval mode, under :func:`torch.inference_mode`, in batches, and
    its weights, ``training`` flags and ``requires_grad`` flags are as they were afterwards. Cloning a
    ``TorchTeacher`` (as grid search does for every candidate) shares the module rather than copying it.

    Parameters
    ----------
    module : torch.nn.Module
        A trained network mapping a float tensor of shape (n, n_features) to a tensor of shape
        (n, n_classes). A binary teacher may also return one column (or a vector) of scores for the
        positive class.
    output : {"logits", "proba", "values"}, default="logits"
        What the module returns: raw class scores (softmax, or sigmoid for one column, turns them into
        probabilities), class probabilities, or ``"values"``: regression outputs, one column per target
        (a teacher for :class:`~skdistill.DistilledRegressor`, which wraps a bare module this way).
    classes : array-like of shape (n_classes,), default=None
        The label scored by each output column, in column order. By default the sorted labels of the
        ``y`` given to :meth:`fit` (so the number of distinct labels must equal the output width), or
        ``0 .. n_classes - 1`` when ``fit`` gets no ``y``.
    device : {"auto", "cpu", "cuda"}, str, torch.device or None, default=None
        Where inference runs. ``None`` runs it where the module's parameters are. Another device moves
        the module there for the inference and back afterwards.
    batch_size : int, default=1024
        Rows per forward pass; memory use is bounded by one batch, not by the number of rows.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The label of each column of :meth:`logits` (not with ``output="values"``).
    n_outputs_ : int
        With ``output="values"``: the number of regression outputs.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.

    See Also
    --------
    SklearnTeacher : The adapter for scikit-learn teachers.
    skdistill.DistilledClassifier : Distils a teacher into a student.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skdistill import TorchTeacher
    >>> module = torch.nn.Linear(4, 3)
    >>> X = np.random.RandomState(0).normal(size=(5, 4)).astype(np.float32)
    >>> teacher = TorchTeacher(module, classes=["a", "b", "c"]).fit(X)
    >>> teacher.logits(X).shape
    (5, 3)
    >>> teacher.classes_.tolist()
    ['a', 'b', 'c']
    """

    _relabel_hint = " If its columns stand for other labels, pass TorchTeacher(module, classes=[...])."

    _parameter_constraints = {
        "module": [torch.nn.Module],
        "output": [StrOptions({"logits", "proba", "values"})],
        "classes": ["array-like", None],
        "device": DEVICE_CONSTRAINT,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, module, *, output="logits", classes=None, device=None, batch_size=1024):
        self.module = module
        self.output = output
        self.classes = classes
        self.device = device
        self.batch_size = batch_size

    def __sklearn_clone__(self):
        return clone_sharing(self, ["module"])

    @property
    def task(self):
        """``"regression"`` with ``output="values"``, else ``"classification"``."""
        return "regression" if self.output == "values" else "classification"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Record the classes the module scores; the module itself is not trained.

        One row of ``X`` goes through the module to learn its output width.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Labels; used for ``classes_`` when ``classes`` is not given.
        sample_weight : ignored
            Accepted for a uniform teacher interface.

        Returns
        -------
        self : TorchTeacher
        """
        X = self._checked_input(X)
        self._record_classes(self._raw_logits(X[:1]), y, X.shape[1])
        return self

    def check_fit_arguments(self, y, sample_weight):
        """Raise if ``device`` is not available here; called before any work.

        Parameters
        ----------
        y : array-like or None
        sample_weight : array-like or None
        """
        if self.device is not None:
            resolve_device(self.device, parameter="device")

    def check_input(self, X, *, input_name="X"):
        """Raise if the module cannot take ``X``: it takes dense, finite numbers only.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        input_name : str, default="X"
            How an error names ``X``.
        """
        self._checked_input(X, input_name=input_name)

    def _checked_input(self, X, input_name="X"):
        return check_array(X, dtype=(np.float64, np.float32), estimator=self, input_name=input_name)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_logits(self, X, y=None, sample_weight=None):
        """:meth:`fit`, then :meth:`logits` of ``X``, with a single pass of the module over ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_weight : ignored

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Of the dtype :meth:`logits` gives.
        """
        X = self._checked_input(X)
        logits = self._raw_logits(X)
        self._record_classes(logits, y, X.shape[1])
        return logits

    def _record_classes(self, logits, y, n_features):
        if self.output == "values":
            self.n_features_in_ = n_features
            self.n_outputs_ = logits.shape[1]
            return
        n_classes = logits.shape[1]
        if self.classes is not None:
            classes = np.asarray(self.classes)
            source = f"classes={self.classes!r}"
        elif y is not None:
            classes = np.unique(np.asarray(y))
            source = f"y, whose distinct labels are {classes.tolist()!r},"
        else:
            classes = np.arange(n_classes)
            source = None
        if classes.ndim != 1 or len(np.unique(classes)) != len(classes):
            raise ValueError(f"classes must be a list of distinct labels; got {self.classes!r}.")
        if len(classes) != n_classes:
            raise ValueError(
                f"The teacher module scores {n_classes} classes (a single output column counts as 2), but "
                f"{source} has {len(classes)}. Pass TorchTeacher(module, classes=[...]) with one label per "
                "output column, in column order."
            )
        self.n_features_in_ = n_features
        self.classes_ = classes

    def logits(self, X):
        """The module's scores for ``X``, as logits, one column per entry of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Of dtype float32 when the module computes in float32 (or a smaller float type), else float64.
        """
        check_is_fitted(self)
        X = self._checked_input(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the teacher was fitted with {self.n_features_in_}."
            )
        return self._raw_logits(X)

    def _raw_logits(self, X):
        """Scores for X from the module, made finite-checked logits of width >= 2 where binary."""
        home, dtype = module_device_and_dtype(self.module)
        device = home if self.device is None else resolve_device(self.device, parameter="device")
        with _moved_to(self.module, device, home):
            scores = batched_forward(
                self.module,
                X,
                batch_size=self.batch_size,
                device=device,
                dtype=dtype,
                who="The teacher module",
                # A module computing in float32 (or less) gives float32 logits: float64 would only double
                # the memory of the largest array of a fit, for no extra precision.
                out_dtype=np.float64 if dtype == torch.float64 else np.float32,
            )
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.ndim != 2 or scores.shape[0] != X.shape[0]:
            raise ValueError(
                f"The teacher module must return one row of scores per input row, shape (n_samples, "
                f"n_classes); for {X.shape[0]} rows it returned shape {scores.shape}."
            )
        _check_finite(scores, "The teacher module")
        if self.output == "values":
            return scores
        if self.output == "proba":
            if scores.shape[1] == 1:
                scores = np.hstack([1.0 - scores, scores])
            return _log_of_probabilities(scores, "The teacher module (output='proba')")
        if scores.shape[1] == 1:
            # One logit z per row is a sigmoid model: softmax([0, z]) == [1 - sigmoid(z), sigmoid(z)].
            scores = np.hstack([np.zeros_like(scores), scores])
        return scores


@contextlib.contextmanager
def _moved_to(module, device, home):
    """Move ``module`` to ``device`` for the block and back to ``home`` after (nothing if equal)."""
    if device == home:
        yield module
        return
    module.to(device)
    try:
        yield module
    finally:
        module.to(home)


class SklearnTeacher(_TeacherAdapter):
    """A scikit-learn classifier (or any object with ``predict_proba`` and ``classes_``) or regressor as a teacher.

    A fitted classifier is used as it is, and shared rather than copied by :func:`sklearn.base.clone`.
    An unfitted one is cloned and the clone is fitted on the training data (with ``sample_weight``
    when given), so the user's object is never modified.

    Parameters
    ----------
    estimator : object with ``predict_proba``, or with ``predict``
        The teacher: a classifier (it has ``predict_proba``), or a regressor (anything with
        ``predict`` and no ``predict_proba``), whose predictions :meth:`logits` returns as they are.
    batch_size : int or None, default=65536
        Rows per call of ``predict_proba`` (or ``predict``) when scoring: memory beyond the output is
        bounded by one batch (the estimator's own copies and temporaries, such as a float64 copy of
        float32 rows), not by the number of rows. The outputs are written into one array. ``None``
        scores all rows in one call. Batches this large keep the cost of each call (milliseconds for
        a random forest) negligible.

    Attributes
    ----------
    estimator_ : object
        The fitted teacher: ``estimator`` itself when it came fitted, a fitted clone otherwise. A clone
        of another library's estimator (LightGBM, XGBoost, CatBoost: not built on a scikit-learn model) is fitted on the
        positions ``0 .. K-1`` of the sorted labels, which XGBoost requires: its ``classes_`` and
        ``predict`` give positions in ``classes_`` (a dict ``class_weight`` is translated to them).
    classes_ : ndarray of shape (n_classes,)
        The teacher's classes (labels), in the order of its ``predict_proba`` columns (classifiers).
    n_outputs_ : int
        The number of outputs of a regressor.

    See Also
    --------
    TorchTeacher : The adapter for PyTorch teachers.

    Notes
    -----
    The teacher's logits are ``log(predict_proba(X))``: softmax is unchanged by adding a constant to a
    row, so these are the teacher's logits up to such a constant, and tempering them by ``T`` gives
    ``p ** (1 / T)``, normalised. Probabilities of exactly 0 (as trees give) stay (numerically) 0.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import SklearnTeacher
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = SklearnTeacher(LogisticRegression(max_iter=500)).fit(X, y)
    >>> teacher.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["predict_proba"]), HasMethods(["predict"])],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, estimator, *, batch_size=65536):
        self.estimator = estimator
        self.batch_size = batch_size

    def __sklearn_clone__(self):
        return clone_sharing(self, ["estimator"] if is_trained(self.estimator) else [])

    def __sklearn_tags__(self):
        return _own_input_tags(self.estimator, super().__sklearn_tags__())  # it passes X on as it is

    @property
    def task(self):
        """``"classification"`` for a classifier (or an estimator with ``predict_proba``), else ``"regression"``."""
        is_classifier = hasattr(self.estimator, "predict_proba") or _tagged_classifier(self.estimator)
        return "classification" if is_classifier else "regression"

    def get_params(self, deep=True):
        """Parameters; a trained estimator's own are not offered, since they cannot be tuned here.

        Parameters
        ----------
        deep : bool, default=True

        Returns
        -------
        dict
        """
        return without_nested(super().get_params(deep=deep), "estimator", when=is_trained(self.estimator))

    def set_params(self, **params):
        """Set parameters; refuses to change a trained (shared) estimator's own.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self
        """
        refuse_nested(params, "estimator", when=is_trained(self.estimator))
        return super().set_params(**params)

    def check_fit_arguments(self, y, sample_weight):
        """Raise if fitting this teacher on ``y`` and ``sample_weight`` cannot work; called before any work.

        Parameters
        ----------
        y : array-like or None
        sample_weight : array-like or None
        """
        name = type(self.estimator).__name__
        if self.task == "classification" and not hasattr(self.estimator, "predict_proba"):
            raise ValueError(
                f"The teacher {name} is a classifier without predict_proba, so it gives no class probabilities to "
                "learn from. Use one with predict_proba (SVC(probability=True), LogisticRegression, ...) or wrap it "
                "in CalibratedClassifierCV."
            )
        if is_trained(self.estimator):
            return
        if y is None:
            raise ValueError(
                f"The teacher {name} is not fitted: fitting it requires y to be passed, but the target y is "
                "None. Pass y, or a fitted teacher to distil on unlabelled data."
            )
        if sample_weight is not None and not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(
                f"sample_weight was given, but the unfitted teacher {name} does not accept sample_weight "
                "in fit. Fit the teacher yourself and pass it fitted."
            )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Use the estimator as it is if fitted; otherwise fit a clone of it on ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Required when the estimator is not fitted.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the clone's ``fit``.

        Returns
        -------
        self : SklearnTeacher
        """
        self.check_fit_arguments(y, sample_weight)
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        if self.task == "regression":
            fitted = is_trained(self.estimator)
            self.estimator_ = self.estimator if fitted else _for_outputs(self.estimator, y).fit(X, y, **fit_params)
            self.n_outputs_ = np.asarray(self.estimator_.predict(_safe_indexing(X, [0]))).reshape(1, -1).shape[1]
            return self
        labels = None
        if is_trained(self.estimator):
            self.estimator_ = self.estimator
        elif takes_any_labels(self.estimator):
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        else:
            # XGBoost takes only the labels 0 .. K-1 (and other libraries need not take strings): fit on
            # the position of each label among the sorted labels, and name the columns by the labels.
            labels, positions = np.unique(np.asarray(y), return_inverse=True)
            estimator = clone(self.estimator)
            estimator.set_params(**self._class_weights_by_position(estimator, labels))
            self.estimator_ = estimator.fit(X, positions, **fit_params)
        classes = getattr(self.estimator_, "classes_", None)
        if classes is None:
            raise ValueError(
                f"The teacher {type(self.estimator_).__name__} has no classes_ attribute, so its "
                "predict_proba columns cannot be matched to labels."
            )
        self.classes_ = np.asarray(classes) if labels is None else self._labels_at(labels, classes)
        return self

    @staticmethod
    def _class_weights_by_position(estimator, labels):
        """A dict ``class_weight`` keyed by position instead of label, as a ``set_params`` argument."""
        weights = estimator.get_params(deep=False).get("class_weight")
        if not isinstance(weights, dict):
            return {}
        positions = {label: position for position, label in enumerate(labels.tolist())}
        unknown = [label for label in weights if label not in positions]
        if unknown:
            raise ValueError(
                f"class_weight has weights for {unknown!r}, which are not labels of y ({labels.tolist()!r})."
            )
        return {"class_weight": {positions[label]: weight for label, weight in weights.items()}}

    def _labels_at(self, labels, classes):
        """The labels at positions ``classes`` (those of a teacher fitted on positions)."""
        classes = np.asarray(classes)
        if classes.dtype.kind not in "iu" or classes.min() < 0 or classes.max() >= len(labels):
            raise ValueError(
                f"The teacher {type(self.estimator_).__name__} was fitted on the labels 0 .. {len(labels) - 1} "
                f"but its classes_ are {classes.tolist()!r}; its predict_proba columns cannot be matched to labels."
            )
        return labels[classes]

    def logits(self, X):
        """``log(predict_proba(X))`` of the teacher, as finite logits, scored in batches of ``batch_size`` rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
        """
        check_is_fitted(self)
        if self.task == "regression":
            return self._predictions(X)
        name = f"The teacher {type(self.estimator_).__name__}"
        logits = self._scored_in_batches(X, len(self.classes_), self._batch_proba, name)
        return _log_of_probabilities(logits, name)

    def _batch_proba(self, X_batch, n_rows, name):
        proba = np.asarray(self.estimator_.predict_proba(X_batch), dtype=np.float64)
        expected_shape = (n_rows, len(self.classes_))
        if proba.shape != expected_shape:
            raise ValueError(
                f"{name}.predict_proba must return shape (n_samples, n_classes) = {expected_shape}, one "
                f"column per entry of its classes_; got {proba.shape}."
            )
        return proba

    def _predictions(self, X):
        """A regressor's ``predict(X)`` as a finite float64 array of shape (n_samples, n_outputs_)."""
        name = f"The teacher {type(self.estimator_).__name__}"
        return self._scored_in_batches(X, self.n_outputs_, self._batch_predictions, name)

    def _batch_predictions(self, X_batch, n_rows, name):
        predictions = np.asarray(self.estimator_.predict(X_batch), dtype=np.float64)
        if predictions.size != n_rows * self.n_outputs_:
            raise ValueError(
                f"{name}.predict must return one prediction per row and output, shape ({n_rows}, "
                f"{self.n_outputs_}); got shape {predictions.shape}."
            )
        return predictions.reshape(n_rows, self.n_outputs_)

    def _scored_in_batches(self, X, n_columns, score_batch, name):
        """``score_batch`` of ``X`` in batches of ``batch_size`` rows, in one new float64 array, checked finite.

        ``X`` is passed as it is when it fits in one batch, else sliced by position (``iloc`` for a
        DataFrame), so any estimator sees the kind of input it was given.
        """
        n_rows = _num_samples(X)
        if self.batch_size is None or n_rows <= self.batch_size:
            # A copy: the estimator's own array (one it keeps, say) is not ours to overwrite with the logs.
            scores = np.array(score_batch(X, n_rows, name), dtype=np.float64)
        else:
            scores = np.empty((n_rows, n_columns), dtype=np.float64)
            for start in range(0, n_rows, self.batch_size):
                rows = slice(start, min(start + self.batch_size, n_rows))
                scores[rows] = score_batch(_safe_indexing(X, rows), rows.stop - rows.start, name)
        _check_finite(scores, name)
        return scores
