"""DistilledClassifier: orchestrates teacher, targets and student; holds no training loop."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._base import DistillationTargets, check_at_least_two_classes, clone_sharing, refuse_nested, without_nested
from .students import as_student
from .teachers import SklearnTeacher, TorchTeacher, as_teacher, is_trained


class DistilledClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A student classifier trained to imitate a teacher (knowledge distillation).

    ``fit`` asks the teacher for its class scores on ``X`` once, then trains a copy of the student on

    ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``

    where ``t`` are the teacher's logits, ``s`` the student's logits, ``CE`` the cross-entropy to the
    true labels and ``KL`` the Kullback-Leibler divergence between the teacher's and the student's
    class distributions, both softened by the temperature ``T``. Predictions come from the student
    alone: the teacher is not needed, nor run, at prediction time.

    Parameters
    ----------
    teacher : torch.nn.Module, classifier with ``predict_proba``, TorchTeacher or SklearnTeacher
        The model to imitate. A torch module must return logits (wrap it in
        :class:`~skdistill.TorchTeacher` for probabilities, explicit class labels, device or batch
        size). A fitted scikit-learn classifier is used as it is, its ``predict_proba`` columns matched
        to the labels by value (``classes_``), not by position. An unfitted one is cloned and the clone
        fitted on ``X, y`` first. The teacher is never modified, and :func:`~sklearn.base.clone` (as in
        grid search) shares a trained teacher rather than copying it.
    student : MLPStudent, TorchStudent, torch.nn.Module, estimator with ``fit_distill``, or None, default=None
        The model to train, used as a template: fit trains a copy, stored as ``student_``. ``None``
        means ``MLPStudent()``. A bare module is wrapped in :class:`~skdistill.TorchStudent`. Training
        knobs are tunable as ``student__max_iter``, ``student__learning_rate_init``, ...
    T : float, default=4.0
        Temperature, > 0. Dividing logits by ``T`` before the softmax softens both distributions, so
        that the student also learns how the teacher ranks the wrong classes ("dark knowledge").
        ``T=1`` matches the teacher's probabilities as they are; typical values are 2 to 10. The soft
        term is multiplied by ``T**2`` so its gradients keep their scale when ``T`` changes.
    alpha : float, default=0.1
        Weight of the cross-entropy to the true labels, in [0, 1]; the teacher's term weighs
        ``1 - alpha``. ``alpha=1`` is ordinary supervised training (the teacher is ignored),
        ``alpha=0`` pure distillation, where ``y`` may be ``None``: the labels then come from the
        teacher, which allows distilling on unlabelled data.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels: those the teacher scores (a superset of the labels in ``y``), sorted.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.
    teacher_ : TorchTeacher or SklearnTeacher
        The fitted teacher adapter; its ``predict_proba`` gives the teacher's probabilities.
    student_ : estimator
        The trained student; ``predict_proba`` of this estimator is the student's.

    See Also
    --------
    MLPStudent : A multi-layer perceptron student.
    TorchStudent : Any torch module as a student.
    TorchTeacher : Options for a torch teacher (probabilities, classes, device, batch size).

    Notes
    -----
    The teacher runs once per fit, in eval mode, without gradients, in batches; its outputs are
    computed before the student is trained, and bad outputs (wrong width, NaN or inf) stop the fit
    with a ``ValueError`` before any training.

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
        "student": [torch.nn.Module, HasMethods(["fit_distill", "predict_proba"]), None],
        "T": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, teacher, student=None, T=4.0, alpha=0.1):
        self.teacher = teacher
        self.student = student
        self.T = T
        self.alpha = alpha

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
    def fit(self, X, y=None, sample_weight=None):
        """Run the teacher on ``X`` once, then train a copy of the student to imitate it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows.
        y : array-like of shape (n_samples,), default=None
            True labels. May be ``None`` only with ``alpha=0`` and a teacher that is already trained.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the student's loss (and in an unfitted teacher's fit). Rows of weight
            0 are left out.

        Returns
        -------
        self : DistilledClassifier
            The fitted estimator.
        """
        if y is None:
            if self.alpha > 0:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None. Pass y, or set "
                    "alpha=0 to distil on unlabelled data (the labels then come from the teacher)."
                )
            X_checked = validate_data(self, X, dtype=(np.float32, np.float64))
        else:
            X_checked, y = validate_data(self, X, y, dtype=(np.float32, np.float64))
            check_classification_targets(y)
        kept = slice(None)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_checked, ensure_non_negative=True)
            kept = sample_weight > 0
        if y is not None:
            check_at_least_two_classes(np.unique(y[kept]))

        # Everything that can be checked before any work is checked here.
        student = as_student(self.student)
        teacher = as_teacher(self.teacher)
        teacher.check_fit_arguments(y, sample_weight)

        # The teacher gets the data as the user gave it (a DataFrame keeps its column names), all rows
        # with their weights; rows of weight 0 are then left out of the student's training.
        teacher_logits = teacher.fit_logits(X, y, sample_weight=sample_weight)
        self.teacher_ = teacher
        self.classes_, teacher_columns = _align_classes(teacher.classes_, y, hint=teacher._relabel_hint)
        teacher_logits = teacher_logits[kept][:, teacher_columns]
        y = None if y is None else y[kept]
        targets = DistillationTargets(
            teacher_logits=teacher_logits,
            y=None if y is None else np.searchsorted(self.classes_, y),
            classes=self.classes_,
            T=self.T,
            alpha=self.alpha,
        )
        sample_weight = None if sample_weight is None else sample_weight[kept]
        self.student_ = student.fit_distill(X_checked[kept], targets, sample_weight=sample_weight)
        return self

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
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float32, np.float64), reset=False)
        return self.student_.predict_proba(X)

    def predict_log_proba(self, X):
        """The log of the student's class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float32, np.float64), reset=False)
        return self.student_.predict_log_proba(X)

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
