"""Which training route fits a student: the one place that asks what kind of model a student is.

Every route turns ``DistillationTargets`` into a fitted student with ``predict_proba`` and
``classes_``. Neural students train on the logits with the targets' loss; the others learn the soft
targets ``q = alpha * onehot(y) + (1 - alpha) * softmax(t / T)``. The routes themselves are small
objects in :data:`~skdistill.students._routes.REGISTRY`.
"""

import torch
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import InputTags, get_tags
from sklearn.utils.validation import has_fit_parameter

from ._mlp import MLPStudent
from ._provenance import is_scikit_learn_or_ours, takes_any_labels
from ._routes import REGISTRY
from ._torch import TorchStudent

__all__ = ["ROUTES", "as_student", "is_scikit_learn_or_ours", "student_input_tags", "takes_any_labels"]

ROUTES = ("auto", *REGISTRY)


def _allowed_routes(loss):
    """The routes a loss can be reached by: all, or those its ``classical_routes`` name (and native)."""
    classical = getattr(loss, "classical_routes", None)
    return list(REGISTRY) if classical is None else ["native", *classical]


def choose_route(student, loss=None):
    """The exact and cheapest route for ``student`` that reaches ``loss`` (default: the KL loss).

    Parameters
    ----------
    student : estimator
    loss : loss object, default=None

    Returns
    -------
    str
    """
    allowed = _allowed_routes(loss)
    for name, route in REGISTRY.items():
        if (route.automatic or len(allowed) < len(REGISTRY)) and name in allowed and route.why_refused(student) is None:
            return name
    if len(allowed) < len(REGISTRY):
        raise ValueError(_loss_refuses(student, loss, allowed))
    if is_classifier(student) and has_fit_parameter(student, "sample_weight"):
        # The route it is made for refuses one of its settings: say which, not that nothing fits.
        reason = REGISTRY["sample_weight"].why_refused(student)
        raise ValueError(f"route='sample_weight' cannot train the student {type(student).__name__}: {reason}.")
    if isinstance(student, Pipeline):
        raise TypeError(
            "A Pipeline cannot be the student; put the preprocessing around the distiller instead: "
            "make_pipeline(StandardScaler(), DistilledClassifier(teacher, LogisticRegression()))."
        )
    raise TypeError(
        f"The student {type(student).__name__} cannot learn from soft labels: it is not a neural student, "
        "not a classifier whose fit accepts sample_weight, and not a regressor. Use such a classifier "
        "(e.g. HistGradientBoostingClassifier, RandomForestClassifier, SGDClassifier(loss='log_loss')), "
        "a regressor, MLPStudent, or TorchStudent."
    )


def _loss_refuses(student, loss, allowed):
    classical = [name for name in allowed if name != "native"]
    reach = (
        f"a classical student reaches it only by route {classical[0]!r} (a regressor fitted to the teacher's "
        "logits)"
        if classical
        else "only a neural student (MLPStudent, TorchStudent) can minimise a loss function of your own"
    )
    return (
        f"loss={getattr(loss, 'name', loss)!r} cannot train the student {type(student).__name__}: {reach}. Use "
        "loss='kl' (the soft targets every classical student learns), or such a student."
    )


class SoftLabelStudent:
    """A classical student and its route: ``fit_distill`` returns the fitted student itself.

    Parameters
    ----------
    estimator : estimator
        The user's student (never fitted itself: each route fits a clone).
    route : {"logistic", "tree", "boosting", "sample_weight", "regression_proba", "regression_logits"}

    Attributes
    ----------
    output_classes_ : ndarray
        Set by ``fit_distill``: the label of each column of the fitted student's ``predict_proba``. A
        student from another library (LightGBM, XGBoost, CatBoost; see :func:`takes_any_labels`) is fitted on class positions by
        the ``"sample_weight"`` route, so its own ``classes_`` are positions in ``output_classes_``.
    """

    def __init__(self, estimator, route):
        self.estimator = estimator
        self.route = route

    def check_fit_arguments(self, sample_weight):
        """Raise now (before any work) if ``sample_weight`` cannot reach this student.

        Parameters
        ----------
        sample_weight : array-like or None
        """
        REGISTRY[self.route].check_fit_arguments(self.estimator, sample_weight)

    def check_n_classes(self, n_classes):
        """Raise now (before any work) if this route cannot train the student on ``n_classes`` classes.

        Parameters
        ----------
        n_classes : int
        """
        REGISTRY[self.route].check_n_classes(self.estimator, n_classes)

    def fit_distill(self, X, targets, sample_weight=None):
        """Fit a clone of the estimator to ``targets.soft_targets()``; return the fitted student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        targets : DistillationTargets
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        estimator
            A fitted classifier with ``predict_proba`` and ``classes_`` (``LogisticRegression``,
            ``DecisionTreeClassifier``, the user's classifier, or a ``RegressorStudent``).
        """
        fitted, self.output_classes_ = REGISTRY[self.route].fit(self.estimator, X, targets, sample_weight)
        return fitted


def _estimator_and_route(student):
    """The estimator inside ``student`` and the route that continues it (a fitted classical student
    given back by ``fit`` is continued by the ``"sample_weight"`` route)."""
    if isinstance(student, SoftLabelStudent):
        return student.estimator, REGISTRY[student.route]
    if REGISTRY["native"].learns_incrementally(student):
        return student, REGISTRY["native"]
    return student, REGISTRY["sample_weight"]


