"""scikit-learn's own estimator checks, run over every public estimator that learns."""

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent, TeacherEnsemble
from skdistill.students import RegressorStudent
from skdistill.students._routing import student_input_tags

FLOAT32_SAMPLE_WEIGHT = (
    "training runs in float32: integer weights and repeated rows give the same (full-batch) gradients "
    "up to float32 summation order, about 1e-7 relative, which the check's rtol=1e-7 does not allow. "
    "test_students.py::test_integer_weights_match_repeated_rows checks the equivalence at rtol=1e-4."
)


# A distiller's checks of X follow its student (skdistill._base_distiller.BaseDistiller._input_validation),
# its allow_nan tag both teacher and student (as a VotingClassifier's asks every member).
PREDICT_TAKES_WHAT_THE_STUDENT_TAKES = (
    "predict runs the student alone, which takes NaN; the distiller's allow_nan tag is False because the "
    "teacher (GaussianNB) does not, and fit on NaN does raise (the teacher's error). The check wants predict "
    "to raise too. test_boosting_students_inputs.py checks NaN through fit and predict."
)


def expected_failed_checks(estimator):
    neural = isinstance(estimator, MLPStudent) or isinstance(getattr(estimator, "student", None), MLPStudent)
    if neural:
        return {"check_sample_weight_equivalence_on_dense_data": FLOAT32_SAMPLE_WEIGHT}
    tags = get_tags(estimator).input_tags
    if isinstance(estimator, DistilledClassifier) and not tags.allow_nan and student_input_tags(estimator.student).allow_nan:
        return {"check_estimators_nan_inf": PREDICT_TAKES_WHAT_THE_STUDENT_TAKES}
    return {}


# Classical students are checked with a GaussianNB teacher, whose fit with integer weights is exactly a
# fit on repeated rows; an iterative teacher (LogisticRegression, tol=1e-4) would blur that check by its
# own solver tolerance. The logistic student gets a tight tol for the same reason.
# Several teachers (a TeacherEnsemble, and a plain list) are checked through the distiller, as the other
# teacher adapters are; the ensemble's logistic teacher gets a tight tol too.
# A logistic teacher and student both take sparse matrices, so that distiller's sparse tag is True and
# the checks fit it on sparse rows of every format (the others' teachers refuse them, with their error).
# TorchStudent and TorchTeacher are left out: their modules have a fixed input width, and the checks
# fit on data of many widths. TorchTeacher does not learn from data at all (it wraps a trained model).
# DistilledClassifier.partial_fit is offered only with a trained teacher, which has a fixed input width
# too, so the checks here never see it (MLPStudent's own partial_fit is checked); tests/test_streaming.py
# covers it.
@parametrize_with_checks(
    [
        DistilledClassifier(LogisticRegression(), MLPStudent(random_state=0)),
        DistilledClassifier(LogisticRegression(), MLPStudent(random_state=0), T=1.0, alpha=0.0),
        DistilledClassifier(LogisticRegression(), MLPStudent(random_state=0), augment="munge", random_state=0),
        DistilledClassifier(GaussianNB(), LogisticRegression(tol=1e-10, max_iter=1000)),
        DistilledClassifier(LogisticRegression(tol=1e-10, max_iter=1000), LogisticRegression(tol=1e-10, max_iter=1000)),
        DistilledClassifier(GaussianNB(), DecisionTreeClassifier(random_state=0)),
        DistilledClassifier(GaussianNB(), HistGradientBoostingClassifier(max_iter=20, random_state=0)),
        DistilledClassifier(GaussianNB(), Ridge()),
        DistilledClassifier(
            TeacherEnsemble([("nb", GaussianNB()), ("lr", LogisticRegression(tol=1e-10, max_iter=1000))], weights=[2, 1]),
            LogisticRegression(tol=1e-10, max_iter=1000),
        ),
        DistilledClassifier([GaussianNB(), DecisionTreeClassifier(max_depth=3, random_state=0)], DecisionTreeClassifier(random_state=0)),
        DistilledRegressor(DecisionTreeRegressor(max_depth=3, random_state=0), DecisionTreeRegressor(random_state=0)),
        DistilledRegressor(LinearRegression(), Ridge(), alpha=0.0),
        DistilledRegressor(Ridge(), MLPStudent(random_state=0), augment="noise", random_state=0),
        MLPStudent(random_state=0),
        RegressorStudent(Ridge()),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
