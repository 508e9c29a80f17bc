"""DistilledClassifier: orchestrates teacher, targets and student; holds no training loop."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, RealNotInt, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, _num_samples, check_is_fitted, validate_data

from . import _cache
from ._base import (
    DistillationTargets,
    check_at_least_two_classes,
    clone_sharing,
    refuse_nested,
    softmax_in_place,
    unchanged_on_failure,
    without_nested,
)
from ._portable import portable_state, restored_state
from ._soft_targets import UNLABELLED
from .augment import AUGMENTERS, as_augmenter
from .metrics import fidelity_score, kl_divergence, total_variation
from .students import MLPStudent, as_student
from .students._routing import ROUTES, check_incremental, partial_fit_student
from .students._soft_weights import learns_incrementally_from_weights
from .teachers import SklearnTeacher, TorchTeacher, as_teacher, is_trained


class DistilledClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A student classifier trained to imitate a teacher (knowledge distillation).

    ``fit`` asks the teacher for its class scores on ``X`` once, then trains a copy of the student on

    ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``

    where ``t`` are the teacher's logits, ``s`` the student's logits, ``CE`` the cross-entropy to the
    true labels and ``KL`` the Kullback-Leibler divergence between the teacher's and the student's
    class distributions, both softened by the temperature ``T``. A classical student (logistic
    regression, a tree, any scikit-learn estimator) reaches the same objective through the soft
    targets ``q = alpha * onehot(y) + (1 - alpha) * softmax(t / T)``, which it learns exactly (see
    ``route``). Predictions come from the student alone: the teacher is not run at prediction time.

    Parameters
    ----------
    teacher : torch.nn.Module, classifier with ``predict_proba``, TorchTeacher or SklearnTeacher
        The model to imitate. A torch module must return logits (wrap it in
        :class:`~skdistill.TorchTeacher` for probabilities, explicit class labels, device or batch
        size). A fitted scikit-learn classifier is used as it is, its ``predict_proba`` columns matched
        to the labels by value (``classes_``), not by position. An unfitted one is cloned and the clone
        fitted on ``X, y`` first. The teacher is never modified, and :func:`~sklearn.base.clone` (as in
        grid search) shares a trained teacher rather than copying it.
    student : estimator, torch.nn.Module or None, default=None
        The model to train, used as a template: fit trains a copy, stored as ``student_``. ``None``
        means ``MLPStudent()``; a bare module is wrapped in :class:`~skdistill.TorchStudent`. Any
        scikit-learn classifier or regressor works too: ``LogisticRegression``,
        ``DecisionTreeClassifier``, gradient boosting, ... Its parameters are tunable as
        ``student__C``, ``student__max_depth``, ``student__max_iter``, ...
    T : float, default=4.0
        Temperature, > 0. Dividing logits by ``T`` before the softmax softens both distributions, so
        that the student also learns how the teacher ranks the wrong classes ("dark knowledge").
        ``T=1`` matches the teacher's probabilities as they are; typical values are 2 to 10. The soft
        term is multiplied by ``T**2`` so its gradients keep their scale when ``T`` changes. A
        classical student learns the tempered targets and predicts at ``T=1``: a larger ``T`` makes
        it learn a smoother, less confident version of the teacher.
    alpha : float, default=0.1
        Weight of the cross-entropy to the true labels, in [0, 1]; the teacher's term weighs
        ``1 - alpha``. ``alpha=1`` is ordinary supervised training (the teacher is ignored),
        ``alpha=0`` pure distillation, where ``y`` may be ``None``: the labels then come from the
        teacher, which allows distilling on unlabelled data.
    route : {"auto", "native", "logistic", "tree", "sample_weight", "regression_proba", \
            "regression_logits"}, default="auto"
        How the student learns. ``"native"``: neural students train on the logits. ``"logistic"``:
        ``LogisticRegression`` (L2 or no penalty) fitted to the soft cross-entropy exactly, at the
        cost of one ordinary fit. ``"tree"``: ``DecisionTreeClassifier`` (Gini) grown on soft labels,
        leaves holding soft distributions, at the cost of one ordinary fit. ``"sample_weight"``: any
        classifier whose ``fit`` takes ``sample_weight``, trained on one row per (row, class) weighted
        by the soft label (rows under 1e-6 dropped). ``"regression_proba"`` / ``"regression_logits"``:
        a regressor fitted to the soft targets or to their log (tempered logits); ``predict_proba``
        is made valid. ``"auto"`` picks the first of native, logistic, tree, sample_weight and
        regression_proba that applies: a regressor learns the soft targets themselves, which agreed
        with the teacher more on held-out rows on average (see the user guide).
    augment : {"noise", "munge", "mixup"}, augmenter, callable or None, default=None
        Transfer-set augmentation: synthetic rows, made in ``fit`` from the training rows only, that
        the teacher labels and the student learns (as unlabelled rows). A name uses the default
        :class:`~skdistill.augment.GaussianNoise`, :class:`~skdistill.augment.Munge` or
        :class:`~skdistill.augment.Mixup`; an object with ``sample(X, n_samples, random_state)`` or a
        function of the same signature supplies your own.
    augment_size : int or float, default=1.0
        Number of synthetic rows: an int, or a float times the number of training rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the augmentation.
    memory : None, str, joblib.Memory or False, default=None
        Where the teacher's outputs are cached, so that fits on the same data (grid-search candidates
        on the same fold, the refit, repeated fits) run the teacher once. ``None``: in this process,
        bounded (see :func:`~skdistill.set_teacher_cache_limits`). A path or a
        :class:`joblib.Memory`: also on disk, shared by processes (``GridSearchCV(n_jobs=...)``, Dask
        workers on one file system) and Python sessions, as in ``Pipeline(memory=...)``. ``False``:
        no caching. The key covers the data, the teacher's parameters and weights (or fitted state)
        and the code of user-defined teacher classes and the helpers and globals it reads, so a changed
        teacher, dataset or ``forward`` misses (see the user guide for what the key cannot see). An
        unfitted teacher is cached fitted: candidates on the same fold share one teacher fit.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels: those the teacher scores (a superset of the labels in ``y``), sorted.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.
    teacher_ : TorchTeacher or SklearnTeacher
        The fitted teacher adapter; its ``predict_proba`` gives the teacher's probabilities with
        columns in the order of ``teacher_.classes_``, which may differ from ``classes_``
        (:meth:`teacher_proba` gives them in the order of ``classes_``).
    student_ : estimator
        The trained student, a plain estimator of its kind (a ``DecisionTreeClassifier`` student gives
        a ``DecisionTreeClassifier`` that ``export_text`` and ``plot_tree`` read).
    student_classes_ : ndarray
        The label of each column of ``student_.predict_proba``: ``student_.classes_``, except for a
        student from another library (LightGBM, XGBoost, CatBoost: not built on a scikit-learn
        model) trained by the ``"sample_weight"`` route, which is fitted on class positions, so that its ``classes_`` and
        ``predict`` give positions in ``student_classes_``.
    route_ : str
        The route the student was trained by.

    See Also
    --------
    skdistill.metrics.fidelity_score : Agreement between teacher and student.
    MLPStudent : A multi-layer perceptron student.
    TorchStudent : Any torch module as a student.
    TorchTeacher : Options for a torch teacher (probabilities, classes, device, batch size).

    Notes
    -----
    The teacher runs at most once per fit (not at all when its outputs on this data are cached, see
    ``memory``), in eval mode, without gradients, in batches; its outputs are computed before the
    student is trained, and bad outputs (wrong width, NaN or inf) stop the fit with a ``ValueError``
    before any training.

    References
    ----------
    .. [1] G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural Network",
       NIPS Deep Learning Workshop, 2015.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, MLPStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(
    ...     RandomForestClassifier(random_state=0),
    ...     MLPStudent(hidden_layer_sizes=(8,), max_iter=300, learning_rate_init=0.01, random_state=0),
    ...     T=2.0,
    ...     alpha=0.5,
    ... )
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        "teacher": [torch.nn.Module, HasMethods(["predict_proba"])],
        "student": [torch.nn.Module, HasMethods(["fit"]), None],
        "T": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "route": [StrOptions(set(ROUTES))],
        "augment": [StrOptions(set(AUGMENTERS)), HasMethods(["sample"]), callable, None],
        "augment_size": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "memory": [None, str, HasMethods(["cache"]), Options(bool, {False})],
    }

    def __init__(
        self,
        teacher,
        student=None,
        T=4.0,
        alpha=0.1,
        *,
        route="auto",
        augment=None,
        augment_size=1.0,
        random_state=None,
        memory=None,
    ):
        self.teacher = teacher
        self.student = student
        self.T = T
        self.alpha = alpha
        self.route = route
        self.augment = augment
        self.augment_size = augment_size
        self.random_state = random_state
        self.memory = memory

    def __getstate__(self):
        state = super().__getstate__()
        # Every estimator stores its own modules (as arrays, see _portable), so a module held by two
        # would load as two copies: the fitted adapter stores the teacher, and the parameter points to it.
        adapter = getattr(self, "teacher_", None)
        if isinstance(adapter, TorchTeacher):
            if adapter.module is self.teacher:
                state = {**state, "teacher": _TEACHER_ADAPTER_MODULE}
            elif isinstance(self.teacher, TorchTeacher) and self.teacher.module is adapter.module:
                stand_in = copy.copy(self.teacher)
                stand_in.module = _TEACHER_ADAPTER_MODULE
                state = {**state, "teacher": stand_in}
        return portable_state(state)

    def __setstate__(self, state):
        state = restored_state(dict(state), type(self).__name__)
        teacher = state.get("teacher")
        if isinstance(teacher, str) and teacher == _TEACHER_ADAPTER_MODULE:
            state["teacher"] = state["teacher_"].module
        elif isinstance(teacher, TorchTeacher) and isinstance(teacher.module, str):
            teacher.module = state["teacher_"].module
        super().__setstate__(state)

    def __sklearn_is_fitted__(self):
        # n_features_in_ alone (set by validation before a failed first partial_fit) is not fitted.
        return hasattr(self, "student_")

    def _teacher_is_shared(self):
        """A trained teacher given as it is (not through an adapter) is shared by clone, never refitted."""
        return not isinstance(self.teacher, (TorchTeacher, SklearnTeacher)) and is_trained(self.teacher)

    def __sklearn_clone__(self):
        return clone_sharing(self, ["teacher"] if self._teacher_is_shared() else [])

    def get_params(self, deep=True):
        """Get parameters; a trained teacher's own are not offered, since they cannot be tuned here.

        Parameters
        ----------
        deep : bool, default=True
            Include the parameters of the student (``student__*``) and of an unfitted teacher or a
            teacher adapter (``teacher__*``).

        Returns
        -------
        params : dict
        """
        return without_nested(super().get_params(deep=deep), "teacher", when=self._teacher_is_shared())

    def set_params(self, **params):
        """Set parameters; refuses to change a trained (shared) teacher's own.

        Parameters
        ----------
        **params : dict
            ``T``, ``alpha``, ``student__max_iter``, ...

        Returns
        -------
        self : DistilledClassifier
        """
        refuse_nested(params, "teacher", when=self._teacher_is_shared())
        return super().set_params(**params)

    @_fit_context(prefer_skip_nested_validation=False)
    @unchanged_on_failure
    def fit(self, X, y=None, sample_weight=None, X_unlabeled=None):
        """Run the teacher on ``X`` once, then train a copy of the student to imitate it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,), default=None
            True labels. May be ``None`` only with ``alpha=0`` and a teacher that is already trained.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the student's loss (and in an unfitted teacher's fit). Rows of weight
            0 are left out of the student's training.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Extra rows without labels (a transfer set): the teacher labels them and the student learns
            them with the teacher's term alone (weight 1 each). An unfitted teacher is fitted on the
            labelled rows only.

        Returns
        -------
        self : DistilledClassifier
            The fitted estimator.
        """
        X, X_checked, y, sample_weight, kept = self._check_data(X, y, sample_weight, reset=True)
        if y is not None:
            check_at_least_two_classes(np.unique(y[kept]))
        X_unlabeled = self._check_unlabeled(X_unlabeled, X)

        # Everything that can be checked before any work is checked here.
        student = as_student(self.student, self.route)
        teacher = as_teacher(self.teacher)
        teacher.check_fit_arguments(y, sample_weight)
        if hasattr(student, "check_fit_arguments"):
            student.check_fit_arguments(sample_weight)
        augmenter = as_augmenter(self.augment)

        # The teacher: fitted if needed and run once on the labelled rows (all of them, with their
        # weights), then on the transfer set. Rows of weight 0 are then left out of the student's data.
        teacher_logits = _cache.fit_logits(teacher, X, y, sample_weight, memory=self.memory)
        classes, columns = _align_classes(teacher.classes_, y, hint=teacher._relabel_hint)
        X_student, targets, sample_weight = self._distillation_data(
            classes,
            columns,
            X,
            X_checked,
            y,
            sample_weight,
            kept,
            teacher_logits,
            transfer=_stack_rows(
                X_unlabeled,
                self._augmented_rows(augmenter, X_checked, kept, check_random_state(self.random_state)),
                like=X,
            ),
            score=lambda rows: _cache.logits(teacher, rows, memory=self.memory),
        )
        fitted_student = student.fit_distill(X_student, targets, sample_weight=sample_weight)
        # Every step passed: only now does the estimator change (and a failure above restores it anyway).
        self.teacher_, self.classes_, self._teacher_columns = teacher, classes, columns
        self.student_ = fitted_student
        self.student_classes_ = np.asarray(getattr(student, "output_classes_", self.student_.classes_))
        self.route_ = getattr(student, "route", "native")
        self.__dict__.pop("_augment_random_state", None)  # fit starts afresh; a later stream reseeds
        return self

    def _can_learn_incrementally(self):
        """``partial_fit`` exists only for a trained teacher and a student that learns incrementally."""
        if not is_trained(self.teacher):
            raise AttributeError(
                "partial_fit needs a trained teacher: an unfitted one would have to be fitted on all the data "
                "first. Fit the teacher, then pass it fitted."
            )
        student = MLPStudent() if self.student is None else self.student
        if not (isinstance(student, torch.nn.Module) or hasattr(student, "partial_fit_distill")):
            if not learns_incrementally_from_weights(student):
                raise AttributeError(
                    f"partial_fit needs a student that learns incrementally; {type(student).__name__} has no "
                    "partial_fit taking classes and sample_weight. Use MLPStudent, TorchStudent, "
                    "SGDClassifier(loss='log_loss'), MultinomialNB, ... or fit."
                )
        return True

    @available_if(_can_learn_incrementally)
    @_fit_context(prefer_skip_nested_validation=False)
    @unchanged_on_failure
    def partial_fit(self, X, y=None, classes=None, sample_weight=None):
        """Distil one chunk of rows, continuing from earlier calls: for data that does not fit in memory.

        The teacher scores the chunk as it arrives (its outputs are not cached: each chunk is new),
        and the student takes one step on it: one epoch over the chunk for a neural student, one
        ``partial_fit`` on the chunk's soft-weighted rows for a classical student that has one
        (``SGDClassifier(loss="log_loss")``, ``MultinomialNB``, ...). For students that cannot learn
        incrementally (``LogisticRegression``, trees) or an unfitted teacher, ``partial_fit`` does
        not exist (``hasattr`` is ``False`` and the ``AttributeError`` says why). A call after
        :meth:`fit` continues the fitted student (a neural one with a fresh optimizer); :meth:`fit`
        starts afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The chunk's rows.
        y : array-like of shape (n_samples,), default=None
            The chunk's labels; may be ``None`` only with ``alpha=0``.
        classes : array-like of shape (n_classes,), default=None
            Every label ``y`` may hold over all calls. Needed on the first call when the teacher does
            not know its labels itself (a bare torch module: its columns are then taken to score the
            sorted ``classes``); otherwise checked against the teacher's classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the chunk's rows, used as given (not rescaled per chunk).

        Returns
        -------
        self : DistilledClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "student_")
        X, X_checked, y, sample_weight, kept = self._check_data(X, y, sample_weight, reset=first_call)
        if first_call:
            student = as_student(self.student, self.route)
            check_incremental(student)
            teacher = self._incremental_teacher(classes)
            augmenter = as_augmenter(self.augment)  # checked before the teacher runs
            teacher.fit(X_checked[:1])
            all_classes, columns = _align_classes(teacher.classes_, classes, hint=teacher._relabel_hint)
            # One stream of random draws over all calls: each chunk gets its own synthetic rows.
            augment_random_state = check_random_state(self.random_state)
        else:
            student, teacher, augmenter = self.student_, self.teacher_, as_augmenter(self.augment)
            check_incremental(student)
            all_classes, columns = self.classes_, self._teacher_columns
            augment_random_state = getattr(self, "_augment_random_state", None) or check_random_state(
                self.random_state
            )
            if classes is not None:
                _align_classes(teacher.classes_, classes, hint=teacher._relabel_hint)
            student_classes = np.asarray(getattr(student, "classes_", all_classes))
            if not np.array_equal(student_classes, all_classes):
                raise ValueError(
                    f"The student fitted by fit knows the classes {student_classes.tolist()!r} only (the others had "
                    f"no soft weight), but partial_fit needs all of {all_classes.tolist()!r}. Start the stream "
                    "with partial_fit rather than fit."
                )
        if y is not None:
            _align_classes(teacher.classes_, y, hint=teacher._relabel_hint)  # labels the teacher scores
        X_student, targets, sample_weight = self._distillation_data(
            all_classes,
            columns,
            X,
            X_checked,
            y,
            sample_weight,
            kept,
            teacher.logits(X),
            transfer=self._augmented_rows(augmenter, X_checked, kept, augment_random_state),
            score=teacher.logits,
        )
        # Every check passed and the teacher ran: only now does the estimator change.
        self.teacher_, self.classes_, self._teacher_columns = teacher, all_classes, columns
        self._augment_random_state = augment_random_state
        self.student_ = partial_fit_student(student, X_student, targets, sample_weight=sample_weight)
        self.route_ = getattr(student, "route", getattr(self, "route_", "native"))
        return self

    def _incremental_teacher(self, classes):
        """The teacher adapter for ``partial_fit``: it knows its labels, or gets them from ``classes``."""
        teacher = as_teacher(self.teacher)
        if isinstance(teacher, TorchTeacher) and teacher.classes is None:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit with a torch teacher that does not "
                    "name its labels: pass partial_fit(X, y, classes=[...]) (the sorted labels scored by the "
                    "module's columns), or TorchTeacher(module, classes=[...])."
                )
            teacher.set_params(classes=np.unique(classes))
        return teacher

    def _check_data(self, X, y, sample_weight, *, reset):
        """Validated (X, X as an array, y, sample_weight, mask of rows with a positive weight)."""
        if y is None:
            if self.alpha > 0:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None. Pass y, or set "
                    "alpha=0 to distil on unlabelled data (the labels then come from the teacher)."
                )
            X_checked = validate_data(self, X, dtype=(np.float64, np.float32), reset=reset)
        else:
            X_checked, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=reset)
            check_classification_targets(y)
        # A DataFrame stays one for teacher and student (column names reach a fitted pipeline teacher,
        # and student_.feature_names_in_); anything else is used as validated.
        X = X if hasattr(X, "iloc") else X_checked
        kept = np.ones(len(X_checked), dtype=bool)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_checked, ensure_non_negative=True)
            kept = sample_weight > 0
        return X, X_checked, y, sample_weight, kept

    def _distillation_data(
        self, classes, columns, X, X_checked, y, sample_weight, kept, teacher_logits, *, transfer, score
    ):
        """The student's rows, targets and weights: the rows of positive weight, then the transfer set.

        ``classes`` are the sorted labels and ``columns`` the teacher's column scoring each;
        ``score(rows)`` gives the teacher's logits for the transfer set's rows.
        """
        # Indexing copies X: only do it when some row has weight 0.
        X_student = X if kept.all() else _safe_indexing(X, np.flatnonzero(kept))
        logits = [teacher_logits if kept.all() else teacher_logits[kept]]
        if transfer is not None:
            X_student = _stack_rows(X_student, transfer, like=X)
            logits.append(score(transfer))
        n_transfer = 0 if transfer is None else _num_samples(transfer)

        y_index = None
        if y is not None:
            y_index = np.concatenate([np.searchsorted(classes, y[kept]), np.full(n_transfer, UNLABELLED)])
        if sample_weight is not None:
            sample_weight = np.concatenate([sample_weight[kept], np.ones(n_transfer)])
        targets = DistillationTargets(
            teacher_logits=_aligned_logits(logits, columns),
            y=y_index,
            classes=classes,
            T=self.T,
            alpha=self.alpha,
        )
        return X_student, targets, sample_weight

    def _check_unlabeled(self, X_unlabeled, X):
        """``X_unlabeled`` validated against the training data's width (and columns, for DataFrames)."""
        if X_unlabeled is None:
            return None
        checked = check_array(X_unlabeled, dtype=(np.float64, np.float32))
        if checked.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X_unlabeled has {checked.shape[1]} features, but X has {self.n_features_in_}; the teacher "
                "labels them as rows of X, so they must have the same features."
            )
        if hasattr(X, "columns") and hasattr(X_unlabeled, "columns") and list(X.columns) != list(X_unlabeled.columns):
            raise ValueError("X_unlabeled must have the same columns as X, in the same order.")
        return X_unlabeled if hasattr(X, "iloc") and hasattr(X_unlabeled, "iloc") else checked

    def _augmented_rows(self, augmenter, X_checked, kept, random_state):
        """Synthetic rows for the teacher to label, made from the training rows (of positive weight) only."""
        if augmenter is None:
            return None
        X_train = X_checked if kept.all() else X_checked[kept]
        n_rows = self.augment_size
        if not isinstance(n_rows, Integral):
            n_rows = round(n_rows * len(X_train))  # a float is a multiple of the training rows
        rows = np.asarray(augmenter.sample(X_train, max(n_rows, 1), random_state))
        if rows.ndim != 2 or rows.shape[1] != X_train.shape[1] or not np.isfinite(rows).all():
            raise ValueError(
                f"augment must return finite rows of shape (n_samples, {X_train.shape[1]}); got shape {rows.shape}."
            )
        return rows.astype(X_train.dtype, copy=False)

    def teacher_proba(self, X):
        """The teacher's class probabilities on ``X``, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        # The column take copies, so the (possibly cached, read-only) logits are never written.
        return softmax_in_place(_cache.logits(self.teacher_, X, memory=self.memory)[:, self._teacher_columns])

    def fidelity(self, X, metric="agreement"):
        """How closely the student imitates the teacher on ``X`` (use held-out rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        metric : {"agreement", "kl", "total_variation"}, default="agreement"
            ``"agreement"``: share of rows where both predict the same class (higher is better).
            ``"kl"``: mean ``KL(teacher || student)``; ``"total_variation"``: mean total variation
            distance between their probabilities (lower is better for both).

        Returns
        -------
        float
        """
        check_is_fitted(self)
        if metric not in _FIDELITY_METRICS:
            raise ValueError(f"metric must be one of {sorted(_FIDELITY_METRICS)}; got {metric!r}.")
        student_proba = self.predict_proba(X)
        teacher_proba = self.teacher_proba(X)
        if metric == "agreement":
            return fidelity_score(teacher_proba.argmax(axis=1), student_proba.argmax(axis=1))
        return _FIDELITY_METRICS[metric](teacher_proba, student_proba)

    def predict_proba(self, X):
        """The student's class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._student_output("predict_proba", X, fill=0.0)

    def predict_log_proba(self, X):
        """The log of the student's class probabilities (from the student's own, stable, method).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._student_output("predict_log_proba", X, fill=-np.inf)

    def _student_output(self, method, X, *, fill):
        """The student's ``method`` on X, columns aligned to ``classes_``.

        A student that saw only some classes (none of its soft weight on the others) gets ``fill``
        (probability 0) for the classes it does not know.
        """
        check_is_fitted(self)
        X_checked = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        X_student = X if hasattr(X, "iloc") else X_checked
        if method == "predict_log_proba" and not hasattr(self.student_, method):
            with np.errstate(divide="ignore"):
                output = np.log(self.student_.predict_proba(X_student))
        else:
            output = getattr(self.student_, method)(X_student)
        student_classes = np.asarray(getattr(self, "student_classes_", self.student_.classes_))
        _check_student_output(output, student_classes, self.student_, method)
        if len(student_classes) == len(self.classes_) and (student_classes == self.classes_).all():
            return output
        aligned = np.full((output.shape[0], len(self.classes_)), fill)
        aligned[:, np.searchsorted(self.classes_, student_classes)] = output
        return aligned

    def predict(self, X):
        """The student's most probable class for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # y is optional only for pure distillation from a teacher that needs no fitting.
        pure_distillation = isinstance(self.alpha, Real) and self.alpha == 0
        tags.target_tags.required = not (pure_distillation and is_trained(self.teacher))
        return tags


def _check_student_output(output, student_classes, student, method):
    """Raise a ``ValueError`` naming the student when its ``method`` gave no usable probabilities.

    A student fitted on degenerate data (a ``GaussianNB`` whose rows of positive weight are all one
    row has variances of 0) predicts NaN; one whose output columns do not match its classes cannot be
    aligned to ``classes_``. Either is reported here rather than as NaN or a numpy error.
    """
    name = type(student).__name__
    if output.ndim != 2 or output.shape[1] != len(student_classes):
        raise ValueError(
            f"The student {name}.{method} returned shape {output.shape}, but it was fitted on "
            f"{len(student_classes)} classes {student_classes.tolist()!r}; its columns cannot be matched to them."
        )
    if np.isnan(output).any():
        raise ValueError(
            f"The student {name}.{method} returned NaN for {int(np.isnan(output).any(axis=1).sum())} of "
            f"{output.shape[0]} rows: it was fitted on degenerate data (for example a single distinct row of "
            "positive weight, where a GaussianNB has variances of 0). Train it on more varied rows."
        )


def _align_classes(teacher_classes, y, *, hint=""):
    """The sorted classes and, for each, the index of the teacher's column that scores it.

    Labels are matched by value, so a teacher whose columns are in any order works; every label in
    ``y`` must be one the teacher scores.
    """
    teacher_labels = np.asarray(teacher_classes).tolist()
    if y is not None:
        unknown = set(np.unique(y).tolist()) - set(teacher_labels)
        if unknown:
            raise ValueError(
                f"y has labels the teacher does not score: {sorted(unknown, key=str)!r}. The teacher scores "
                f"{teacher_labels!r}.{hint}"
            )
    classes = np.sort(teacher_classes)
    column_of = {label: column for column, label in enumerate(teacher_labels)}
    return classes, np.array([column_of[label] for label in classes.tolist()])


# In a pickled state: "the teacher is the fitted adapter's module" (see __getstate__).
_TEACHER_ADAPTER_MODULE = "<skdistill: teacher_.module>"

_FIDELITY_METRICS = {"agreement": fidelity_score, "kl": kl_divergence, "total_variation": total_variation}


def _aligned_logits(parts, columns):
    """The teacher's logits of all parts, columns in the order of ``classes_``; copies only when needed.

    The result may be the teacher's own (read-only, cached) array: students never write into it.
    """
    logits = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return logits if np.array_equal(columns, np.arange(len(columns))) else logits[:, columns]


def _stack_rows(first, second, *, like):
    """Rows of ``first`` then ``second`` (either may be None); a DataFrame if ``like`` is one."""
    parts = [part for part in (first, second) if part is not None]
    if not parts:
        return None
    if hasattr(like, "iloc"):
        import pandas as pd  # only reached with pandas input

        frames = [part if hasattr(part, "iloc") else pd.DataFrame(part, columns=like.columns) for part in parts]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return np.concatenate([np.asarray(part, dtype=like.dtype) for part in parts])
