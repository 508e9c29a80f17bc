"""Route "boosting" off the happy path: DataFrames with category columns, missing values, sparse matrices.

A distiller takes the input its student takes (by the student's scikit-learn tags, narrowed by its
route) and passes it on as it is, to the teacher too. LightGBM and XGBoost take all three; scikit-learn's
HistGradientBoostingClassifier takes category columns and NaN, not sparse matrices.
"""

import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

from skdistill import BoostingStudent, DistilledClassifier, DistilledRegressor, MLPStudent
from skdistill.students._soft_hist_boosting import fit_soft_hist_boosting
from test_boosting_students import KINDS, booster

pd = pytest.importorskip("pandas")
sparse = pytest.importorskip("scipy.sparse")

CATEGORICAL = {"lightgbm": {}, "xgboost": {"enable_categorical": True, "tree_method": "hist"}, "hist": {"categorical_features": "from_dtype"}}


def colours_frame(n_samples=400, seed=0):
    """Two numbers (one with 10% missing) and a colour; the label is whether the colour is red or teal,
    a set of categories no single threshold on their codes (blue, green, red, teal) separates."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n_samples),
            "weight": rng.normal(size=n_samples),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue", "teal"], size=n_samples)),
        }
    )
    frame.loc[rng.random(n_samples) < 0.1, "size"] = np.nan
    y = np.where(frame["colour"].isin(["red", "teal"]) ^ (frame["weight"] > 1.5), "yes", "no")
    return frame, y


class CountingTeacher:
    """A trained teacher that counts the rows it scores: softmax of a fixed linear map of the features,
    read alike from a dense array (NaN as 0) and a sparse matrix (absent entries as 0)."""

    def __init__(self, n_features, classes, seed=0):
        self.classes_ = np.asarray(classes)
        self.weights = np.random.default_rng(seed).normal(size=(n_features, len(classes)))
        self.rows_scored = 0

    def predict_proba(self, X):
        dense = X.toarray() if sparse.issparse(X) else np.nan_to_num(np.asarray(X, dtype=float))
        self.rows_scored += dense.shape[0]
        return softmax(dense @ self.weights, axis=1)


def sparse_problem(n_samples=300, n_features=8, seed=0):
    """Rows with about 60% zeros, and three classes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    X[np.abs(X) < 0.8] = 0.0
    y = np.argmax(X[:, :3], axis=1)
    return X, y


