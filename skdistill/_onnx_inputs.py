"""The inputs of an exported model: one float32 matrix ``X``, or one input per column of a DataFrame.

A pipeline whose first steps encode columns of strings (a ``ColumnTransformer`` with a ``OneHotEncoder``)
cannot take one float32 matrix: skl2onnx's converters then select each column by its name, from an input
of the column's own type.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array

from ._base import non_numeric_columns


def input_types(estimator, X_sample):
    """skl2onnx's ``initial_types``: one float32 input ``X``, or one input per column of a DataFrame with columns
    that are not numbers (strings)."""
    from skl2onnx.common.data_types import FloatTensorType

    not_numbers = non_numeric_columns(X_sample)  # a polars frame has none: it goes through check_array
    if not_numbers:
        return _column_types(estimator, X_sample, not_numbers)
    X_sample = check_array(X_sample, dtype=np.float32, ensure_all_finite=False)
    _check_width(estimator, X_sample.shape[1])
    return [("X", FloatTensorType([None, X_sample.shape[1]]))]


def _check_width(estimator, n_columns):
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is not None and n_columns != n_features:
        raise ValueError(
            f"X_sample has {n_columns} features, but the {type(estimator).__name__} was fitted on "
            f"{n_features}: pass rows like those it predicts on."
        )


def _is_string_column(column):
    """pandas' string dtype, or objects that are all strings."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_string_dtype(column.dtype) and (not is_object_dtype(column.dtype) or column.map(type).eq(str).all())


def _column_types(estimator, frame, not_numbers):
    """One input per column, named after it: what skl2onnx's ``ColumnTransformer`` converter selects from."""
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    if not isinstance(estimator, Pipeline):
        raise ValueError(
            f"X_sample has columns that are not numbers ({', '.join(map(str, not_numbers))}), which the student "
            f"cannot read: encode them in a Pipeline before the {type(estimator).__name__} (a ColumnTransformer "
            "with a OneHotEncoder), fit it and export the pipeline."
        )
    _check_width(estimator, frame.shape[1])
    expected = getattr(estimator, "feature_names_in_", None)
    if expected is not None and sorted(map(str, expected)) != sorted(map(str, frame.columns)):
        raise ValueError(
            f"X_sample has the columns {list(frame.columns)}, but the pipeline was fitted on {list(expected)}: "
            "pass rows like those it predicts on."
        )
    types, others = [], []
    for name, dtype in frame.dtypes.items():
        if name in not_numbers and _is_string_column(frame[name]):
            types.append((str(name), StringTensorType([None, 1])))
        elif dtype.kind == "f":
            types.append((str(name), FloatTensorType([None, 1])))
        elif dtype.kind in "iu":
            types.append((str(name), Int64TensorType([None, 1])))
        else:
            others.append(f"{name} ({dtype})")
    if others:
        raise ValueError(
            f"An exported pipeline takes a DataFrame's columns as inputs of floats, integers or strings, but "
            f"X_sample's columns {', '.join(others)} are neither: convert them (.astype(str), .astype('float32')) "
            "before fitting, or encode them in the pipeline."
        )
    return types
