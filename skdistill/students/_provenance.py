"""Where an estimator comes from: scikit-learn's (or skdistill's) own classes, or another library's."""

__all__ = ["is_scikit_learn_or_ours", "takes_any_labels"]

# Modules of scikit-learn's base classes and mixins, which other libraries' estimators inherit too.
_SKLEARN_BASES = ("sklearn.base", "sklearn.utils")


def is_scikit_learn_or_ours(estimator):
    """Whether ``estimator``'s class is scikit-learn's or skdistill's, judged by the module defining it.

    Only those may be met through scikit-learn's private API (``_validate_params``) and trusted to take
    any labels: LightGBM, XGBoost and CatBoost look like scikit-learn estimators but are not.
    """
    package = type(estimator).__module__.partition(".")[0]
    return package in ("sklearn", "skdistill")


def takes_any_labels(estimator):
    """Whether ``estimator`` can be fitted on the labels as they are (strings, any integers).

    True for scikit-learn's and skdistill's estimators and for classes built on one of their models
    (a user's ``DecisionTreeClassifier`` subclass, imbalanced-learn's ``BalancedRandomForestClassifier``),
    whose ``predict`` then gives labels; False for other libraries (XGBoost takes only 0 .. K-1, all
    present; LightGBM and CatBoost are treated alike), which are fitted on label positions, and for a
    scikit-learn meta-estimator holding one (``make_pipeline(StandardScaler(), XGBClassifier())``).
    Base classes and mixins (``BaseEstimator``, ``ClassifierMixin``) do not count: XGBoost and LightGBM
    inherit them.
    """
    get_params = getattr(estimator, "get_params", None)
    nested = list(get_params(deep=True).values()) if callable(get_params) else []
    parts = [estimator, *(value for value in nested if hasattr(value, "fit") and not isinstance(value, type))]
    return all(_built_on_scikit_learn(type(part)) for part in parts)


def _built_on_scikit_learn(cls):
    for klass in cls.__mro__:
        module = klass.__module__
        if module.partition(".")[0] in ("sklearn", "skdistill") and not module.startswith(_SKLEARN_BASES):
            return True
    return False
