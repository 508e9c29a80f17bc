"""Students: the small models a teacher is distilled into, and how each kind is trained."""

from ._mlp import MLPStudent
from ._routing import as_student
from ._soft_boosting import BoostingStudent
from ._soft_regression import RegressorStudent
from ._torch import TorchStudent

__all__ = ["BoostingStudent", "MLPStudent", "RegressorStudent", "TorchStudent", "as_student"]
