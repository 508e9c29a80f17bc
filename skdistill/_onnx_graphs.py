"""The ONNX graphs of fitted distillers, as skl2onnx converters: what ``to_onnx`` and ``skl2onnx.to_onnx`` run.

Importing this module imports skl2onnx, onnx and torch's exporter; ``skdistill._onnx`` imports it only when
an export is asked for. Each distiller has a shape calculator (the types of its outputs) and a converter
(its nodes), registered with skl2onnx's public :func:`skl2onnx.update_registered_converter`, so that a
``Pipeline`` ending in a distiller converts as any scikit-learn pipeline does.

The student's graph comes from the student's own exporter: torch's (``torch.onnx.export``, dynamo-based)
for a neural student, the student's skl2onnx converter for a scikit-learn one. The distiller then adds
what its ``predict_proba`` and ``predict`` add: the columns aligned to ``classes_`` and the label lookup.
"""

import contextlib
import copy
import logging
import warnings

import numpy as np
import onnx
import onnx.inliner
import torch
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import update_registered_converter
from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
from skl2onnx.algebra.onnx_ops import OnnxIdentity
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

from ._classifier import DistilledClassifier
from ._portable import _uncompiled
from ._regressor import DistilledRegressor
from .students._neural_base import _BaseTorchStudent
from .students._soft_regression import RegressorStudent

# torch's dynamo-based exporter writes this opset or later.
MIN_TORCH_OPSET = 18


def register():
    """Register the converters of :class:`DistilledClassifier` and :class:`DistilledRegressor` with skl2onnx."""
    update_registered_converter(
        DistilledClassifier,
        "SkdistillDistilledClassifier",
        _classifier_shapes,
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [False]},  # nocl: asked by the ZipMap parser
    )
    update_registered_converter(
        DistilledRegressor, "SkdistillDistilledRegressor", _regressor_shapes, _convert_regressor
    )


# --- Shapes -----------------------------------------------------------------------------------------------


def _batch_dimension(operator):
    _check_float_input(operator)
    return operator.inputs[0].get_first_dimension()


def _check_float_input(operator):
    input_type = operator.inputs[0].type
    if not isinstance(input_type, FloatTensorType):
        raise TypeError(
            f"{type(operator.raw_operator).__name__} converts with a float32 input (FloatTensorType), as neural "
            f"students' exported graphs take; got {type(input_type).__name__}. Convert with X.astype(np.float32) "
            "(a DataFrame's columns of floats: frame.astype({column: 'float32'}))."
        )


def _classifier_shapes(operator):
    n_rows = _batch_dimension(operator)
    classes = operator.raw_operator.classes_
    label_type = StringTensorType if label_kind(classes) == "string" else Int64TensorType
    operator.outputs[0].type = label_type([n_rows])
    operator.outputs[1].type = FloatTensorType([n_rows, len(classes)])


def _regressor_shapes(operator):
    operator.outputs[0].type = FloatTensorType([_batch_dimension(operator), operator.raw_operator.n_outputs_])


