"""``to_onnx``: a fitted distiller, or a Pipeline ending in one, as an ONNX model that runs without Python.

Nothing here imports onnx, skl2onnx or onnxruntime at import time: they are an optional extra, imported
when an export is asked for (the graphs themselves are built in ``_onnx_graphs``).
"""

import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import tempfile
from numbers import Integral

import numpy as np
import torch
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._base_distiller import BaseDistiller
from ._classifier import DistilledClassifier
from ._onnx_inputs import input_types
from .students._neural_base import _BaseTorchStudent
from .students._soft_boosting import BoostingStudent
from .students._soft_regression import RegressorStudent

_INSTALL = 'pip install "skdistill[onnx]"'
_QUANTIZATIONS = (None, "int8")
# What dynamic int8 quantization rewrites: the weights of matrix products (a neural student's layers).
_QUANTIZED_OPERATORS = ["MatMul", "Gemm"]


def to_onnx(estimator, X_sample, *, quantize=None, target_opset=None):
    """A fitted distiller, or a scikit-learn ``Pipeline`` ending in one, as an ONNX model.

    The model takes one float32 input ``X`` of shape ``(n_rows, n_features)``, any number of rows (a
    pipeline given a DataFrame ``X_sample`` with string columns takes one input per column instead, see
    ``X_sample``). A
    :class:`~skdistill.DistilledClassifier` gives two outputs: ``label``, of shape ``(n_rows,)`` (int64,
    or strings for string classes), and ``probabilities``, of shape ``(n_rows, n_classes)``, float32,
    columns in the order of ``classes_``; a :class:`~skdistill.DistilledRegressor` gives ``variable``, of
    shape ``(n_rows, n_outputs)``. Only the student is exported: the teacher is not needed to predict.

    A neural student (:class:`~skdistill.MLPStudent`, :class:`~skdistill.TorchStudent`) is exported by
    torch's own exporter (``torch.onnx.export``, dynamo-based), followed by a softmax for the
    probabilities; a scikit-learn student (``LogisticRegression``, ``DecisionTreeClassifier``, ...) by
    its skl2onnx converter; a :class:`~skdistill.RegressorStudent` by its regressor's, followed by what
    its ``predict_proba`` adds. Steps of a ``Pipeline`` before the distiller are converted by skl2onnx.
    The same converters are registered with skl2onnx (see :func:`register_onnx_converters`), so that
    ``skl2onnx.to_onnx`` converts a pipeline ending in a distiller too.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline
        Fitted. A ``Pipeline``'s last step is the distiller.
    X_sample : array-like of shape (n_samples, n_features)
        A few rows like those the model will receive: their width is checked against the estimator's.
        Any values; they are not stored in the model. A pandas DataFrame with columns of strings, for a
        ``Pipeline`` whose first steps encode them (a ``ColumnTransformer`` with a ``OneHotEncoder``),
        gives a model with one input per column, in the frame's order, named after the column (skl2onnx
        makes the names valid identifiers: ``"unit price"`` becomes ``unit_price``; read them from
        ``model.graph.input``), of shape ``(n_rows, 1)``: float32
        for a column of floats, int64 for integers, strings for strings.
    quantize : {None, "int8"}, default=None
        ``"int8"``: the weights of a neural student's layers are stored as 8-bit integers, with
        activations quantised at run time (ONNX Runtime's dynamic quantization): the file is 2 to 3.5
        times smaller, for a few labels in a thousand (see Notes). Only neural students have such
        weights: ``"int8"`` with another student is refused.
    target_opset : int or dict, default=None
        The ONNX opset to write, as for ``skl2onnx.to_onnx``: a version of the main domain, or a dict of
        versions by domain, such as ``{"": 18, "ai.onnx.ml": 3}``, which onnxmltools' LightGBM and
        XGBoost converters need (a dict must name the main domain ``""`` too). ``None``: skl2onnx's
        default. 13 or later; a neural student needs 18 or later.

    Returns
    -------
    onnx.ModelProto
        Save it with ``onnx.save(model, "student.onnx")``; run it with
        ``onnxruntime.InferenceSession(model.SerializeToString())``.

    Raises
    ------
    ImportError
        If onnx, skl2onnx (and onnxscript for a neural student, onnxruntime to quantise) are not
        installed: ``pip install "skdistill[onnx]"``.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator is not a distiller (or a pipeline ending in one), or its student or a step of
        the pipeline has no ONNX converter.
    ValueError
        If ``X_sample`` has the wrong width or columns ONNX inputs cannot take, the classes are neither
        integers nor strings, ``quantize="int8"`` is asked of a student without weights to quantise, or
        ``target_opset`` is below 18 for a neural student. Also if a converter cannot write its nodes
        with the installed skl2onnx, onnx and protobuf: the error names them and the cause.

    See Also
    --------
    register_onnx_converters : Lets ``skl2onnx.to_onnx`` convert pipelines ending in a distiller.

    Notes
    -----
    The exported model computes in float32, where ``predict_proba`` computes in float64: on float32
    input, probabilities agree to about 1e-6, and labels differ only for rows at a near tie. A tree
    student compares float32 features with float32 thresholds: a row whose feature lies within float32
    round-off of a threshold can fall on the other side (in our tests, no row of thousands did).

    What int8 costs, measured by ``benchmarks/bench_onnx_quantize.py`` on digits (64 features, 10
    classes, 450 held-out rows, 3 splits), for an ``MLPStudent`` of one hidden layer distilled from a
    256-128 network: with 256 hidden units the file shrinks from 78 KB to 22 KB (0.29), with 128 units
    from 39 KB to 12 KB (0.32), with 32 units from 10 KB to 5 KB (0.48). The int8 model gives the float32
    model's label on 99.93% of the held-out rows (one row of 450 differed in the worst split), a
    probability moves by at most 0.06, and accuracy is unchanged (0.970 and 0.971 with 32 units).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(RandomForestClassifier(random_state=0), LogisticRegression()).fit(X, y)
    >>> model = to_onnx(clf, X[:5])
    >>> [output.name for output in model.graph.output]
    ['label', 'probabilities']
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> labels, probabilities = session.run(None, {"X": X[:5].astype("float32")})
    >>> labels.tolist() == clf.predict(X[:5]).tolist()
    True
    """
    if quantize not in _QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {list(_QUANTIZATIONS)}; got {quantize!r}.")
    distiller, steps = _final_distiller(estimator)
    for step in steps:
        check_is_fitted(step)
    neural = isinstance(distiller.student_, _BaseTorchStudent)
    _require(["onnx", "skl2onnx"] + (["onnxscript"] if neural else []) + (["onnxruntime"] if quantize else []))
    _check_convertible(distiller, steps[:-1], quantize)
    _check_target_opset(neural, target_opset)
    initial_types = input_types(estimator, X_sample)

    import skl2onnx

    register_onnx_converters()
    options = {id(distiller): {"zipmap": False}} if isinstance(distiller, DistilledClassifier) else None
    try:
        model = skl2onnx.to_onnx(estimator, initial_types=initial_types, options=options, target_opset=target_opset)
    except ValueError as exc:
        # skl2onnx's message then prints every attribute of the node: a whole tree ensemble, thousands of lines
        if not str(exc).startswith("Unable to create node") or exc.__cause__ is None:
            raise
        raise ValueError(_node_failure(distiller, len(steps) > 1, exc)) from exc.__cause__
    return _quantized(model) if quantize == "int8" else model


