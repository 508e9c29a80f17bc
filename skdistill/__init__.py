"""skdistill: knowledge distillation as a scikit-learn estimator.

Distil a heavy teacher (a PyTorch network, a boosted ensemble, any classifier) into a small student
(a tiny neural network, a logistic regression, a decision tree, any scikit-learn estimator) with the
scikit-learn API: ``fit``, ``predict_proba``, pipelines, grid search, cross-validation, pickling.
"""

__version__ = "0.1.0.dev0"  # first: the teacher-output cache keys on it

from ._cache import TeacherCacheInfo, clear_teacher_cache, set_teacher_cache_limits, teacher_cache_info  # noqa: E402
from ._classifier import DistilledClassifier  # noqa: E402
from ._ensemble import TeacherEnsemble  # noqa: E402
from ._onnx import register_onnx_converters, to_onnx  # noqa: E402
from ._pruning import prune_student  # noqa: E402
from ._regressor import DistilledRegressor  # noqa: E402
from .students import BoostingStudent, MLPStudent, RegressorStudent, TorchStudent  # noqa: E402
from .students._neural_base import Float64FallbackWarning  # noqa: E402
from .students._training import TrainingInterruptedWarning  # noqa: E402
from .teachers import SklearnTeacher, TorchTeacher  # noqa: E402

__all__ = [
    "BoostingStudent",
    "DistilledClassifier",
    "DistilledRegressor",
    "Float64FallbackWarning",
    "MLPStudent",
    "RegressorStudent",
    "SklearnTeacher",
    "TeacherCacheInfo",
    "TeacherEnsemble",
    "TorchStudent",
    "TorchTeacher",
    "TrainingInterruptedWarning",
    "clear_teacher_cache",
    "prune_student",
    "register_onnx_converters",
    "set_teacher_cache_limits",
    "teacher_cache_info",
    "to_onnx",
    "__version__",
]
