"""DistilledClassifier: orchestrates teacher, targets and student; holds no training loop."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import (
    DistillationTargets,
    available_if,
    validated_rows,
    check_at_least_two_classes,
    softmax_in_place,
    unchanged_on_failure,
)
from ._base_distiller import BaseDistiller
from ._ensemble import TeacherEnsemble
from ._label_agreement import warn_if_columns_look_permuted
from ._soft_targets import UNLABELLED, align_classes, aligned_logits, encoded_labels_hint, tempered_softmax
from .losses import LOSSES, as_loss
from .metrics import fidelity_score, kl_divergence, total_variation
from .students import MLPStudent, as_student
from .students._routing import ROUTES, student_input_tags
from .students._routes import REGISTRY
from .teachers import TorchTeacher, as_teacher, is_trained


class DistilledClassifier(ClassifierMixin, BaseDistiller):
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
    teacher : torch.nn.Module, classifier with ``predict_proba``, adapter or list of teachers
        The model to imitate. A torch module must return logits (wrap it in
        :class:`~skdistill.TorchTeacher` for probabilities, explicit class labels, device or batch
        size). A fitted scikit-learn classifier is used as it is, its ``predict_proba`` columns matched
        to the labels by value (``classes_``), not by position. An unfitted one is cloned and the clone
        fitted on ``X, y`` first. The teacher is never modified, and :func:`~sklearn.base.clone` (as in
        grid search) shares a trained teacher rather than copying it. Several teachers: a
        :class:`~skdistill.TeacherEnsemble`, or a list of teachers (an ensemble of equal weights).
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
        ``1 - alpha``. ``alpha`` weighs the labelled rows only: the rows of ``X_unlabeled`` and
        ``augment`` have no label and always learn the teacher's outputs. So ``alpha=1`` fits the
        labelled rows to their labels alone, and is ordinary supervised training (the teacher runs but
        is not learnt from) when there are no such rows. ``alpha=0`` is pure distillation, where ``y``
        may be ``None``: the labels then come from the teacher, which allows distilling on unlabelled data.
    route : {"auto", "native", "logistic", "tree", "boosting", "sample_weight", "regression_proba", \
            "regression_logits"}, default="auto"
        How the student learns. ``"native"``: neural students train on the logits. ``"logistic"``:
        ``LogisticRegression`` (L2 or no penalty) fitted to the soft cross-entropy exactly, at the
        cost of one ordinary fit. ``"tree"``: ``DecisionTreeClassifier`` (Gini) grown on soft labels,
        leaves holding soft distributions, at the cost of one ordinary fit. ``"boosting"``:
        ``LGBMClassifier``, ``XGBClassifier`` and ``HistGradientBoostingClassifier`` boosted on the soft
        cross-entropy as their objective, at the cost of one ordinary fit. ``"sample_weight"``: any
        classifier whose ``fit`` takes ``sample_weight``, trained on one row per (row, class) weighted
        by the soft label (rows under 1e-6 dropped). ``"regression_proba"`` / ``"regression_logits"``:
        a regressor fitted to the soft targets or to their log (tempered logits); ``predict_proba``
        is made valid. ``"auto"`` picks the first of native, logistic, tree, boosting, sample_weight and
        regression_proba that applies: a regressor learns the soft targets themselves, which agreed
        with the teacher more on held-out rows on average (see the user guide).
    loss : {"kl", "mse"} or callable, default="kl"
        What a neural student minimises. ``"kl"``: the loss above. ``"mse"``: ``alpha * CE(y, s) +
        (1 - alpha) * mean_k((s_k - t_k)**2)``, matching the teacher's logits by squared error (Ba &
        Caruana, 2014; both sides centred per row, since softmax ignores a constant added to a row;
        ``T`` has no effect). A callable ``loss(student_logits, teacher_logits, y, *, T, alpha)``
        returning a tensor of shape ``(n_samples,)`` (one loss per row; the training loop applies
        sample weights and the mean) is your own: ``teacher_logits`` are the teacher's, aligned to
        ``classes_``, and ``y`` holds class indices, ``-1`` for a row without a label (a transfer-set
        row), or is ``None``. Classical students learn the soft targets of ``"kl"``. With ``"mse"`` a
        regressor student is fitted to the log of the soft targets, centred (route
        ``"regression_logits"``): that is the teacher's centred logits only for ``alpha=0`` and
        ``T=1``; otherwise ``T`` and ``alpha`` shape the targets as they do for ``"kl"``. Other
        classical students, like any classical student with a callable, are refused.
    augment : {"noise", "munge", "mixup", "active"}, augmenter, ActiveSampler, callable or None, default=None
        Transfer-set augmentation: synthetic rows, made in ``fit`` from the training rows only, that
        the teacher labels and the student learns (as unlabelled rows). A name uses the default
        :class:`~skdistill.augment.GaussianNoise`, :class:`~skdistill.augment.Munge`,
        :class:`~skdistill.augment.Mixup` or :class:`~skdistill.augment.ActiveSampler` (rounds of
        fitting the student and asking the teacher about MUNGE rows where the student seems to
        disagree with it; the student is fitted ``n_rounds + 1`` times, and ``partial_fit`` refuses
        it); an object with ``sample(X, n_samples, random_state)`` or a function of the same signature
        supplies your own.
    augment_size : int or float, default=1.0
        Number of synthetic rows, that is of teacher queries beyond the training rows: an int, or a
        float times the number of training rows.
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
    teacher_cv : None, int, cross-validation splitter or iterable, default=None
        Out-of-fold teacher labels, for an unfitted teacher: the outputs the student learns on the
        training rows come from clones of the teacher fitted on the other folds, as
        :func:`~sklearn.model_selection.cross_val_predict` gives them, so that the student does not
        learn the teacher's over-confident fit of its own training rows (a random forest's, say). The
        teacher used afterwards (``teacher_``, :meth:`teacher_proba`, :meth:`fidelity`, and the
        labels of ``X_unlabeled`` and ``augment`` rows) is the one fitted on all rows. An int is the
        number of folds of a :class:`~sklearn.model_selection.StratifiedKFold`; any splitter whose
        held-out parts cover every row once works (``sample_weight`` reaches each fold's fit; groups
        are not passed). ``None``: the teacher's outputs on the rows it was fitted on. A trained
        teacher, ``y=None``, or a fold whose other rows miss a class are errors. The ``k`` fold fits
        are cached like the teacher's (keyed by the folds' rows: a splitter with ``shuffle=True`` and
        no ``random_state`` draws new folds, and refits, at every fit). See the user guide for when
        it helps.
    keep_teacher : bool, default=True
        Whether the fitted estimator keeps its teacher (``teacher_``). Kept by default, as
        scikit-learn's meta-estimators keep what they fitted: :meth:`fidelity`,
        :meth:`teacher_proba`, the fidelity scorers and ``partial_fit`` need it. ``False`` makes a
        lean estimator to ship: predictions never need the teacher, and its pickle holds the student
        and what prediction needs, not the teacher (the ``teacher`` parameter is pickled as a string
        naming it). The methods that need the teacher then do not exist (``hasattr`` is ``False``)
        and say why.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels: those the teacher scores (a superset of the labels in ``y``), sorted.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.
    teacher_ : TorchTeacher, SklearnTeacher or TeacherEnsemble
        The fitted teacher adapter; its ``predict_proba`` gives the teacher's probabilities with
        columns in the order of ``teacher_.classes_``, which may differ from ``classes_``
        (:meth:`teacher_proba` gives them in the order of ``classes_``). Absent with ``keep_teacher=False``.
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
        **BaseDistiller._parameter_constraints,
        # A regressor (predict only) passes here so that the error can say to use DistilledRegressor.
        "teacher": [torch.nn.Module, HasMethods(["predict_proba"]), HasMethods(["predict"]), TeacherEnsemble, list],
        "T": [Interval(Real, 0, None, closed="neither")],
        "route": [StrOptions(set(ROUTES))],
        "loss": [StrOptions(set(LOSSES)), callable],
    }

    def __init__(
        self,
        teacher,
        student=None,
        T=4.0,
        alpha=0.1,
        *,
        route="auto",
        loss="kl",
        augment=None,
        augment_size=1.0,
        random_state=None,
        memory=None,
        teacher_cv=None,
        keep_teacher=True,
    ):
        self.teacher = teacher
        self.student = student
        self.T = T
        self.alpha = alpha
        self.route = route
        self.loss = loss
        self.augment = augment
        self.augment_size = augment_size
        self.random_state = random_state
        self.memory = memory
        self.teacher_cv = teacher_cv
        self.keep_teacher = keep_teacher

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
        return self._fit(X, y, sample_weight, X_unlabeled)

    def _check_student_learns_incrementally(self):
        student = MLPStudent() if self.student is None else self.student
        if not (isinstance(student, torch.nn.Module) or hasattr(student, "partial_fit_distill")):
            if not REGISTRY["sample_weight"].learns_incrementally(student):
                raise AttributeError(
                    f"partial_fit needs a student that learns incrementally; {type(student).__name__} has no "
                    "partial_fit taking classes and sample_weight. Use MLPStudent, TorchStudent, "
                    "SGDClassifier(loss='log_loss'), MultinomialNB, ... or fit."
                )

    @available_if(BaseDistiller._can_learn_incrementally)
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
        return self._partial_fit(X, y, classes, sample_weight)

    # --- Hooks of BaseDistiller ---------------------------------------------------------------------

    def _loss(self):
        return as_loss(self.loss, self.T, self.alpha)

    def _check_y(self, y):
        check_classification_targets(y)

    def _check_fit_labels(self, y):
        check_at_least_two_classes(np.unique(y))

    def _teacher_adapter(self):
        teacher = as_teacher(self.teacher)
        if teacher.task != "classification":
            inner = getattr(teacher, "estimator", getattr(teacher, "module", teacher))
            raise ValueError(
                f"The teacher {type(inner).__name__} predicts values (a regression teacher), but DistilledClassifier "
                "needs class scores. Use DistilledRegressor to distil a regressor."
            )
        return teacher

    def _student_adapter(self):
        return as_student(self.student, self.route, loss=self._loss())

    def _student_input_tags(self):
        try:
            loss = self._loss()
        except (TypeError, ValueError):  # a bad loss: fit says why, before any work
            loss = None
        return student_input_tags(self.student, self.route, loss)

    def _check_before_teacher_runs(self, teacher, student, X, y):
        """The student's route must handle the number of classes (liblinear takes two only)."""
        if hasattr(student, "check_n_classes") and y is not None:
            known = getattr(getattr(teacher, "estimator", None), "classes_", None)  # a fitted scikit-learn teacher
            n_classes = max(len(np.unique(y)), 0 if known is None or not is_trained(teacher) else len(known))
            student.check_n_classes(n_classes)

    def _student_width(self, teacher, X, y):
        """The teacher's classes (a trained teacher's, read on one row), else ``y``'s."""
        if is_trained(self.teacher):
            return len(clone(teacher).fit(_safe_indexing(X, [0])).classes_)  # the clone shares the trained model
        return None if y is None else len(np.unique(y))

    def _check_teacher_agrees_with_y(self, space, teacher_outputs, y):
        classes, columns = space
        warn_if_columns_look_permuted(
            aligned_logits([teacher_outputs], columns),
            np.searchsorted(classes, y),
            classes,
            columns_assumed=_takes_columns_as_sorted_labels(self.teacher),
        )

    def _output_space(self, teacher, y, *, in_fit=False):
        """The sorted classes and the teacher's column scoring each; every label of ``y`` must be one.

        ``fit``'s ``y`` (``in_fit``) may be labels a scikit-learn meta-estimator encoded: the error says so.
        """
        hint = teacher._relabel_hint
        if in_fit:  # made only for the error, from y's distinct labels: not a second pass over y
            relabel_hint = hint

            def hint(labels):
                return relabel_hint + encoded_labels_hint(teacher.classes_, labels)

        return align_classes(teacher.classes_, y, hint=hint)

    def _first_stream_space(self, teacher, classes, y):
        return align_classes(teacher.classes_, classes, labels_name="classes", hint=teacher._relabel_hint)

    def _fitted_space(self):
        return self.classes_, self._teacher_columns

    def _record_space(self, space):
        self.classes_, self._teacher_columns = space

    def _record_fit(self, space, student, fitted_student):
        super()._record_fit(space, student, fitted_student)
        self.student_classes_ = np.asarray(getattr(student, "output_classes_", fitted_student.classes_))

    def _targets(self, space, teacher_outputs, y, n_unlabelled):
        classes, columns = space
        y_index = None
        if y is not None:
            y_index = np.concatenate([np.searchsorted(classes, y), np.full(n_unlabelled, UNLABELLED)])
        return DistillationTargets(
            teacher_logits=aligned_logits(teacher_outputs, columns),
            y=y_index,
            classes=classes,
            T=self.T,
            alpha=self.alpha,
            loss=self._loss(),
        )

    def _teacher_view(self, student, space, outputs):
        """The teacher's class probabilities that ``student.predict_proba`` should match.

        A neural student learns ``softmax(s / T)`` against ``softmax(t / T)``, so its ``predict_proba``
        (at temperature 1) matches the teacher's at 1; a classical student learns the soft targets
        ``softmax(t / T)`` themselves.
        """
        temperature = self.T if getattr(student, "route", "native") != "native" else 1.0
        return tempered_softmax(aligned_logits([outputs], space[1]), temperature)

    def _student_view(self, student, fitted, space, X):
        """The fitted student's class probabilities on ``X``, columns in the order of the classes."""
        classes = space[0]
        student_classes = np.asarray(getattr(student, "output_classes_", fitted.classes_))
        proba = np.asarray(fitted.predict_proba(X), dtype=np.float64)
        _check_student_output(proba, student_classes, fitted, "predict_proba")
        return _aligned_columns(proba, student_classes, classes, fill=0.0)

    def _stream_teacher(self, classes):
        """The teacher adapter for ``partial_fit``: it knows its labels, or gets them from ``classes``.

        So do the torch members of an ensemble, since one chunk's ``y`` may lack some labels.
        """
        teacher = as_teacher(self.teacher)
        if isinstance(teacher, TeacherEnsemble):
            teacher.teachers = [(name, _naming_labels(member, classes)) for name, member in teacher.teachers]
            return teacher
        return _naming_labels(teacher, classes)

    def _check_stream_continues(self, teacher, student, classes):
        all_classes = self.classes_
        if classes is not None:
            align_classes(teacher.classes_, classes, labels_name="classes", hint=teacher._relabel_hint)
        student_classes = np.asarray(getattr(student, "classes_", all_classes))
        if not np.array_equal(student_classes, all_classes):
            raise ValueError(
                f"The student fitted by fit knows the classes {student_classes.tolist()!r} only (the others had "
                f"no soft weight), but partial_fit needs all of {all_classes.tolist()!r}. Start the stream "
                "with partial_fit rather than fit."
            )

    @available_if(BaseDistiller._check_teacher_kept)
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
        return softmax_in_place(self._teacher_outputs(X)[:, self._teacher_columns])

    @available_if(BaseDistiller._check_teacher_kept)
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
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises NotFittedError (check_is_fitted itself costs ~8 us a call)
        X_checked = validated_rows(self, X, self._predict_validation)
        X_student = X if hasattr(X, "iloc") else X_checked
        if method == "predict_log_proba" and not hasattr(self.student_, method):
            with np.errstate(divide="ignore"):
                output = np.log(self.student_.predict_proba(X_student))
        else:
            output = getattr(self.student_, method)(X_student)
        student_classes = np.asarray(getattr(self, "student_classes_", self.student_.classes_))
        _check_student_output(output, student_classes, self.student_, method)
        return _aligned_columns(output, student_classes, self.classes_, fill=fill)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._y_required()
        return tags

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