def register_onnx_converters():
    """Register skdistill's converters with skl2onnx, so that ``skl2onnx.to_onnx`` converts distillers.

    :func:`to_onnx` does this itself; call it before converting with skl2onnx's own ``to_onnx`` or
    ``convert_sklearn``, for example a ``Pipeline`` ending in a distiller whose other steps need
    skl2onnx's options. As for any classifier, skl2onnx then adds a ``ZipMap`` (probabilities as a list
    of dictionaries) unless it is given ``options={DistilledClassifier: {"zipmap": False}}``.

    Raises
    ------
    ImportError
        If skl2onnx or onnx is missing: ``pip install "skdistill[onnx]"``.

    See Also
    --------
    to_onnx : Export a fitted distiller, or a pipeline ending in one.

    Examples
    --------
    >>> import skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdistill import DistilledClassifier, register_onnx_converters
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = LogisticRegression(C=100, max_iter=1000)
    >>> pipeline = make_pipeline(StandardScaler(), DistilledClassifier(teacher, LogisticRegression()))
    >>> pipeline = pipeline.fit(X, y)
    >>> register_onnx_converters()
    >>> options = {DistilledClassifier: {"zipmap": False}}
    >>> model = skl2onnx.to_onnx(pipeline, X[:1].astype("float32"), options=options)
    >>> [output.name for output in model.graph.output]
    ['label', 'probabilities']
    """
    _require(["onnx", "skl2onnx"])
    from . import _onnx_graphs

    _onnx_graphs.register()


