"""TeacherEnsemble: several teachers combined into one, by a weighted average of their outputs.

The ensemble is a teacher adapter like the others (``fit``, ``fit_logits``, ``logits``, ``classes_``),
built from one adapter per member. Through the teacher-output cache each member's outputs are
stored on their own (:func:`skdistill._cache.fit_logits` hands the ensemble the distiller's
``memory``): candidates of a grid search that differ only in the weights run each teacher once.
"""

import copy
from collections import Counter

import numpy as np
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _cache
from ._base import _SharedByClone, refuse_nested
from ._portable import portable_state, restored_state
from .teachers import (
    TorchTeacher,
    _log_of_probabilities,
    _TeacherAdapter,
    as_teacher,
    is_trained,
    shared_on_clone,
    teacher_input_tags,
)

__all__ = ["TeacherEnsemble", "ensemble_of"]

# A member given as this string is left out (as in scikit-learn's VotingClassifier).
_DROP = "drop"


def ensemble_of(teachers):
    """A list of teachers as a ``TeacherEnsemble`` of equal weights, named as ``make_pipeline`` names steps.

    Each name is the lowercased class name, suffixed ``-1``, ``-2``, ... when several teachers share it.

    Parameters
    ----------
    teachers : list of teachers

    Returns
    -------
    TeacherEnsemble
    """
    names = [type(teacher).__name__.lower() for teacher in teachers]
    repeated = {name: 0 for name, count in Counter(names).items() if count > 1}
    for index, name in enumerate(names):
        if name in repeated:
            repeated[name] += 1
            names[index] = f"{name}-{repeated[name]}"
    return TeacherEnsemble(list(zip(names, teachers)))


def _is_dropped(teacher):
    return isinstance(teacher, str) and teacher == _DROP


def _pairs(teachers):
    """``teachers`` as (name, teacher) pairs, or None when it is not a list of such pairs."""
    if not isinstance(teachers, list):
        return None
    if not all(isinstance(pair, (tuple, list)) and len(pair) == 2 and isinstance(pair[0], str) for pair in teachers):
        return None
    return [tuple(pair) for pair in teachers]