def _takes_columns_as_sorted_labels(teacher):
    """Whether ``teacher`` is, or has as a member, a torch teacher given no ``classes``."""
    if isinstance(teacher, torch.nn.Module):
        return True
    if isinstance(teacher, TorchTeacher):
        return teacher.classes is None
    if isinstance(teacher, TeacherEnsemble):
        teacher = [member for _, member in teacher.teachers]
    return isinstance(teacher, list) and any(_takes_columns_as_sorted_labels(member) for member in teacher)


def _naming_labels(teacher, classes):
    """A torch teacher told which label each column scores (``classes``, sorted); others as they are."""
    if isinstance(teacher, torch.nn.Module):
        teacher = TorchTeacher(teacher)
    if not isinstance(teacher, TorchTeacher) or teacher.classes is not None:
        return teacher
    if classes is None:
        raise ValueError(
            "classes must be passed on the first call to partial_fit with a torch teacher that does not "
            "name its labels: pass partial_fit(X, y, classes=[...]) (the sorted labels scored by the "
            "module's columns), or TorchTeacher(module, classes=[...])."
        )
    return clone(teacher).set_params(classes=np.unique(classes))


def _aligned_columns(output, student_classes, classes, *, fill):
    """The student's ``output`` columns (labelled ``student_classes``) placed under ``classes``; ``fill``
    for the classes the student does not know."""
    if len(student_classes) == len(classes) and (student_classes == classes).all():
        return output
    aligned = np.full((output.shape[0], len(classes)), fill)
    aligned[:, np.searchsorted(classes, student_classes)] = output
    return aligned


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


_FIDELITY_METRICS = {"agreement": fidelity_score, "kl": kl_divergence, "total_variation": total_variation}
