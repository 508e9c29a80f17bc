"""DistilledRegressor: a student regressor trained on a blend of the true targets and a teacher's predictions."""

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._base import RegressionTargets, available_if, unchanged_on_failure, validated_rows
from ._base_distiller import BaseDistiller
from .metrics import mean_absolute_difference, regression_fidelity_score
from .students import MLPStudent
from .students._regression import (
    as_regression_student,
    check_regression_incremental,
    partial_fit_regressor,
    regression_predictions,
)
from ._ensemble import TeacherEnsemble
from ._label_agreement import warn_if_predictions_look_in_other_units
from .teachers import TorchTeacher, as_teacher, is_trained

_FIDELITY_METRICS = {"r2": regression_fidelity_score, "mean_absolute_difference": mean_absolute_difference}


class DistilledRegressor(RegressorMixin, BaseDistiller):
    """A student regressor trained to imitate a teacher regressor (knowledge distillation for regression).

    ``fit`` asks the teacher for its predictions ``t`` on ``X`` once, then trains a copy of the student on

    ``alpha * ||s - y||**2 + (1 - alpha) * ||s - t||**2``

    where ``s`` are the student's outputs and ``y`` the true targets. For squared error this is, up to
    a constant, the squared error to the blended target ``alpha * y + (1 - alpha) * t``: a classical
    regressor student (a shallow tree, a linear model, any scikit-learn regressor) is fitted to that
    blend, a neural student (``MLPStudent``, ``TorchStudent``) learns a regression head on the loss.
    Predictions come from the student alone.

    Parameters
    ----------
    teacher : torch.nn.Module, regressor with ``predict``, TorchTeacher, SklearnTeacher, TeacherEnsemble or list
        The model to imitate (a list of teachers, or a :class:`~skdistill.TeacherEnsemble`, averages
        several teachers' predictions with weights). A torch module returns the predictions, shape (n, n_outputs) or (n,)
        (it is wrapped in ``TorchTeacher(module, output="values")``; pass such a
        :class:`~skdistill.TorchTeacher` yourself for a device or batch size). A fitted regressor is
        used as it is; an unfitted one is cloned and the clone fitted on ``X, y`` first. A classifier
        is refused. The teacher is never modified, and :func:`~sklearn.base.clone` shares a trained
        teacher rather than copying it.
    student : regressor, torch.nn.Module or None, default=None
        The model to train, used as a template (fit trains a copy, stored as ``student_``). ``None``
        means ``MLPStudent()``; a bare module is wrapped in :class:`~skdistill.TorchStudent`. Neural
        students learn a regression head: their ``predict`` then returns the outputs. A regressor
        without multi-output support is wrapped in ``MultiOutputRegressor`` for several outputs.
    alpha : float, default=0.1
        Weight of the true targets, in [0, 1]; the teacher weighs ``1 - alpha``. It weighs the
        labelled rows only: the rows of ``X_unlabeled`` and ``augment`` have no target and always
        learn the teacher's. ``alpha=0`` is pure distillation, where ``y`` may be ``None`` (the
        targets then come from the teacher).
    augment : {"noise", "munge", "mixup", "active"}, augmenter, ActiveSampler, callable or None, default=None
        Transfer-set augmentation, as in :class:`~skdistill.DistilledClassifier`: synthetic rows
        made from the training rows, which the teacher labels and the student learns.
    augment_size : int or float, default=1.0
        Number of synthetic rows: an int, or a float times the number of training rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the augmentation.
    memory : None, str, joblib.Memory or False, default=None
        Where the teacher's outputs are cached, as in :class:`~skdistill.DistilledClassifier`.
    teacher_cv : None, int, cross-validation generator or iterable, default=None
        Out-of-fold teacher predictions for an unfitted teacher, as in
        :class:`~skdistill.DistilledClassifier` (folds are not stratified for regression).
    keep_teacher : bool, default=True
        Whether the fitted estimator keeps its teacher, as in :class:`~skdistill.DistilledClassifier`:
        ``False`` gives a lean pickle without it, and :meth:`fidelity`, :meth:`teacher_predict` and
        ``partial_fit`` then say that it was left behind.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.
    n_outputs_ : int
        Number of outputs (1 for a vector ``y``).
    teacher_ : TorchTeacher or SklearnTeacher
        The fitted teacher adapter; ``teacher_predict`` gives its predictions. Absent with
        ``keep_teacher=False``.
    student_ : estimator
        The trained student, a plain estimator of its kind (a ``DecisionTreeRegressor`` student gives
        a ``DecisionTreeRegressor`` that ``export_text`` reads).
    route_ : {"native", "blended"}
        How the student was trained: a neural head on the loss, or a regressor on the blended target.

    See Also
    --------
    DistilledClassifier : The same for classification.
    skdistill.metrics.regression_fidelity_score : R² of the student against the teacher.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skdistill import DistilledRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = DistilledRegressor(
    ...     RandomForestRegressor(n_estimators=50, random_state=0), DecisionTreeRegressor(max_depth=3), alpha=0.2
    ... )
    >>> reg.fit(X, y).fidelity(X) > 0.5
    True
    """

    _parameter_constraints = {
        **BaseDistiller._parameter_constraints,
        "teacher": [torch.nn.Module, HasMethods(["predict"]), TeacherEnsemble, list],
    }
    _y_validation = {"y_numeric": True, "multi_output": True}

    def __init__(
        self,
        teacher,
        student=None,
        alpha=0.1,
        *,
        augment=None,
        augment_size=1.0,
        random_state=None,
        memory=None,
        teacher_cv=None,
        keep_teacher=True,
    ):
        self.teacher = teacher
        self.student = student
        self.alpha = alpha
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
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            True targets. May be ``None`` only with ``alpha=0`` and a teacher that is already trained.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the student's loss (and in an unfitted teacher's fit).
        X_unlabeled : array-like of shape (n_unlabeled, n_features), default=None
            Extra rows without targets (a transfer set): the student learns the teacher's predictions
            on them.

        Returns
        -------
        self : DistilledRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, X_unlabeled)

    def _check_student_learns_incrementally(self):
        student = MLPStudent() if self.student is None else self.student
        if not (isinstance(student, torch.nn.Module) or hasattr(student, "partial_fit")):
            raise AttributeError(
                f"partial_fit needs a student that learns incrementally; {type(student).__name__} has no "
                "partial_fit. Use MLPStudent, TorchStudent, SGDRegressor, ... or fit."
            )

    @available_if(BaseDistiller._can_learn_incrementally)
    @_fit_context(prefer_skip_nested_validation=False)
    @unchanged_on_failure
    def partial_fit(self, X, y=None, sample_weight=None):
        """Distil one chunk of rows, continuing from earlier calls: for data that does not fit in memory.

        The teacher (trained) scores the chunk; the student takes one step on it: one epoch for a
        neural student, one ``partial_fit`` on the blended targets for a regressor that has one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            The chunk's targets; may be ``None`` only with ``alpha=0``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : DistilledRegressor
        """
        return self._partial_fit(X, y, None, sample_weight)

    # --- Hooks of BaseDistiller ---------------------------------------------------------------------

    def _teacher_adapter(self):
        teacher = as_teacher(_predicting_values(self.teacher))
        if isinstance(teacher, TeacherEnsemble):  # an ensemble of bare torch modules predicts values too
            teacher._default_task = "regression"
        if teacher.task != "regression":
            inner = getattr(teacher, "estimator", getattr(teacher, "module", teacher))
            raise ValueError(
                f"The teacher {type(inner).__name__} is a classifier (it scores classes), but DistilledRegressor "
                "needs a regressor teacher. Use DistilledClassifier to distil a classifier, or "
                "TorchTeacher(module, output='values') for a torch module that predicts values."
            )
        return teacher

    def _student_adapter(self):
        return as_regression_student(self.student)

    def _check_before_teacher_runs(self, teacher, student, X, y):
        """A trained teacher's width must match y's; checked on one row, before the teacher's full pass."""
        if y is None or not is_trained(self.teacher):
            return
        probe = clone(teacher).fit_logits(_safe_indexing(X, [0]))  # a DataFrame stays one (named columns)  # a clone shares the trained model, and leaves the adapter as it is
        self._output_space(teacher, y, n_outputs=probe.shape[1])

    def _student_width(self, teacher, X, y):
        """``y``'s number of outputs, else a trained teacher's (read on one row)."""
        if y is not None:
            return 1 if np.ndim(y) == 1 else np.shape(y)[1]
        return clone(teacher).fit_logits(_safe_indexing(X, [0])).shape[1] if is_trained(self.teacher) else None

    def _check_teacher_agrees_with_y(self, space, teacher_outputs, y):
        warn_if_predictions_look_in_other_units(np.asarray(teacher_outputs).reshape(len(y), -1), y)

    def _output_space(self, teacher, y, n_outputs=None, *, in_fit=False):
        """The number of outputs; the teacher's must match ``y``'s (``in_fit``: unused, see the classifier's)."""
        n_outputs = teacher.n_outputs_ if n_outputs is None else n_outputs
        if y is not None:
            y_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
            if y_outputs != n_outputs:
                raise ValueError(
                    f"The teacher predicts {n_outputs} output(s) per row, but y has {y_outputs}; they must match."
                )
        return (n_outputs, np.ndim(y) if y is not None else (1 if n_outputs == 1 else 2))

    def _first_stream_space(self, teacher, classes, y):
        return self._output_space(teacher, y)

    def _fitted_space(self):
        return self.n_outputs_, self._y_ndim

    def _record_space(self, space):
        self.n_outputs_, self._y_ndim = space

    def _targets(self, space, teacher_outputs, y, n_unlabelled):
        n_outputs = space[0]
        outputs = teacher_outputs[0] if len(teacher_outputs) == 1 else np.concatenate(teacher_outputs)
        y_rows = None
        if y is not None:
            y_rows = np.concatenate(
                [np.asarray(y, dtype=np.float64).reshape(-1, n_outputs), np.full((n_unlabelled, n_outputs), np.nan)]
            )
        return RegressionTargets(teacher_outputs=outputs, y=y_rows, alpha=self.alpha)

    def _teacher_view(self, student, space, outputs):
        return np.asarray(outputs, dtype=np.float64)

    def _student_view(self, student, fitted, space, X):
        return regression_predictions(fitted, X)

    def _check_incremental(self, student):
        check_regression_incremental(student)

    def _partial_fit_student(self, student, X, targets, sample_weight):
        return partial_fit_regressor(student, X, targets, sample_weight=sample_weight)

    # --- Predictions ---------------------------------------------------------------------------------

    def predict(self, X):
        """The student's predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The shape of the ``y`` seen in fit.
        """
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)  # raises NotFittedError
        X_checked = validated_rows(self, X, self._predict_validation)
        predictions = regression_predictions(self.student_, X if hasattr(X, "iloc") else X_checked)
        if not np.isfinite(predictions).all():
            raise ValueError(
                f"The student {type(self.student_).__name__}.predict returned NaN or infinite values for "
                f"{int((~np.isfinite(predictions)).any(axis=1).sum())} of {len(predictions)} rows."
            )
        return self._in_shape_of_y(predictions)

    @available_if(BaseDistiller._check_teacher_kept)
    def teacher_predict(self, X):
        """The teacher's predictions on ``X``, in the shape of :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._in_shape_of_y(np.asarray(self._teacher_outputs(X), dtype=np.float64))

    def _in_shape_of_y(self, outputs):
        """``outputs`` of shape (n_samples, n_outputs) in the shape of the ``y`` seen in fit."""
        return outputs[:, 0] if self._y_ndim == 1 else outputs

    @available_if(BaseDistiller._check_teacher_kept)
    def fidelity(self, X, metric="r2"):
        """How closely the student imitates the teacher on ``X`` (use held-out rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        metric : {"r2", "mean_absolute_difference"}, default="r2"
            ``"r2"``: R² of the student's predictions against the teacher's (1 is perfect, higher is
            better); ``"mean_absolute_difference"``: mean ``|teacher - student|`` (lower is better).

        Returns
        -------
        float
        """
        check_is_fitted(self)
        if metric not in _FIDELITY_METRICS:
            raise ValueError(f"metric must be one of {sorted(_FIDELITY_METRICS)}; got {metric!r}.")
        return _FIDELITY_METRICS[metric](self.teacher_predict(X), self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._y_required()
        tags.target_tags.multi_output = True
        return tags



def _predicting_values(teacher):
    """A bare torch module as a regression teacher (``TorchTeacher(module, output="values")``); others as given."""
    return TorchTeacher(teacher, output="values") if isinstance(teacher, torch.nn.Module) else teacher