class TeacherEnsemble(_TeacherAdapter):
    """Several teachers used as one: their outputs averaged with weights.

    The members may be of any kind a distiller takes as ``teacher``: torch modules, fitted or unfitted
    scikit-learn models, :class:`TorchTeacher` and :class:`SklearnTeacher` adapters, mixed freely.
    Each member is handled by its own adapter: unfitted models are cloned and fitted on the training
    data, trained ones are only read. A distiller given a plain list of teachers
    (``DistilledClassifier(teacher=[net, forest])``) uses ``TeacherEnsemble`` with equal weights.

    Parameters
    ----------
    teachers : list of (str, teacher) tuples
        The members and their names, as in :class:`~sklearn.ensemble.VotingClassifier`. A member
        given as ``"drop"`` is left out. Names must be unique, must not contain ``"__"`` and must
        differ from this class's parameters. An unfitted member's parameters are tunable as
        ``<name>__<param>`` (``teacher__<name>__<param>`` in a distiller); a member can be replaced
        or dropped as ``<name>=...``. A trained member's own parameters are not offered: it is used
        as it is, not refitted.
    weights : array-like of shape (n_teachers,), default=None
        One non-negative weight per member (dropped ones included, their weight ignored); ``None``
        gives every member the same weight. Only ratios matter: the weights of the members not
        dropped are divided by their sum. At least one must be positive.
    combine : {"logits", "proba"}, default="logits"
        How classification teachers are combined (see Notes). ``"logits"``: the weighted average of
        the members' log-probabilities, a renormalised weighted geometric mean of their
        probabilities; every member must score the same classes. ``"proba"``: the log of the
        weighted average of their probabilities, a mixture; the members may score different classes
        (each gives probability 0 to a class it does not score). Regression teachers are always
        combined by the weighted mean of their predictions, and ``combine`` must be ``"logits"``.

    Attributes
    ----------
    teachers_ : list of adapters
        The fitted adapter of each member not dropped, in order.
    named_teachers_ : dict
        The same, by name.
    weights_ : ndarray of shape (n_kept,)
        The weights of ``teachers_`` (``n_kept`` members, those not dropped), divided by their sum.
    classes_ : ndarray of shape (n_classes,)
        Classification: the labels scored by the members (all of them, sorted).
    n_outputs_ : int
        Regression: the number of outputs, the same for every member.

    See Also
    --------
    TorchTeacher : The adapter for a PyTorch teacher.
    SklearnTeacher : The adapter for a scikit-learn teacher.
    sklearn.ensemble.VotingClassifier : The same parameters for a voting classifier.

    Notes
    -----
    Let ``w_m`` be the weights of the members not dropped, divided by their sum, ``z_m(x)`` the
    logits of member ``m`` and ``p_m(c | x) = softmax(z_m(x))_c`` its probabilities (for a
    scikit-learn member, its ``predict_proba``). :meth:`logits` returns, for each class ``c``:

    - ``combine="logits"``: ``sum_m w_m * log_softmax(z_m(x))_c``, so that the ensemble's
      probabilities are ``p(c | x) = prod_m p_m(c | x) ** w_m / sum_c' prod_m p_m(c' | x) ** w_m``.
      A class that a member gives probability 0 (as trees often do) gets a probability of nearly 0
      from the ensemble.
    - ``combine="proba"``: ``log(sum_m w_m * p_m(c | x))``, so that ``p(c | x) = sum_m w_m *
      p_m(c | x)``, where ``p_m(c | x) = 0`` for a class ``c`` that member ``m`` does not score. A
      probability of exactly 0 has the log of the smallest positive float64, as for
      :class:`SklearnTeacher`.
    - regression: ``sum_m w_m * f_m(x)``, the weighted mean of the members' predictions.

    A distiller softens the combined logits by its temperature ``T`` as it does a single teacher's:
    the student learns ``softmax(logits(x) / T)``. A member of weight 0 is fitted and run (its
    classes count in ``classes_``) but adds nothing to the combination.

    Under a distiller, each member's outputs are cached on their own (see the distiller's
    ``memory``), so changing only ``weights`` or ``combine``, as a grid search over
    ``teacher__weights`` does, runs no teacher again. With the distiller's ``teacher_cv``, an
    unfitted member's outputs on the training rows are out-of-fold and a trained member's are its
    outputs as they are; they are then combined as above.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import DistilledClassifier, TeacherEnsemble
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = TeacherEnsemble(
    ...     [("forest", RandomForestClassifier(n_estimators=20, random_state=0)),
    ...      ("logistic", LogisticRegression(max_iter=500))],
    ...     weights=[2, 1],
    ... )
    >>> clf = DistilledClassifier(teacher, LogisticRegression(max_iter=500), T=2.0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.teacher_.weights_.round(3).tolist()
    [0.667, 0.333]
    """

    _parameter_constraints = {
        "teachers": [list],
        "weights": ["array-like", None],
        "combine": [StrOptions({"logits", "proba"})],
    }

    # The task of an ensemble whose members do not say theirs (bare torch modules only).
    _default_task = "classification"

    def __init__(self, teachers, *, weights=None, combine="logits"):
        self.teachers = teachers
        self.weights = weights
        self.combine = combine

    # --- Parameters and cloning --------------------------------------------------------------------

    def __sklearn_clone__(self):
        # Trained members are shared as they are (they are only read); unfitted ones and adapters are
        # cloned, adapters sharing their own trained model.
        stand_in = copy.copy(self)
        pairs = _pairs(self.teachers)
        if pairs is not None:
            stand_in.teachers = [
                (name, _SharedByClone(teacher) if shared_on_clone(teacher) else teacher) for name, teacher in pairs
            ]
        cloned = BaseEstimator.__sklearn_clone__(stand_in)
        if "_default_task" in vars(self):  # a distiller's hint survives the clones it makes (folds, probes)
            cloned._default_task = self._default_task
        return cloned

    def get_params(self, deep=True):
        """Get parameters: with ``deep=True``, also each member by name and an unfitted member's own.

        Parameters
        ----------
        deep : bool, default=True
            Include ``<name>`` for every member and ``<name>__<param>`` for a member that is not
            trained (or is an adapter).

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=False)
        pairs = _pairs(self.teachers)
        if not deep or pairs is None:  # tolerated here: the parameters are checked when fitting
            return params
        for name, teacher in pairs:
            params[name] = teacher
            if hasattr(teacher, "get_params") and not shared_on_clone(teacher):
                params.update({f"{name}__{key}": value for key, value in teacher.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        """Set parameters: ``teachers`` first, then members by name (``"drop"`` leaves one out), then the rest.

        A trained member's own parameters are refused: it is used as it is, not refitted.

        Parameters
        ----------
        **params : dict
            ``weights``, ``combine``, ``<name>``, ``<name>__<param>``.

        Returns
        -------
        self : TeacherEnsemble
        """
        if "teachers" in params:
            self.teachers = params.pop("teachers")
        pairs = _pairs(self.teachers) or []
        names = [name for name, _ in pairs]
        replaced = {key: params.pop(key) for key in list(params) if key in names}
        if replaced:
            self.teachers = [(name, replaced.get(name, teacher)) for name, teacher in pairs]
        for name, teacher in _pairs(self.teachers) or []:
            refuse_nested(params, name, when=shared_on_clone(teacher) and not _is_dropped(teacher))
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        members = [teacher_input_tags(teacher) for teacher in self._kept_teachers()]
        if members:  # X reaches every member as it is: each must take it
            tags.input_tags.allow_nan = all(member.allow_nan for member in members)
            tags.input_tags.sparse = all(member.sparse for member in members)
        return tags

    def _kept_teachers(self):
        """The members not dropped, as given (for :func:`~skdistill.teachers.is_trained`)."""
        return [teacher for _, teacher in _pairs(self.teachers) or [] if not _is_dropped(teacher)]

    # --- Persistence -------------------------------------------------------------------------------

    def __getstate__(self):
        # The member modules are stored as numpy arrays (see skdistill._portable), each once: a fitted
        # member's adapter names the module it shares with the ``teachers`` parameter.
        state = super().__getstate__()
        pairs = _pairs(state.get("teachers"))
        slots = {}  # id(module) -> its key in the state
        for _, teacher in pairs or []:
            if isinstance(teacher, torch.nn.Module):
                slots.setdefault(id(teacher), (f"_member_module_{len(slots)}", teacher))
        if not slots:
            return state
        state = dict(state)
        state["teachers"] = [(name, _slot_of(teacher, slots)) for name, teacher in pairs]
        if "teachers_" in state:
            stand_ins = {id(adapter): _adapter_stand_in(adapter, slots) for adapter in state["teachers_"]}
            state["teachers_"] = [stand_ins[id(adapter)] for adapter in state["teachers_"]]
            state["named_teachers_"] = {name: stand_ins[id(adapter)] for name, adapter in state["named_teachers_"].items()}
        state.update(dict(slots.values()))
        return portable_state(state)

    def __setstate__(self, state):
        state = restored_state(dict(state), type(self).__name__)
        modules = {key: state.pop(key) for key in list(state) if key.startswith("_member_module_")}
        if modules:
            state["teachers"] = [(name, _restored(teacher, modules)) for name, teacher in state["teachers"]]
            for adapter in state.get("teachers_", []):
                if isinstance(adapter, TorchTeacher):
                    adapter.module = _restored(adapter.module, modules)
        super().__setstate__(state)

    # --- Checks ------------------------------------------------------------------------------------

    def _members(self):
        """``(names, adapters, weights, task)`` of the members not dropped, their adapters unfitted and
        their weights summing to 1; raises on bad parameters before any teacher runs."""
        self._validate_params()
        pairs = _pairs(self.teachers)
        if pairs is None:
            raise TypeError(
                f"teachers must be a list of (name, teacher) tuples, name a str; got {self.teachers!r}. To "
                "combine teachers without naming them, pass the list of teachers as the distiller's teacher."
            )
        if not pairs:
            raise ValueError("teachers is an empty list; a TeacherEnsemble needs at least one teacher.")
        self._check_names([name for name, _ in pairs])
        weights = self._checked_weights(len(pairs))
        kept = [(name, teacher, weight) for (name, teacher), weight in zip(pairs, weights) if not _is_dropped(teacher)]
        if not kept:
            raise ValueError(f"Every teacher is dropped ('drop'): {[name for name, _ in pairs]!r}; keep at least one.")
        kept_weights = np.array([weight for _, _, weight in kept])
        if kept_weights.sum() == 0:
            raise ValueError(
                f"The weights of the teachers {[name for name, _, _ in kept]!r} are all 0 ({self.weights!r}); at "
                "least one must be positive."
            )
        task = self._common_task([(name, teacher) for name, teacher, _ in kept])
        if task == "regression" and self.combine != "logits":
            raise ValueError(
                f"combine={self.combine!r} applies to classification teachers only; regression teachers are "
                "combined by the weighted mean of their predictions. Leave combine at its default."
            )
        adapters = [_adapter(name, teacher, task) for name, teacher, _ in kept]
        return [name for name, _, _ in kept], adapters, kept_weights / kept_weights.sum(), task

    def _check_names(self, names):
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            raise ValueError(f"Teacher names must be unique; {duplicates!r} appear more than once in {names!r}.")
        with_separator = [name for name in names if "__" in name]
        if with_separator:
            raise ValueError(
                f"Teacher names must not contain '__', which separates nested parameter names; got {with_separator!r}."
            )
        own = sorted(set(names) & set(self._get_param_names()))
        if own:
            raise ValueError(
                f"Teacher names must differ from TeacherEnsemble's parameters {self._get_param_names()!r}; got {own!r}."
            )

    def _checked_weights(self, n_teachers):
        if self.weights is None:
            return np.ones(n_teachers)
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.ndim != 1 or len(weights) != n_teachers:
            raise ValueError(
                f"weights must have one entry per teacher (dropped ones included): {n_teachers} teachers, but "
                f"weights={self.weights!r} has {weights.size if weights.ndim == 1 else f'shape {weights.shape}'}."
            )
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(f"weights must be finite and non-negative; got {self.weights!r}.")
        return weights

    def _common_task(self, pairs):
        """The task every member has; a bare torch module takes the others' (it may be either)."""
        tasks = {name: _task_of(name, teacher) for name, teacher in pairs}
        by_task = {}
        for name, task in tasks.items():
            if task is not None:
                by_task.setdefault(task, []).append(name)
        if len(by_task) > 1:
            described = "; ".join(f"{task}: {names!r}" for task, names in sorted(by_task.items()))
            raise ValueError(
                "The teachers of an ensemble must all be classifiers or all be regressors; got " + described + "."
            )
        return next(iter(by_task), self._default_task)

    def check_fit_arguments(self, y, sample_weight):
        """Raise if the parameters are bad or a member cannot be fitted on ``y`` and ``sample_weight``.

        Called before any work: no teacher has run when it raises.

        Parameters
        ----------
        y : array-like or None
        sample_weight : array-like or None
        """
        names, adapters, _, _ = self._members()
        for name, adapter in zip(names, adapters):
            _with_name(name, adapter.check_fit_arguments, y, sample_weight)

    def check_input(self, X, *, input_name="X"):
        """Raise if a member certainly cannot take ``X`` (a torch member: see :meth:`TorchTeacher.check_input`).

        Called before any work: every member gets ``X`` as it is.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        input_name : str, default="X"
            How an error names ``X``.
        """
        names, adapters, _, _ = self._members()
        for name, adapter in zip(names, adapters):
            _with_name(name, adapter.check_input, X, input_name=input_name)

    @property
    def task(self):
        """The members' common task: ``"classification"`` or ``"regression"`` (mixed tasks raise)."""
        return self._members()[3]

    @property
    def _relabel_hint(self):
        hints = dict.fromkeys(adapter._relabel_hint for adapter in getattr(self, "teachers_", []))
        return "".join(hints)

    # --- Fitting and scoring -----------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Fit each member's adapter (an unfitted model is cloned and the clone fitted on ``X, y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
            Required when a member is not fitted; gives a bare torch module its classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the members' fits.

        Returns
        -------
        self : TeacherEnsemble
        """
        names, adapters, weights, task = self._members()
        _check_members_can_fit(names, adapters, X, y, sample_weight)
        fitted = [_with_name(name, adapter.fit, X, y, sample_weight=sample_weight) for name, adapter in zip(names, adapters)]
        self._record_members(names, fitted, weights, task)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_logits(self, X, y=None, sample_weight=None):
        """:meth:`fit`, then :meth:`logits` of ``X``, with one pass of each member over ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples, n_outputs)
        """
        return self._fit_logits_with_memory(X, y, sample_weight, memory=False)

    def logits(self, X):
        """The combined logits (classification) or predictions (regression) of the members on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples, n_outputs)
            Classification: columns in the order of ``classes_``; see Notes for the formulas. Float32
            when every member's outputs are, else float64.
        """
        return self._logits_with_memory(X, memory=False)

    def _fit_logits_with_memory(self, X, y, sample_weight, *, memory):
        """:meth:`fit_logits`, each member's fit and outputs going through the teacher-output cache."""
        names, adapters, weights, task = self._members()
        _check_members_can_fit(names, adapters, X, y, sample_weight)
        outputs = [
            _with_name(name, _cache.fit_logits, adapter, X, y, sample_weight, memory=memory)
            for name, adapter in zip(names, adapters)
        ]
        self._record_members(names, adapters, weights, task)
        return self._combined(outputs)

    def _out_of_fold_logits_with_memory(self, X, y, sample_weight, splits, *, memory):
        """Out-of-fold outputs (``teacher_cv``): an unfitted member's come from its fold fits, a trained
        member's are its outputs as they are; each member goes through the cache on its own."""
        names, adapters, weights, task = self._members()
        _check_members_can_fit(names, adapters, X, y, sample_weight)
        outputs = [
            _with_name(name, _cache.fit_logits, adapter, X, y, sample_weight, memory=memory)
            if is_trained(adapter)
            else _with_name(name, _cache.out_of_fold_logits, adapter, X, y, sample_weight, splits, memory=memory)
            for name, adapter in zip(names, adapters)
        ]
        self._record_members(names, adapters, weights, task)
        return self._combined(outputs)

    def _logits_with_memory(self, X, *, memory):
        """:meth:`logits`, each member's outputs going through the teacher-output cache."""
        check_is_fitted(self)
        for name, adapter in self.named_teachers_.items():  # before any member runs
            _with_name(name, adapter.check_input, X)
        outputs = [
            _with_name(name, _cache.logits, adapter, X, memory=memory) for name, adapter in self.named_teachers_.items()
        ]
        return self._combined(outputs)

    def _record_members(self, names, fitted, weights, task):
        """The fitted attributes; checks that the members' outputs can be combined."""
        if task == "regression":
            widths = {name: adapter.n_outputs_ for name, adapter in zip(names, fitted)}
            if len(set(widths.values())) > 1:
                raise ValueError(
                    f"The teachers of an ensemble must predict the same number of outputs; got {widths!r}."
                )
            self.n_outputs_ = next(iter(widths.values()))
        else:
            self.classes_ = self._union_of_classes(names, fitted)
        self.teachers_ = list(fitted)
        self.named_teachers_ = dict(zip(names, fitted))
        self.weights_ = weights

    def _union_of_classes(self, names, fitted):
        """The sorted labels the members score; raises if they cannot be combined."""
        member_classes = [np.asarray(adapter.classes_) for adapter in fitted]
        described = "; ".join(f"{name!r} scores {classes.tolist()!r}" for name, classes in zip(names, member_classes))
        if len({classes.dtype.kind in "USO" for classes in member_classes}) > 1:
            raise ValueError(f"The teachers label their classes with values of different types: {described}.")
        if self.combine == "logits" and len({frozenset(classes.tolist()) for classes in member_classes}) > 1:
            raise ValueError(
                f"With combine='logits', every teacher must score the same classes, but {described}. Pass "
                "combine='proba' to average their probabilities over the union of their classes (a teacher "
                "gives probability 0 to a class it does not score), or give the teachers the same classes."
            )
        return np.unique(np.concatenate(member_classes))

    def _combined(self, outputs):
        """The members' outputs combined as the class docstring's Notes say."""
        dtype = np.result_type(*outputs)
        terms = [(weight, np.asarray(output, dtype=np.float64)) for weight, output in zip(self.weights_, outputs)]
        if not hasattr(self, "classes_"):  # regression
            return sum(weight * output for weight, output in terms if weight > 0).astype(dtype, copy=False)
        combined = np.zeros((outputs[0].shape[0], len(self.classes_)))
        to_combine = log_softmax if self.combine == "logits" else softmax
        for (weight, output), adapter in zip(terms, self.teachers_):
            if weight > 0:
                # Labels matched by value: a member's columns may score the classes in any order.
                combined[:, np.searchsorted(self.classes_, adapter.classes_)] += weight * to_combine(output, axis=1)
        if self.combine == "proba":
            combined = _log_of_probabilities(combined, "The teacher ensemble")
        return combined.astype(dtype, copy=False)