# ---- DataFrames with a category column ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_category_column_is_split_on_as_the_plain_booster_splits_it(kind):
    # Hard labels through the soft objective give the library's own model: on a DataFrame with a
    # category column and missing values too, so the categorical handling is the plain booster's.
    frame, labels = colours_frame()
    y = (labels == "yes").astype(int)  # XGBoost's own classifier takes the labels 0 .. K-1 only
    template = booster(kind, **CATEGORICAL[kind])
    own = clone(template).fit(frame, y)
    if kind == "hist":
        ours = fit_soft_hist_boosting(template, frame, np.eye(2)[y], np.arange(2))
    else:
        ours = BoostingStudent(template).fit(frame, y)
    np.testing.assert_allclose(ours.predict_proba(frame), own.predict_proba(frame), atol={"lightgbm": 1e-10, "xgboost": 2e-6, "hist": 1e-6}[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_a_distilled_booster_takes_a_dataframe_with_a_category_column(kind):
    frame, y = colours_frame()
    teacher = HistGradientBoostingClassifier(max_iter=30, categorical_features="from_dtype", random_state=0).fit(frame, y)
    clf = DistilledClassifier(teacher, booster(kind, **CATEGORICAL[kind]), T=2.0, alpha=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning, no dtype warning
        clf.fit(frame, y)
        predicted = clf.predict(frame)
        clf.predict_proba(frame.iloc[:5])
    assert clf.route_ == "boosting"
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(clf.student_.feature_names_in_, frame.columns)
    # The student splits on the colour as a category: one split separates {red, teal} from the rest.
    if kind == "lightgbm":
        assert "'decision_type': '=='" in str(clf.student_.booster_.dump_model()["tree_info"])
    elif kind == "xgboost":
        assert clf.student_.booster_.feature_types == ["float", "float", "c"]
    else:
        np.testing.assert_array_equal(clf.student_.is_categorical_, [False, False, True])
    assert (predicted == teacher.predict(frame)).mean() > 0.9  # 0.955 to 0.98 measured (seed 0)


# ---- missing values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_missing_values_reach_teacher_and_student(kind):
    # Whether a value is missing decides the class: the student must see the NaN to agree with its teacher.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    missing = rng.random(400) < 0.3
    X[missing, 0] = np.nan
    y = np.where(missing, 2, (X[:, 1] > 0).astype(int))
    teacher = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    clf = DistilledClassifier(teacher, booster(kind), T=2.0, alpha=0.1).fit(X, y)
    assert clf.route_ == "boosting"
    predicted = clf.predict(X)
    assert (predicted[missing] == 2).all()
    assert (predicted == teacher.predict(X)).mean() > 0.95
    assert get_tags(clf).input_tags.allow_nan


# ---- sparse matrices ----------------------------------------------------------------------------------------


# LightGBM's own, for a sparse array (its plain classifier warns alike).
@pytest.mark.filterwarnings("ignore:Converting data to scipy sparse matrix")
@pytest.mark.parametrize("kind", ["lightgbm", "xgboost"])
def test_sparse_rows_are_learnt_as_the_library_reads_them(kind):
    # LightGBM reads an absent entry as 0, XGBoost as missing: the student distilled from a CSR matrix is
    # the one distilled from the dense array with 0 (LightGBM) or NaN (XGBoost) there.
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    dense = X.copy()
    if kind == "xgboost":
        dense[X == 0] = np.nan
    from_sparse = DistilledClassifier(teacher, booster(kind), T=2.0, alpha=0.1).fit(sparse.csr_matrix(X), y)
    from_dense = DistilledClassifier(teacher, booster(kind), T=2.0, alpha=0.1).fit(dense, y)
    assert from_sparse.route_ == "boosting"
    proba = from_sparse.predict_proba(sparse.csr_matrix(X))
    np.testing.assert_allclose(proba, from_dense.predict_proba(dense), rtol=1e-6, atol=1e-9)
    assert (from_sparse.predict(sparse.csr_matrix(X)) == np.argmax(teacher.predict_proba(X), axis=1)).mean() > 0.8
    for other_format in (sparse.csc_matrix, sparse.csr_array, sparse.coo_array):  # XGBoost predicts from a csr_matrix only
        np.testing.assert_array_equal(from_sparse.predict_proba(other_format(X)), proba)


def test_hist_gradient_boosting_refuses_sparse_rows_before_the_teacher_runs():
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    with pytest.raises(TypeError, match="X is a sparse matrix, but the student HistGradientBoostingClassifier"):
        DistilledClassifier(teacher, booster("hist")).fit(sparse.csr_matrix(X), y)
    assert teacher.rows_scored == 0


@pytest.mark.parametrize(
    ("student", "make_X", "error", "message"),
    [
        (LogisticRegression(), lambda X: np.where(X == 0, np.nan, X), ValueError, "Input X contains NaN"),
        (MLPStudent(), sparse.csr_matrix, TypeError, r"X is a sparse matrix, .* Pass X.toarray\(\)"),
    ],
)
def test_a_student_that_does_not_take_the_input_refuses_it_before_the_teacher_runs(student, make_X, error, message):
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    with pytest.raises(error, match=message):
        DistilledClassifier(teacher, student).fit(make_X(X), y)
    assert teacher.rows_scored == 0


@pytest.mark.parametrize("augment", ["munge", "noise"])
@pytest.mark.parametrize("kind_of_X", ["sparse", "nan", "category"])
def test_augment_refuses_rows_it_cannot_do_arithmetic_on_before_the_teacher_runs(augment, kind_of_X):
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    if kind_of_X == "sparse":
        X, problem = sparse.csr_matrix(X), "X is a sparse matrix"
    elif kind_of_X == "nan":
        X, problem = np.where(X == 0, np.nan, X), r"X has missing values \(NaN\)"
    else:
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(x7=pd.Categorical(np.where(X[:, 7] > 0, "up", "down")))
        problem = "X has columns that are not numbers"
    with pytest.raises(ValueError, match=f"augment='{augment}' makes synthetic rows .* but {problem}"):
        DistilledClassifier(teacher, booster("lightgbm", **CATEGORICAL["lightgbm"]), augment=augment).fit(X, y)
    assert teacher.rows_scored == 0


def test_tags_say_what_both_teacher_and_student_take():
    nan_and_sparse = DistilledClassifier(LogisticRegression(), booster("lightgbm"))  # LogisticRegression: no NaN
    assert get_tags(nan_and_sparse).input_tags.sparse and not get_tags(nan_and_sparse).input_tags.allow_nan
    hist = DistilledClassifier(HistGradientBoostingClassifier(), booster("xgboost"))  # HGB: no sparse
    assert get_tags(hist).input_tags.allow_nan and not get_tags(hist).input_tags.sparse
    both = DistilledClassifier([HistGradientBoostingClassifier(), booster("lightgbm")], booster("lightgbm"))
    assert get_tags(both).input_tags.allow_nan and not get_tags(both).input_tags.sparse  # every member must
    assert not get_tags(DistilledClassifier(HistGradientBoostingClassifier(), LogisticRegression())).input_tags.allow_nan


def test_a_regressor_distiller_takes_missing_values_its_student_takes():
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    missing = rng.random(300) < 0.3
    X[missing, 0] = np.nan
    y = np.where(missing, 5.0, X[:, 1])
    teacher = HistGradientBoostingRegressor(max_iter=50, random_state=0).fit(X, y)
    student = lightgbm.LGBMRegressor(n_estimators=30, num_leaves=8, verbose=-1, n_jobs=1, random_state=0)
    model = DistilledRegressor(teacher, student).fit(X, y)
    np.testing.assert_allclose(model.predict(X)[missing], 5.0, atol=0.5)
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize(
    ("student", "fit"),
    [
        (LogisticRegression(), "fit"),  # route "logistic"
        (DecisionTreeClassifier(max_depth=3), "fit"),  # route "tree"
        (RandomForestClassifier(n_estimators=5), "fit"),  # route "sample_weight": scikit-learn's forests read numbers
        (None, "fit"),  # the default MLPStudent
        (MLPStudent(max_iter=1), "partial_fit"),
    ],
)
def test_a_numbers_only_student_refuses_category_columns_before_the_teacher_runs(student, fit):
    frame, y = colours_frame()
    teacher = CountingTeacher(3, ["no", "yes"])
    distiller = DistilledClassifier(teacher, student)
    arguments = {"classes": ["no", "yes"]} if fit == "partial_fit" else {}
    name = "MLPStudent" if student is None else type(student).__name__
    with pytest.raises(ValueError, match=rf"columns that are not numbers \('colour'\), but the student {name} trains on numbers"):
        getattr(distiller, fit)(frame, y, **arguments)
    assert teacher.rows_scored == 0


def test_a_numbers_only_regression_student_refuses_category_columns_before_the_teacher_runs():
    frame, _ = colours_frame()
    y = frame["weight"].to_numpy()
    teacher = CountingTeacher(3, [0])  # never asked: predict below would count its rows

    class CountingRegressor:
        def predict(self, X):
            teacher.rows_scored += len(X)
            return np.zeros(len(X))

    with pytest.raises(ValueError, match=r"\('colour'\), but the student Ridge trains on numbers only"):
        DistilledRegressor(CountingRegressor(), Ridge()).fit(frame, y)
    assert teacher.rows_scored == 0


@pytest.mark.parametrize(
    ("make_student", "colour_as", "message"),
    [
        (lambda: booster("hist"), "text", r"neither numbers nor pandas category \('colour'"),
        (
            lambda: booster("hist", categorical_features=None),
            "category",
            r"HistGradientBoostingClassifier\(categorical_features=None\) reads numbers only",
        ),
        (lambda: booster("lightgbm"), "text", r"neither numbers nor pandas category \('colour'"),
        (lambda: booster("xgboost"), "category", "XGBClassifier reads them only with enable_categorical=True"),
    ],
)
def test_a_booster_refuses_columns_it_cannot_split_before_the_teacher_runs(make_student, colour_as, message):
    frame, y = colours_frame()
    if colour_as == "text":
        frame = frame.assign(colour=frame["colour"].astype(str))
    teacher = CountingTeacher(3, ["no", "yes"])
    with pytest.raises(ValueError, match=message):
        DistilledClassifier(teacher, make_student()).fit(frame, y)
    assert teacher.rows_scored == 0


def test_a_regression_booster_refuses_text_columns_before_the_teacher_runs():
    frame, _ = colours_frame()
    teacher = CountingTeacher(3, [0])

    class CountingRegressor:
        def predict(self, X):
            teacher.rows_scored += len(X)
            return np.zeros(len(X))

    text = frame.assign(colour=frame["colour"].astype(str))
    with pytest.raises(ValueError, match=r"neither numbers nor pandas category \('colour'"):
        DistilledRegressor(CountingRegressor(), HistGradientBoostingRegressor(max_iter=5)).fit(text, frame["weight"])
    assert teacher.rows_scored == 0


def _unlabelled_case(case):
    """(X, y, X_unlabeled, student, message) for X_unlabeled that cannot join X."""
    if case in ("sparse rows, dense X", "sparse rows, numeric frame X"):
        X, y = sparse_problem()
        if case == "sparse rows, numeric frame X":
            X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        return X, y, sparse.csr_matrix(np.asarray(X)[:50]), booster("lightgbm"), "X_unlabeled is a sparse matrix but X is not"
    frame, y = colours_frame()
    if case == "text column for a numbers-only student":
        numeric = frame.drop(columns="colour").fillna(0.0)
        unlabelled = numeric.iloc[:50].assign(weight=numeric["weight"].iloc[:50].astype(str))
        return numeric, y, unlabelled, LogisticRegression(), r"X_unlabeled has columns that are not numbers \('weight'\)"
    unlabelled = frame.iloc[:50].assign(colour=frame["colour"].iloc[:50].cat.add_categories(["grey"]))
    return frame, y, unlabelled, booster("lightgbm"), "both must be DataFrames with the same columns and the same dtypes"


@pytest.mark.parametrize(
    "case",
    ["sparse rows, dense X", "sparse rows, numeric frame X", "text column for a numbers-only student", "other categories"],
)
def test_unlabelled_rows_that_cannot_join_x_are_refused_before_the_teacher_runs(case):
    X, y, unlabelled, student, message = _unlabelled_case(case)
    teacher = CountingTeacher(np.shape(X)[1], np.unique(y))
    with pytest.raises(ValueError, match=message):
        DistilledClassifier(teacher, student).fit(X, y, X_unlabeled=unlabelled)
    assert teacher.rows_scored == 0


def test_unlabelled_rows_with_missing_values_are_refused_before_a_torch_teacher_runs():
    import torch

    from conftest import CountingModule

    X, y = sparse_problem()
    unlabelled = X[:50].copy()
    unlabelled[7, 2] = np.nan  # the student takes it; the torch teacher does not, and X is scored first
    teacher = CountingModule(torch.nn.Linear(X.shape[1], 3).double())
    with pytest.raises(ValueError, match="Input X_unlabeled contains NaN"):
        DistilledClassifier(teacher, HistGradientBoostingClassifier(max_iter=5)).fit(X, y, X_unlabeled=unlabelled)
    assert teacher.rows_scored == 0


def test_unlabelled_rows_with_the_same_category_columns_reach_teacher_and_student():
    frame, y = colours_frame()
    teacher = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(frame, y)
    unlabelled, _ = colours_frame(n_samples=200, seed=1)
    model = DistilledClassifier(teacher, booster("lightgbm"), T=1.0).fit(frame, y, X_unlabeled=unlabelled)
    held_out, _ = colours_frame(n_samples=300, seed=2)
    assert np.mean(model.predict(held_out) == teacher.predict(held_out)) > 0.9


def test_streaming_augment_refusal_does_not_point_to_x_unlabeled():
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    distiller = DistilledClassifier(teacher, linear_model.SGDClassifier(loss="log_loss"), augment="munge")
    with pytest.raises(ValueError, match=r"X is a sparse matrix\. Pass augment=None\.$"):
        distiller.partial_fit(sparse.csr_matrix(X), y, classes=[0, 1, 2])
    assert teacher.rows_scored == 0


def test_validating_a_frame_with_a_category_column_does_not_box_every_cell():
    """predict checks such a frame through a numeric stand-in: a float copy at most (the frame's size),
    not an object array of every cell (about 4 times the frame), beyond what the student itself takes."""
    import tracemalloc

    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(20_000, 20)), columns=[f"f{i}" for i in range(20)])
    frame["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], size=len(frame)))
    y = np.where((frame["f0"] > 0) ^ (frame["colour"] == "red"), 1, 0)
    teacher = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(frame, y)
    model = DistilledClassifier(teacher, lightgbm.LGBMClassifier(n_estimators=5, n_jobs=1, verbose=-1)).fit(frame, y)
    frame_bytes = frame.memory_usage(deep=True).sum()

    def peak(predict):
        predict(frame)  # warm
        tracemalloc.start()
        try:
            predict(frame)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    extra = peak(model.predict_proba) - peak(model.student_.predict_proba)
    assert extra < 2 * frame_bytes, f"validation took {extra / frame_bytes:.1f} x the frame"
    assert frame["colour"].dtype == "category" and list(frame.columns)[-1] == "colour"  # the caller's frame is kept


class ListDtypesFrame:
    """A frame of another library, as polars' is to scikit-learn: ``dtypes`` is a list, not a pandas
    Series, and the rows convert through ``__array__``."""

    def __init__(self, array):
        self._array = array
        self.dtypes = [array.dtype] * array.shape[1]
        self.shape = array.shape

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self):
        return len(self._array)


def test_a_frame_of_another_library_is_an_array_like():
    X, y = sparse_problem()
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    model = DistilledClassifier(teacher, LogisticRegression()).fit(ListDtypesFrame(X), y, X_unlabeled=ListDtypesFrame(X[:20]))
    np.testing.assert_array_equal(model.predict(ListDtypesFrame(X)), model.predict(X))


def test_a_polars_frame_is_read_as_scikit_learn_reads_it():
    polars = pytest.importorskip("polars")
    X, y = sparse_problem()
    frame = polars.DataFrame({f"x{i}": X[:, i] for i in range(X.shape[1])})
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    model = DistilledClassifier(teacher, LogisticRegression()).fit(frame, y)
    assert list(model.feature_names_in_) == frame.columns
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_array = model.predict(X)
    np.testing.assert_array_equal(model.predict(frame), from_array)