def label_kind(classes):
    """``"int64"`` or ``"string"``: the ONNX type of the labels; ``None`` if ONNX cannot hold them."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        return "int64"
    if classes.dtype.kind == "U" or (classes.dtype == object and all(isinstance(c, str) for c in classes)):
        return "string"
    return None


# --- Converters -------------------------------------------------------------------------------------------


def _convert_classifier(scope, operator, container):
    """``student probabilities -> columns of classes_ -> probabilities``; ``ArgMax -> Gather(classes_) -> label``.

    The label is recomputed from the aligned probabilities, as ``DistilledClassifier.predict`` does: a
    student fitted on class positions (LightGBM, XGBoost, CatBoost on the sample-weight route) or on some
    of the classes only still gives labels of ``classes_``.
    """
    distiller = operator.raw_operator
    label, probabilities = operator.outputs
    student = distiller.student_
    X = operator.inputs[0]
    if isinstance(student, _BaseTorchStudent):
        logits = _add_torch_graph(student, X, scope, container, name="student_logits")
        student_probabilities = scope.get_unique_variable_name("student_probabilities")
        container.add_node("Softmax", [logits], [student_probabilities], name=_node(scope, "Softmax"), axis=1)
    elif isinstance(student, RegressorStudent):
        student_probabilities = _regressor_student_probabilities(student, X, scope, container)
    else:
        student_probabilities = _sub_estimator_output(student, X, scope, container, index=1, options={"zipmap": False})

    aligned = _aligned_columns(student_probabilities, distiller, scope, container)
    container.add_node("Identity", [aligned], [probabilities.onnx_name], name=_node(scope, "Identity"))
    index = scope.get_unique_variable_name("class_index")
    container.add_node("ArgMax", [aligned], [index], name=_node(scope, "ArgMax"), axis=1, keepdims=0)
    classes = scope.get_unique_variable_name("classes")
    if label_kind(distiller.classes_) == "string":
        values = [str(c).encode("utf-8") for c in distiller.classes_]
        container.add_initializer(classes, TensorProto.STRING, [len(values)], values)
    else:
        container.add_initializer(
            classes, TensorProto.INT64, [len(distiller.classes_)], np.asarray(distiller.classes_, dtype=np.int64)
        )
    container.add_node("Gather", [classes, index], [label.onnx_name], name=_node(scope, "Gather"), axis=0)


def _convert_regressor(scope, operator, container):
    student = operator.raw_operator.student_
    X = operator.inputs[0]
    if isinstance(student, _BaseTorchStudent):
        outputs = _add_torch_graph(student, X, scope, container, name="student_outputs")
    else:
        outputs = _sub_estimator_output(student, X, scope, container, index=0)
    container.add_node("Identity", [outputs], [operator.outputs[0].onnx_name], name=_node(scope, "Identity"))


def _aligned_columns(student_probabilities, distiller, scope, container):
    """The student's columns placed at their classes' positions in ``classes_``, zeros for the others."""
    student_classes = np.asarray(distiller.student_classes_)
    classes = distiller.classes_
    if len(student_classes) == len(classes) and (student_classes == classes).all():
        return student_probabilities
    # A 0/1 matrix product moves each column exactly (x * 1 + 0 is x in floating point).
    placement = np.zeros((len(student_classes), len(classes)), dtype=np.float32)
    placement[np.arange(len(student_classes)), np.searchsorted(classes, student_classes)] = 1.0
    matrix = scope.get_unique_variable_name("class_placement")
    container.add_initializer(matrix, TensorProto.FLOAT, list(placement.shape), placement.ravel())
    aligned = scope.get_unique_variable_name("aligned_probabilities")
    container.add_node("MatMul", [student_probabilities, matrix], [aligned], name=_node(scope, "MatMul"))
    return aligned


def _regressor_student_probabilities(student, X, scope, container):
    """``RegressorStudent.predict_proba``: softmax of the outputs (logits), or clipped and renormalised (proba)."""
    raw = _sub_estimator_output(student.estimator_, X, scope, container, index=0)
    probabilities = scope.get_unique_variable_name("student_probabilities")
    if student.target == "logits":
        container.add_node("Softmax", [raw], [probabilities], name=_node(scope, "Softmax"), axis=1)
        return probabilities
    # Negative predictions clipped to 0, rows renormalised; a row predicted all <= 0 becomes uniform.
    zero, uniform = (scope.get_unique_variable_name(name) for name in ("zero", "uniform"))
    container.add_initializer(zero, TensorProto.FLOAT, [], [0.0])
    container.add_initializer(uniform, TensorProto.FLOAT, [], [1.0 / len(student.classes_)])
    clipped, totals, positive, ratio = (
        scope.get_unique_variable_name(name) for name in ("clipped", "totals", "positive", "ratio")
    )
    container.add_node("Max", [raw, zero], [clipped], name=_node(scope, "Max"))
    container.add_node("ReduceSum", [clipped, _axis_one(scope, container)], [totals], name=_node(scope, "ReduceSum"))
    container.add_node("Greater", [totals, zero], [positive], name=_node(scope, "Greater"))
    container.add_node("Div", [clipped, totals], [ratio], name=_node(scope, "Div"))
    container.add_node("Where", [positive, ratio, uniform], [probabilities], name=_node(scope, "Where"))
    return probabilities


def _axis_one(scope, container):
    axes = scope.get_unique_variable_name("axis_one")
    container.add_initializer(axes, TensorProto.INT64, [1], [1])
    return axes


def _sub_estimator_output(estimator, X, scope, container, *, index, options=None):
    """Output ``index`` of a scikit-learn estimator's own converter (0: label or prediction, 1: probabilities)."""
    opset = container.target_opset
    _write_flags_as_integers(container)
    sub = OnnxSubEstimator(estimator, X, op_version=opset, options=options)
    name = scope.get_unique_variable_name("student_output")
    OnnxIdentity(sub[index], op_version=opset, output_names=[name]).add_to(scope, container)
    return name