class _ModuleSlot:
    """In a pickled ensemble: "this member is the module stored under ``key``" (see ``__getstate__``)."""

    def __init__(self, key):
        self.key = key


def _slot_of(teacher, slots):
    return _ModuleSlot(slots[id(teacher)][0]) if id(teacher) in slots else teacher


def _adapter_stand_in(adapter, slots):
    """A fitted member's adapter to pickle: its module, if a member's, named rather than stored again."""
    if not (isinstance(adapter, TorchTeacher) and id(adapter.module) in slots):
        return adapter
    stand_in = copy.copy(adapter)
    stand_in.module = _slot_of(adapter.module, slots)
    return stand_in


def _restored(value, modules):
    return modules[value.key] if isinstance(value, _ModuleSlot) else value


class _FittedMember:
    """In a pickled distiller: "this teacher is the module of the fitted ensemble's member ``name``"."""

    def __init__(self, name):
        self.name = name


def teacher_parameter_state(teacher, fitted):
    """A distiller's ``teacher`` parameter as it pickles, next to its fitted ensemble ``fitted``.

    A list or ``TeacherEnsemble`` shares its modules with the fitted ensemble, which stores them; the
    parameter names them instead of storing them a second time.
    """
    if not isinstance(fitted, TeacherEnsemble) or not isinstance(teacher, (list, TeacherEnsemble)):
        return teacher
    member_of = {id(member): name for name, member in _pairs(fitted.teachers) or [] if isinstance(member, torch.nn.Module)}

    def named(member):
        return _FittedMember(member_of[id(member)]) if id(member) in member_of else member

    if isinstance(teacher, list):
        return [named(member) for member in teacher]
    pairs = _pairs(teacher.teachers)
    if pairs is None:
        return teacher
    stand_in = copy.copy(teacher)
    stand_in.teachers = [(name, named(member)) for name, member in pairs]
    return stand_in