def _require(packages):
    if "onnxscript" in packages and tuple(int(part) for part in torch.__version__.split(".")[:2]) < (2, 5):
        raise ImportError(
            f"Exporting a neural student needs torch's dynamo-based exporter, torch>=2.5; this is torch "
            f"{torch.__version__}. Upgrade torch: pip install 'torch>=2.5'."
        )
    missing = [package for package in packages if importlib.util.find_spec(package) is None]
    if missing:
        raise ImportError(
            f"Exporting to ONNX needs {', '.join(packages)}; {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with {_INSTALL}."
        )


def _final_distiller(estimator):
    """The distiller that ends ``estimator`` and every estimator on the way to it (pipeline steps in order)."""
    steps, final = [], estimator
    while isinstance(final, Pipeline):
        steps.extend(step for _, step in final.steps[:-1] if step is not None and step != "passthrough")
        final = final.steps[-1][1]
    if not isinstance(final, BaseDistiller):
        what = "a Pipeline ending in " if estimator is not final else ""
        raise TypeError(
            f"to_onnx exports a DistilledClassifier or a DistilledRegressor, or a Pipeline ending in one; got "
            f"{what}{type(final).__name__}. Convert other scikit-learn models with skl2onnx.to_onnx."
        )
    return final, [*steps, final]


# The graphs skdistill writes around a student (ReduceSum with its axes as an input) need opset 13.
_MIN_OPSET = 13


def _check_target_opset(neural, target_opset):
    from ._onnx_graphs import MIN_TORCH_OPSET

    def is_version(value):
        return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1

    versions = target_opset.values() if isinstance(target_opset, dict) else [target_opset]
    if target_opset is not None and (
        not all(is_version(v) for v in versions)
        or (isinstance(target_opset, dict) and not all(isinstance(k, str) for k in target_opset))
    ):
        raise TypeError(
            f"target_opset must be None, an int (the main domain's opset) or a dict of ints by domain name, "
            f"such as {{'': 18, 'ai.onnx.ml': 3}}; got {target_opset!r}."
        )
    main = target_opset.get("") if isinstance(target_opset, dict) else target_opset
    if main is not None and main < _MIN_OPSET:
        raise ValueError(
            f"target_opset asks for opset {main} of the main domain, but the exported graphs need {_MIN_OPSET} "
            f"or later. Pass target_opset={_MIN_OPSET} or later (or None)."
        )
    if isinstance(target_opset, dict) and "" not in target_opset:
        raise ValueError(
            f"target_opset={target_opset!r} names no opset for the main domain ''; skl2onnx then needs one: "
            "pass it too, such as {'': 18, 'ai.onnx.ml': 3}."
        )
    if neural and main is not None and main < MIN_TORCH_OPSET:
        raise ValueError(
            f"torch's ONNX exporter writes opset {MIN_TORCH_OPSET} or later, but target_opset asks for {main}. "
            f"Pass target_opset={MIN_TORCH_OPSET} or later (or None) for a neural student."
        )


