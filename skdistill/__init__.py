"""skdistill: knowledge distillation as a scikit-learn estimator.

Distil a heavy teacher (a PyTorch network, a boosted ensemble, any classifier) into a small student
(a tiny neural network, a logistic regression, a decision tree, any scikit-learn estimator) with the
scikit-learn API: ``fit``, ``predict_proba``, pipelines, grid search, cross-validation, pickling.
"""

from ._classifier import DistilledClassifier
from .students import MLPStudent, RegressorStudent, TorchStudent
from .teachers import SklearnTeacher, TorchTeacher

__version__ = "0.1.0.dev0"

__all__ = [
    "DistilledClassifier",
    "MLPStudent",
    "RegressorStudent",
    "SklearnTeacher",
    "TorchStudent",
    "TorchTeacher",
    "__version__",
]