def restored_teacher_parameter(teacher, fitted):
    """The inverse of :func:`teacher_parameter_state`."""
    if not isinstance(fitted, TeacherEnsemble):
        return teacher
    members = dict(fitted.teachers)

    def restored(member):
        return members[member.name] if isinstance(member, _FittedMember) else member

    if isinstance(teacher, list):
        return [restored(member) for member in teacher]
    if isinstance(teacher, TeacherEnsemble) and _pairs(teacher.teachers) is not None:
        teacher.teachers = [(name, restored(member)) for name, member in teacher.teachers]
    return teacher


def _task_of(name, teacher):
    """A member's task, or None for a bare torch module, which may be either."""
    if isinstance(teacher, torch.nn.Module):
        return None
    return _with_name(name, as_teacher, teacher).task


def _adapter(name, teacher, task):
    """The member's unfitted adapter; a bare torch module of a regression ensemble predicts values."""
    if isinstance(teacher, torch.nn.Module) and task == "regression":
        return TorchTeacher(teacher, output="values")
    return _with_name(name, as_teacher, teacher)


def _check_members_can_fit(names, adapters, X, y, sample_weight):
    """Raise, before any member is fitted or run, if one of them cannot be fitted on ``y`` and
    ``sample_weight`` or cannot take ``X`` (a torch member and missing values, say)."""
    for name, adapter in zip(names, adapters):
        _with_name(name, adapter.check_fit_arguments, y, sample_weight)
        _with_name(name, adapter.check_input, X)


def _with_name(name, function, *args, **kwargs):
    """``function(*args, **kwargs)``; an error it raises is re-raised naming the member it concerns."""
    try:
        return function(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        named = _renamed(exc, f"Teacher {name!r} of the ensemble: {exc.args[0] if exc.args else ''}")
        if named is None:
            raise
        raise named from exc


def _renamed(exc, message):
    """An exception of ``exc``'s type with ``message``, or None if that type takes other arguments."""
    try:
        return type(exc)(message)
    except Exception:
        return None