def _node_failure(distiller, has_steps, exc):
    """A few lines for skl2onnx's "Unable to create node": the node, its cause, the versions and what to do."""
    match = re.match(r"Unable to create node '([^']*)'", str(exc))
    node = f"the {match.group(1)} node" if match else "a node"
    student = distiller.student_
    inner = student.estimator_ if isinstance(student, RegressorStudent) else student
    where = f"of the {type(inner).__name__} student" + (" (or of a pipeline step before it)" if has_steps else "")
    versions = ", ".join(
        f"{package} {_version(package)}" for package in ("skl2onnx", "scikit-learn", "onnx", "protobuf")
    )
    cause = str(exc.__cause__).splitlines()[0] if str(exc.__cause__) else ""
    return (
        f"skl2onnx could not write {node} {where}: {type(exc.__cause__).__name__}: {cause}\n"
        f"Installed: {versions}. The converter, or these versions together, cannot export this model: distil "
        "into a student that converts here (MLPStudent, LogisticRegression, DecisionTreeClassifier, ...), or try "
        "other versions of skl2onnx, onnx or protobuf."
    )


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _hist_boosters(model):
    """The HistGradientBoosting models in ``model``: itself, or those of a ``MultiOutputRegressor``
    (how a regression student of several outputs is fitted)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    models = getattr(model, "estimators_", [model]) if isinstance(model, MultiOutputRegressor) else [model]
    return [m for m in models if isinstance(m, (HistGradientBoostingClassifier, HistGradientBoostingRegressor))]


# HistGradientBoostingRegressor losses whose predictions are the raw scores: skl2onnx's converter
# writes no inverse link, so poisson and gamma (an exp link) would export wrong predictions.
_IDENTITY_LINK_LOSSES = {"squared_error", "absolute_error", "quantile"}


def _check_hist_booster_converts(booster):
    """Refuse a HistGradientBoosting model skl2onnx's converter would export with other predictions."""
    name = type(booster).__name__
    categorical = getattr(booster, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise ValueError(
            f"The {name} student splits on category columns, which skl2onnx's converter reads as numeric "
            "thresholds: the exported model would predict other labels. Encode those columns before the "
            "distiller (OrdinalEncoder or OneHotEncoder in a pipeline) to export it."
        )
    loss = getattr(booster, "loss", None)
    if not hasattr(booster, "classes_") and isinstance(loss, str) and loss not in _IDENTITY_LINK_LOSSES:
        raise ValueError(
            f"The {name} student has loss={loss!r}, whose predictions are exp of the trees' sum; skl2onnx's "
            "converter leaves the exp out, so the exported model would predict other values. Use "
            f"loss='squared_error' (or one of {sorted(_IDENTITY_LINK_LOSSES)}) to export it."
        )


def _check_convertible(distiller, steps, quantize):
    """Refuse, before any export, a student or step without an ONNX converter, labels ONNX cannot hold and
    a quantization that would change nothing."""
    from skl2onnx import get_model_alias

    from ._onnx_graphs import label_kind

    student = distiller.student_
    student_name = type(student).__name__
    if isinstance(distiller, DistilledClassifier) and label_kind(distiller.classes_) is None:
        raise ValueError(
            f"ONNX labels are int64 or strings, but classes_ are {distiller.classes_.dtype} "
            f"{distiller.classes_[:5].tolist()!r}: fit on integer or string labels."
        )
    if isinstance(student, BoostingStudent):
        booster = type(student.estimator).__name__
        raise TypeError(
            f'The {booster} student was distilled by the "boosting" route into a BoostingStudent (its booster '
            "trained with the soft cross-entropy as a custom objective), which no ONNX converter exports. To "
            f'export a {booster}, distil it with route="sample_weight" (student_ is then a plain {booster}), '
            "register onnxmltools' converter for it (skl2onnx.update_registered_converter) and pass "
            "target_opset={'': 18, 'ai.onnx.ml': 3}; or distil into a student that converts (MLPStudent, "
            "DecisionTreeClassifier, LogisticRegression, ...)."
        )
    if not isinstance(student, _BaseTorchStudent):
        inner = student.estimator_ if isinstance(student, RegressorStudent) else student
        try:
            get_model_alias(type(inner))
        except RuntimeError:
            where = f" (the regressor of the {student_name} student)" if inner is not student else " student"
            raise TypeError(
                f"skl2onnx has no converter for the {type(inner).__name__}{where}, so it cannot be exported. "
                "Use a student that converts: MLPStudent or TorchStudent (torch's exporter), or a scikit-learn "
                "model skl2onnx converts (LogisticRegression, DecisionTreeClassifier, DecisionTreeRegressor, "
                "Ridge, ...); for a model of another library, register its converter first "
                "(skl2onnx.update_registered_converter; onnxmltools has LightGBM's and XGBoost's, which need "
                "target_opset={'': 18, 'ai.onnx.ml': 3})."
            ) from None
        for booster in _hist_boosters(inner):
            _check_hist_booster_converts(booster)
        if quantize is not None:
            raise ValueError(
                f"quantize={quantize!r} stores the weights of a neural student's layers (MatMul, Gemm) as 8-bit "
                f"integers, but a {student_name} student's graph has no such weights, so it would not get "
                "smaller. Pass quantize=None, or distil into an MLPStudent or a TorchStudent."
            )
    for step in steps:
        try:
            get_model_alias(type(step))
        except RuntimeError:
            raise TypeError(
                f"skl2onnx has no converter for the pipeline step {type(step).__name__}, so the pipeline cannot "
                "be exported. Use steps skl2onnx converts (StandardScaler, PCA, ...), or register a converter "
                "with skl2onnx.update_registered_converter."
            ) from None


def _quantized(model):
    """Dynamic int8 quantization of the weights of matrix products, through files as ONNX Runtime's tool needs."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as directory:
        source, target = os.path.join(directory, "model.onnx"), os.path.join(directory, "model.int8.onnx")
        onnx.save(model, source)
        with _without_preprocessing_advice():
            quantize_dynamic(
                source,
                target,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=_QUANTIZED_OPERATORS,
                # the shape inference of ai.onnx.ml operators (a pipeline's scaler) gives no types
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        return onnx.load(target)


@contextlib.contextmanager
def _without_preprocessing_advice():
    """ONNX Runtime logs advice to run its pre-processing (shape inference for large vision models) on
    every call; the graphs of students gain nothing from it."""

    def advice(record):
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