def _write_flags_as_integers(container):
    """Let the container take true/false flags in a list of integers, as 1 and 0, for the rest of this conversion.

    ONNX attributes have no booleans: a list of flags is a list of integers. skl2onnx 1.20's converters of
    ``HistGradientBoostingClassifier`` and ``-Regressor`` give ``nodes_missing_value_tracks_true`` as Python
    booleans for the leaves, which protobuf 7 refuses (``Expected an int, got a boolean``). The sub-estimator's
    converter runs later, with this container, so the container's ``add_node`` is wrapped, once, to write
    such flags as the integers they stand for; every other attribute passes unchanged.
    """
    if "add_node" in vars(container):  # already wrapped for this conversion
        return
    add_node = container.add_node

    def add_node_with_integer_flags(*args, **attributes):
        return add_node(*args, **{name: _integer_flags(value) for name, value in attributes.items()})

    container.add_node = add_node_with_integer_flags


def _integer_flags(value):
    if isinstance(value, (list, tuple)) and any(isinstance(item, (bool, np.bool_)) for item in value):
        if all(isinstance(item, (bool, np.bool_, int, np.integer)) for item in value):
            return [int(item) for item in value]
    return value


def _node(scope, op_type):
    return scope.get_unique_operator_name(op_type)


# --- Torch modules ----------------------------------------------------------------------------------------


def _add_torch_graph(student, X, scope, container, *, name):
    """Add the graph torch exports for a neural student's module (float32, any number of rows) to the
    container; return its output's name."""
    opset = container.target_opset
    if opset < MIN_TORCH_OPSET:
        raise ValueError(
            f"torch's ONNX exporter writes opset {MIN_TORCH_OPSET} or later, but the conversion targets opset "
            f"{opset}. Pass target_opset={MIN_TORCH_OPSET} or later."
        )
    model = export_module(student.module_, student.n_features_in_, opset)
    graph, opsets = model.graph, {entry.domain: entry.version for entry in model.opset_import}
    names = {"": ""}  # an omitted optional input or output stays omitted
    (graph_input,) = graph.input
    names[graph_input.name] = X.onnx_name
    for tensor in graph.initializer:
        names[tensor.name] = scope.get_unique_variable_name(tensor.name)
        # Rewritten from the array so that the values are in raw_data, which add_initializer copies.
        container.add_initializer(
            names[tensor.name], None, None, numpy_helper.from_array(numpy_helper.to_array(tensor))
        )
    for node in graph.node:
        for output in node.output:
            if output:
                names[output] = scope.get_unique_variable_name(output)
        attributes = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
        container.add_node(
            node.op_type,
            [names[value] for value in node.input],
            [names[value] for value in node.output],
            op_domain=node.domain,
            op_version=opsets.get(node.domain, opset),
            name=_node(scope, node.op_type),
            **attributes,
        )
    (graph_output,) = graph.output
    output = scope.get_unique_variable_name(name)
    container.add_node("Identity", [names[graph_output.name]], [output], name=_node(scope, "Identity"))
    return output


def export_module(module, n_features, opset):
    """``module`` as an ONNX model of one input (n, n_features) float32, the batch dimension dynamic.

    A float32 copy on the CPU is exported: the module given is not changed. A ``torch.compile`` wrapper is
    exported as the module it compiles, which computes the same function (``torch.export`` cannot capture
    the wrapper itself).
    """
    module = copy.deepcopy(_uncompiled(module)).cpu().float().eval()
    example = torch.zeros(2, n_features)  # torch.export specialises a dimension of size 1
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                module,
                (example,),
                dynamo=True,
                input_names=["X"],
                output_names=["outputs"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                opset_version=opset,
                verbose=False,
            )
    except Exception as exc:
        raise RuntimeError(
            f"torch.onnx.export could not export the student's module {type(module).__name__} with a dynamic "
            "number of rows (torch's error is above). A module exports when torch.export can capture its forward: "
            "no Python branch or loop on the values of tensors (use torch.where or torch.cond), no .item(), "
            "no numpy. Or distil into an MLPStudent, which always exports."
        ) from exc
    return onnx.inliner.inline_local_functions(program.model_proto)


@contextlib.contextmanager
def _quiet_exporter():
    """Silence what users cannot act on: torch.onnx's notes about optional packages (torchvision) and a
    deprecation inside torch's own export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*treespec.*", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)