def check_incremental(student):
    """Raise a clear error, before any work, if ``as_student``'s result cannot learn chunk by chunk.

    Parameters
    ----------
    student : object returned by :func:`as_student`
    """
    estimator, route = _estimator_and_route(student)
    if route.learns_incrementally(estimator):
        return
    raise TypeError(
        f"The student {type(estimator).__name__} cannot learn incrementally (route {route.name!r}): "
        "partial_fit needs a neural student (MLPStudent, TorchStudent) or a classifier whose partial_fit takes "
        "classes and sample_weight and which has predict_proba (SGDClassifier(loss='log_loss'), MultinomialNB, "
        "BernoulliNB, ...). Use fit for this student."
    )


def partial_fit_student(student, X, targets, sample_weight=None):
    """Continue training ``student`` (a neural student, or a classifier with ``partial_fit``) on a chunk.

    The caller checks the student with :func:`check_incremental` first, before the teacher runs.

    Parameters
    ----------
    student : object returned by :func:`as_student`, or a student returned by an earlier call
    X : array-like of shape (n_samples, n_features)
    targets : DistillationTargets
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    estimator
        The student, updated in place: the one to pass to the next call.
    """
    estimator, route = _estimator_and_route(student)
    return route.partial_fit(estimator, X, targets, sample_weight=sample_weight)


def student_input_tags(student, route=None, loss=None):
    """The kinds of input ``student`` takes as its route trains it: missing values, sparse matrices.

    A distiller takes what its student takes and passes it on as it is. The student's scikit-learn
    input tags say what it takes, narrowed by its route where the route's own code does not take it
    (see ``Route.input_tags``). ``None`` is an ``MLPStudent``; a torch module, or an estimator without
    scikit-learn tags, takes neither NaN nor sparse input.

    Parameters
    ----------
    student : estimator, torch.nn.Module or None
    route : str, default=None
        The route of a classification student (``DistilledClassifier``'s ``route``); None for a student
        trained as it is (a regression student).
    loss : loss object, default=None
        The distiller's loss (it may allow only some routes).

    Returns
    -------
    sklearn.utils.InputTags
    """
    if student is None:
        student = MLPStudent()
    if isinstance(student, torch.nn.Module):
        return InputTags()
    try:
        tags = get_tags(student).input_tags
    except AttributeError:  # no __sklearn_tags__ (an estimator of another library): the defaults
        return InputTags()
    if route is None or route not in ROUTES:
        return tags
    # Only a route that narrows the tags and takes this student matters. Choosing the route costs more
    # than the checks of a one-row predict (a booster's get_params, 0.25 ms), and the tags are asked
    # for there: choose it only when such a route is a candidate.
    candidates = REGISTRY.values() if route == "auto" else [REGISTRY[route]]
    if all(candidate.input_tags(student, tags) == tags or candidate.why_refused(student) is not None for candidate in candidates):
        return tags
    try:
        chosen = choose_route(student, loss) if route == "auto" else route
    except (TypeError, ValueError):  # no route takes it: fit says why, before any work
        return tags
    return REGISTRY[chosen].input_tags(student, tags)


def as_student(student, route="auto", loss=None):
    """An unfitted, parameter-checked student that can be trained from a teacher.

    Every student returned has ``fit_distill(X, targets, sample_weight)``, which returns the fitted
    student: an estimator with ``predict_proba`` and ``classes_``.

    Parameters
    ----------
    student : estimator, torch.nn.Module or None
        ``None`` means ``MLPStudent()``; a bare module is wrapped in ``TorchStudent`` (and used as a
        template: training works on a copy). An estimator with ``fit_distill`` (``MLPStudent``,
        ``TorchStudent``, or your own) is trained on the logits; any other scikit-learn estimator
        learns the soft targets by the route ``route`` picks.
    route : {"auto", "native", "logistic", "tree", "boosting", "sample_weight", "regression_proba", \
            "regression_logits"}
        ``"auto"`` picks the exact and cheapest route that applies.
    loss : loss object, default=None
        The distiller's loss (see :mod:`skdistill.losses`); it may allow only some routes.

    Returns
    -------
    student
        Never the object given: a clone, or a new wrapper.
    """
    if student is None:
        student = MLPStudent()
    elif isinstance(student, torch.nn.Module):
        student = TorchStudent(student)
    chosen = choose_route(student, loss) if route == "auto" else route
    reason = REGISTRY[chosen].why_refused(student)
    if reason is not None:
        raise ValueError(f"route={chosen!r} cannot train the student {type(student).__name__}: {reason}.")
    if chosen not in _allowed_routes(loss):
        raise ValueError(_loss_refuses(student, loss, _allowed_routes(loss)) + f" (route={chosen!r} was asked for)")
    prepared = clone(student)
    if hasattr(prepared, "check_params"):
        prepared.check_params()
    elif is_scikit_learn_or_ours(prepared) and hasattr(prepared, "_validate_params"):
        prepared._validate_params()  # scikit-learn's own parameter checks, before any work
    return prepared if chosen == "native" else SoftLabelStudent(prepared, chosen)
