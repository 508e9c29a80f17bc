"""The core every distiller shares: parameters, clone sharing, pickling, data checks, transfer sets,
the teacher-output cache and the ``fit`` / ``partial_fit`` orchestration.

A distiller (``DistilledClassifier``, ``DistilledRegressor``) adds only what its task needs, through
a few hooks: how ``y`` is checked, which teacher and student adapters it uses, how the teacher's
outputs are matched to the targets (the "output space": classes for classification, outputs for
regression), and how the targets a student learns from are built.
"""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from scipy.sparse import csr_matrix, issparse
from scipy.sparse import vstack as sparse_vstack
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, Options, RealNotInt, StrOptions
from sklearn.utils.validation import _check_sample_weight, _num_samples, validate_data

from . import _cache
from ._base import (
    clone_sharing,
    is_pandas_frame,
    non_numeric_columns,
    numeric_stand_in,
    refuse_nested,
    without_nested,
)
from ._ensemble import restored_teacher_parameter, teacher_parameter_state
from ._on_workers import sent_by_reference
from ._portable import portable_state, restored_state
from ._active_rounds import fit_in_rounds
from .augment import AUGMENTERS, ActiveSampler, as_augmenter
from .students._provenance import is_scikit_learn_or_ours
from .students._routing import check_incremental, partial_fit_student, student_input_tags
from .teachers import SklearnTeacher, TorchTeacher, is_trained, shared_on_clone, teacher_input_tags

# In a pickled state: "the teacher is the fitted adapter's module" (see __getstate__).
_TEACHER_ADAPTER_MODULE = "<skdistill: teacher_.module>"


class BaseDistiller(MetaEstimatorMixin, BaseEstimator):
    """What every distiller shares; subclasses fill in the hooks named ``_...`` below.

    Subclasses define ``__init__`` (with at least the parameters of :attr:`_parameter_constraints`),
    public ``fit`` / ``partial_fit`` that call :meth:`_fit` / :meth:`_partial_fit`, and:

    - ``_teacher_adapter()`` / ``_student_adapter()``: unfitted adapters of ``teacher`` / ``student``;
    - ``_output_space(teacher, y, in_fit=False)``: how the teacher's output columns map to the targets;
    - ``_targets(space, teacher_outputs, y, n_unlabelled)``: what the student learns from;
    - ``_fitted_space()`` / ``_record_space(space)``: the output space as fitted attributes.

    They may also extend the checks (``_check_y``, ``_check_fit_labels``,
    ``_check_before_teacher_runs``) and what ``fit`` records (``_record_fit``).
    """

    _parameter_constraints = {
        "student": [torch.nn.Module, HasMethods(["fit"]), None],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "augment": [StrOptions(set(AUGMENTERS)), HasMethods(["sample"]), ActiveSampler, callable, None],
        "augment_size": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "memory": [None, str, HasMethods(["cache"]), Options(bool, {False})],
        "teacher_cv": ["cv_object"],
        "keep_teacher": ["boolean"],
    }

    # Extra arguments of validate_data for y (a regressor takes numeric, multi-output y).
    _y_validation = {}

    # --- Persistence and cloning ---------------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        if self.keep_teacher is False and self.__sklearn_is_fitted__():
            # A lean pickle: the student and what prediction needs, never the teacher (nor its module),
            # also when keep_teacher was set to False after fit.
            state = {key: value for key, value in state.items() if key != "teacher_"}
            return portable_state({**state, "teacher": _left_behind(self.teacher)})
        # Every estimator stores its own modules (as arrays, see _portable), so a module held by two
        # would load as two copies: the fitted adapter stores the teacher, and the parameter points to it.
        adapter = getattr(self, "teacher_", None)
        if isinstance(adapter, TorchTeacher):
            if adapter.module is self.teacher:
                state = {**state, "teacher": _TEACHER_ADAPTER_MODULE}
            elif isinstance(self.teacher, TorchTeacher) and self.teacher.module is adapter.module:
                stand_in = copy.copy(self.teacher)
                stand_in.module = _TEACHER_ADAPTER_MODULE
                state = {**state, "teacher": stand_in}
        else:  # several teachers: the fitted ensemble stores the modules
            state = {**state, "teacher": teacher_parameter_state(self.teacher, adapter)}
        # In Dask's own pickling, a teacher the cluster holds (skdistill.dask.teacher_on_workers) goes by reference.
        return portable_state(sent_by_reference(state))

    def __setstate__(self, state):
        state = restored_state(dict(state), type(self).__name__)
        teacher = state.get("teacher")
        if isinstance(teacher, str) and teacher == _TEACHER_ADAPTER_MODULE:
            state["teacher"] = state["teacher_"].module
        elif isinstance(teacher, TorchTeacher) and isinstance(teacher.module, str):
            teacher.module = state["teacher_"].module
        else:
            state["teacher"] = restored_teacher_parameter(teacher, state.get("teacher_"))
        super().__setstate__(state)

    def __sklearn_is_fitted__(self):
        # n_features_in_ alone (set by validation before a failed first partial_fit) is not fitted.
        return hasattr(self, "student_")

    def _teacher_is_shared(self):
        """A trained teacher given as it is (not through an adapter) is shared by clone, never refitted."""
        return shared_on_clone(self.teacher)

    def __sklearn_clone__(self):
        return clone_sharing(self, ["teacher"] if self._teacher_is_shared() else [])

    def get_params(self, deep=True):
        """Get parameters; a trained teacher's own are not offered, since they cannot be tuned here.

        Parameters
        ----------
        deep : bool, default=True
            Include the parameters of the student (``student__*``) and of an unfitted teacher or a
            teacher adapter (``teacher__*``).

        Returns
        -------
        params : dict
        """
        return without_nested(super().get_params(deep=deep), "teacher", when=self._teacher_is_shared())

    def set_params(self, **params):
        """Set parameters; refuses to change a trained (shared) teacher's own.

        Parameters
        ----------
        **params : dict
            ``alpha``, ``student__max_iter``, ...

        Returns
        -------
        self : estimator
        """
        nested = sorted(key for key in params if key.startswith("teacher__"))
        if isinstance(self.teacher, list) and nested:
            raise ValueError(
                f"Cannot set {', '.join(nested)}: a list of teachers is shorthand for equal weights and is used as "
                "it is. To tune the weights or the members' parameters, pass TeacherEnsemble([(name, teacher), ...])."
            )
        refuse_nested(params, "teacher", when=self._teacher_is_shared())
        return super().set_params(**params)

    # --- Fitting -------------------------------------------------------------------------------------

    def _fit(self, X, y, sample_weight, X_unlabeled):
        """Run the teacher on ``X`` once, then train a copy of the student on the targets."""
        X, X_checked, y, sample_weight, kept = self._check_data(X, y, sample_weight, reset=True)
        if y is not None:
            self._check_fit_labels(y[kept])
        X_unlabeled = self._check_unlabeled(X_unlabeled, X)

        # Everything that can be checked before any work is checked here.
        augmenter = as_augmenter(self.augment)
        self._check_augmentable(augmenter, X, X_checked)
        if isinstance(augmenter, ActiveSampler):
            self._check_active(augmenter, int(kept.sum()))
        student = self._student_adapter()
        teacher = self._teacher_adapter()
        teacher_folds = self._teacher_folds(teacher, X_checked, y)
        teacher.check_fit_arguments(y, sample_weight)
        if X_unlabeled is not None:  # scored after X: a refusal would come after the teacher's pass over X
            teacher.check_input(X_unlabeled, input_name="X_unlabeled")
        if hasattr(student, "check_fit_arguments"):
            student.check_fit_arguments(sample_weight)
        self._check_before_teacher_runs(teacher, student, X, y)
        if hasattr(student, "check_module") and not issparse(X_checked):  # a TorchStudent: tried on two rows
            student.check_module(X_checked[:2], self._student_width(teacher, X, y), regression=not is_classifier(self))

        # The teacher: fitted if needed and run once on the labelled rows (all of them, with their
        # weights), then on the transfer set. Rows of weight 0 are then left out of the student's data.
        if teacher_folds is None:
            teacher_outputs = _cache.fit_logits(teacher, X, y, sample_weight, memory=self.memory)
        else:  # the training rows' outputs come from teachers that did not see them; teacher_ saw all
            teacher_outputs = _cache.out_of_fold_logits(teacher, X, y, sample_weight, teacher_folds, memory=self.memory)
        space = self._output_space(teacher, y, in_fit=True)
        if y is not None and teacher_folds is None:  # out-of-fold outputs are not the teacher on its own rows
            all_kept = kept.all()
            self._check_teacher_agrees_with_y(
                space, teacher_outputs if all_kept else teacher_outputs[kept], y if all_kept else y[kept]
            )
        random_state = check_random_state(self.random_state)

        def score(rows):
            return _cache.logits(teacher, rows, memory=self.memory)

        if isinstance(augmenter, ActiveSampler):
            fitted_student = self._fit_active(
                augmenter, student, space, (X, X_checked, y, sample_weight, kept), teacher_outputs, X_unlabeled,
                score=score, query_teacher=lambda rows: _cache.logits(teacher, rows, memory=False),
                random_state=random_state,
            )
        else:
            X_student, targets, sample_weight = self._distillation_data(
                space,
                X,
                y,
                sample_weight,
                kept,
                teacher_outputs,
                transfer=_stack_rows(X_unlabeled, self._augmented_rows(augmenter, X_checked, kept, random_state), like=X),
                score=score,
            )
            fitted_student = student.fit_distill(X_student, targets, sample_weight=sample_weight)
        # Every step passed: only now does the estimator change (and a failure above restores it anyway).
        if self.keep_teacher:
            self.teacher_ = teacher
        else:
            self.__dict__.pop("teacher_", None)
        self.student_ = fitted_student
        self._record_fit(space, student, fitted_student)
        self.route_ = getattr(student, "route", "native")
        self.__dict__.pop("_augment_random_state", None)  # fit starts afresh; a later stream reseeds
        return self

    def _can_learn_incrementally(self):
        """``partial_fit`` exists only for a trained teacher and a student that learns incrementally."""
        if self.keep_teacher is False:
            raise AttributeError(
                "partial_fit scores every chunk with the teacher, which keep_teacher=False leaves behind after fit. "
                "Set keep_teacher=True to stream."
            )
        if not is_trained(self.teacher):
            raise AttributeError(
                "partial_fit needs a trained teacher: an unfitted one would have to be fitted on all the data "
                "first. Fit the teacher, then pass it fitted."
            )
        self._check_student_learns_incrementally()
        return True

    def _partial_fit(self, X, y, classes, sample_weight):
        """Distil one chunk, continuing from earlier calls (see the subclasses' ``partial_fit``)."""
        if self.teacher_cv is not None:
            raise ValueError(
                f"teacher_cv={self.teacher_cv!r} cross-fits an unfitted teacher in fit, but partial_fit uses a trained "
                "teacher as it is. Pass teacher_cv=None."
            )
        if isinstance(as_augmenter(self.augment), ActiveSampler):
            raise ValueError(
                f"augment={self.augment!r} refits the student in rounds on all the rows it has seen, but partial_fit "
                "continues the student on one chunk at a time. Use augment='munge' to stream, or fit."
            )
        first_call = not hasattr(self, "student_")
        X, X_checked, y, sample_weight, kept = self._check_data(X, y, sample_weight, reset=first_call)
        self._check_augmentable(as_augmenter(self.augment), X, X_checked, streaming=True)
        if first_call:
            student = self._student_adapter()
            self._check_incremental(student)
            teacher = self._stream_teacher(classes)
            augmenter = as_augmenter(self.augment)  # checked before the teacher runs
            teacher.fit(X_checked[:1])
            space = self._first_stream_space(teacher, classes, y)
            # One stream of random draws over all calls: each chunk gets its own synthetic rows.
            augment_random_state = check_random_state(self.random_state)
        else:
            student, teacher, augmenter = self.student_, self.teacher_, as_augmenter(self.augment)
            self._check_incremental(student)
            space = self._fitted_space()
            augment_random_state = getattr(self, "_augment_random_state", None) or check_random_state(
                self.random_state
            )
            self._check_stream_continues(teacher, student, classes)
        if y is not None:
            self._output_space(teacher, y)  # labels the teacher scores
        X_student, targets, sample_weight = self._distillation_data(
            space,
            X,
            y,
            sample_weight,
            kept,
            teacher.logits(X),
            transfer=self._augmented_rows(augmenter, X_checked, kept, augment_random_state),
            score=teacher.logits,
        )
        # Every check passed and the teacher ran: only now does the estimator change.
        self.teacher_ = teacher
        self._record_space(space)
        self._augment_random_state = augment_random_state
        self.student_ = self._partial_fit_student(student, X_student, targets, sample_weight)
        self.route_ = getattr(student, "route", getattr(self, "route_", "native"))
        return self

    def _check_before_teacher_runs(self, teacher, student, X, y):
        """Raise, before the teacher's pass over the data, if its outputs cannot serve these targets or
        this student."""

    def _check_y(self, y):
        """Task checks of a validated ``y`` (called by :meth:`_check_data`)."""

    def _check_fit_labels(self, y):
        """Checks of the labels of the rows of positive weight (``fit`` only)."""

    def _student_width(self, teacher, X, y):
        """The number of columns the student must return (classes, or regression outputs), as far as it is
        known before the teacher runs; None when it is not."""

    def _check_teacher_agrees_with_y(self, space, teacher_outputs, y):
        """Warn if the teacher's outputs and ``y`` (rows of positive weight) seem to use other labels or
        units (see :mod:`skdistill._label_agreement`); ``fit`` only."""

    def _record_fit(self, space, student, fitted_student):
        """The fitted attributes ``fit`` sets besides ``teacher_`` and ``student_``."""
        self._record_space(space)

    def __sklearn_tags__(self):
        # Missing values and sparse matrices are known to work when both teacher and student take them
        # (as a VotingClassifier's tags ask every member). The checks of X follow the student alone
        # (see _input_validation): a teacher whose tags say less (a Pipeline with an imputer) may still
        # take them, and raises its own error if not.
        tags = super().__sklearn_tags__()
        student, teacher = self._student_input_tags(), teacher_input_tags(self.teacher)
        tags.input_tags.allow_nan = student.allow_nan and teacher.allow_nan
        tags.input_tags.sparse = student.sparse and teacher.sparse
        return tags

    def _y_required(self):
        """For the tags: y is optional only for pure distillation from a teacher that needs no fitting.

        The subclasses set it in their own ``__sklearn_tags__``, after the mixin (``ClassifierMixin``,
        ``RegressorMixin``) that marks y as required.
        """
        pure_distillation = isinstance(self.alpha, Real) and self.alpha == 0
        return not (pure_distillation and is_trained(self.teacher))

    def _first_stream_space(self, teacher, classes, y):
        """The output space of a stream, on its first ``partial_fit`` call."""
        return self._output_space(teacher, classes)

    def _check_incremental(self, student):
        """Raise, before any work, if the student adapter cannot learn chunk by chunk."""
        check_incremental(student)

    def _partial_fit_student(self, student, X, targets, sample_weight):
        """Continue the student on one chunk; return it."""
        return partial_fit_student(student, X, targets, sample_weight=sample_weight)

    def _stream_teacher(self, classes):
        """The teacher adapter for the first ``partial_fit`` call."""
        return self._teacher_adapter()

    def _check_stream_continues(self, teacher, student, classes):
        """Raise if a later ``partial_fit`` call cannot continue the fitted student."""

    def _teacher_folds(self, teacher, X, y):
        """The ``(train, test)`` row indices of ``teacher_cv`` (None without it), checked before any work."""
        if self.teacher_cv is None:
            return None
        if is_trained(teacher):
            raise ValueError(
                f"teacher_cv={self.teacher_cv!r} fits the teacher on each fold's other rows, but the teacher "
                f"{type(self.teacher).__name__} is already trained: there is nothing to fit. Pass teacher_cv=None, "
                "or an unfitted scikit-learn model as the teacher."
            )
        if y is None:
            raise ValueError(
                f"teacher_cv={self.teacher_cv!r} fits the teacher on each fold's other rows, which needs their "
                "labels, but the target y is None. Pass y, or teacher_cv=None."
            )
        splitter = check_cv(self.teacher_cv, y, classifier=is_classifier(self))
        splits = [(np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y)]
        times_held_out = np.bincount(np.concatenate([test for _, test in splits]), minlength=len(y))
        if (times_held_out != 1).any():
            raise ValueError(
                f"teacher_cv must hold out every row exactly once, as cross_val_predict requires; {splitter!r} "
                f"holds out {int((times_held_out == 0).sum())} rows never and {int((times_held_out > 1).sum())} "
                "rows more than once. Use a splitter into folds (an int, KFold, StratifiedKFold, ...)."
            )
        if is_classifier(self):
            # A fold teacher fitted without a class could not score it for its held-out rows.
            classes = np.unique(y)
            for fold, (train, _) in enumerate(splits):
                missing = np.setdiff1d(classes, y[train]).tolist()
                if missing:
                    raise ValueError(
                        f"teacher_cv, fold {fold + 1} of {len(splits)}: the rows the teacher is fitted on have no "
                        f"row of class {missing[0]!r} ({int((y == missing[0]).sum())} rows in y, all held out by "
                        "this fold), so it could not score that class for the rows it labels. Use fewer folds, a "
                        "stratified splitter, or teacher_cv=None."
                    )
        return splits

    # --- Data ----------------------------------------------------------------------------------------

    def _check_data(self, X, y, sample_weight, *, reset):
        """Validated (X, X as an array, y, sample_weight, mask of rows with a positive weight)."""
        validation = self._input_validation()
        if issparse(X) and not validation["accept_sparse"]:
            raise TypeError(self._sparse_refusal())
        self._check_student_takes_non_numeric_columns(X)
        if y is None:
            if self.alpha > 0:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None. Pass y, or set "
                    "alpha=0 to distil on unlabelled data (the labels then come from the teacher)."
                )
            X_checked = validate_data(self, numeric_stand_in(X), reset=reset, **validation)
        else:
            X_checked, y = validate_data(self, numeric_stand_in(X), y, reset=reset, **validation, **self._y_validation)
            self._check_y(y)
        # A DataFrame stays one for teacher and student (column names reach a fitted pipeline teacher,
        # and student_.feature_names_in_); anything else is used as validated.
        X = X if hasattr(X, "iloc") else X_checked
        kept = np.ones(X_checked.shape[0], dtype=bool)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X_checked, ensure_non_negative=True)
            kept = sample_weight > 0
        return X, X_checked, y, sample_weight, kept

    def _distillation_data(self, space, X, y, sample_weight, kept, teacher_outputs, *, transfer, score):
        """The student's rows, targets and weights: the rows of positive weight, then the transfer set.

        ``score(rows)`` gives the teacher's outputs for the transfer set's rows.
        """
        # Indexing copies X: only do it when some row has weight 0.
        X_student = X if kept.all() else _safe_indexing(X, np.flatnonzero(kept))
        outputs = [teacher_outputs if kept.all() else teacher_outputs[kept]]
        if transfer is not None:
            X_student = _stack_rows(X_student, transfer, like=X)
            outputs.append(score(transfer))
        n_transfer = 0 if transfer is None else _num_samples(transfer)
        if sample_weight is not None:
            sample_weight = np.concatenate([sample_weight[kept], np.ones(n_transfer)])
        targets = self._targets(space, outputs, None if y is None else y[kept], n_transfer)
        return X_student, targets, sample_weight

    def _input_validation(self, accepts=None):
        """The arguments of ``validate_data`` for X: the distiller takes what its student takes.

        Missing values (NaN) and sparse matrices are accepted when the student's scikit-learn tags say
        it takes them (``accepts``, by default those of the student as it will be trained), and passed
        on as they are (the teacher gets them too, and must take them). A DataFrame with columns that
        are not numbers (pandas ``category``, strings) reaches teacher and student as it is; validation
        sees its :func:`~skdistill._base.numeric_stand_in`.
        """
        accepts = self._student_input_tags() if accepts is None else accepts
        return {
            "dtype": (np.float64, np.float32),
            "accept_sparse": ["csr", "csc"] if accepts.sparse else False,
            "ensure_all_finite": "allow-nan" if accepts.allow_nan else True,
        }

    def _check_student_takes_non_numeric_columns(self, X, name="X"):
        """Raise, before the teacher runs, if the DataFrame ``X`` has columns that are not numbers which the
        student cannot take (see ``_why_columns_refused``)."""
        problem = _why_columns_refused(self.student, X)
        if problem is None:
            return
        raise ValueError(
            f"{name} {problem}. Encode those columns before the distiller (make_pipeline(ColumnTransformer with a "
            f"OneHotEncoder or an OrdinalEncoder, {type(self).__name__}(...))), or use a student that splits pandas "
            "category columns itself: HistGradientBoosting (categorical_features='from_dtype', the default), "
            "LightGBM, or XGBoost with enable_categorical=True."
        )

    def _sparse_refusal(self):
        """The error message for a sparse X that the student, as it will be trained, cannot take."""
        name = "MLPStudent" if self.student is None else type(self.student).__name__
        students = (
            "LogisticRegression, SGDClassifier(loss='log_loss'), DecisionTreeClassifier, LightGBM or XGBoost"
            if is_classifier(self)
            else "Ridge, SGDRegressor, DecisionTreeRegressor, LightGBM or XGBoost"
        )
        return (
            f"X is a sparse matrix, but the student {name}, as {type(self).__name__} trains it, takes dense "
            f"arrays only. Pass X.toarray() if it fits in memory, or use a student that takes sparse matrices: "
            f"{students}."
        )

    def _student_input_tags(self):
        """The input tags of the student (missing values, sparse matrices), as it will be trained."""
        return student_input_tags(self.student)

    def _predict_validation(self):
        """The arguments of ``validate_data`` for X at predict: what the fitted student takes (it alone runs)."""
        return self._input_validation(student_input_tags(self.student_))

    def _check_augmentable(self, augmenter, X, X_checked, *, streaming=False):
        """Raise, before the teacher runs, if ``augmenter`` cannot make rows from ``X`` (``X_checked``
        validated): it does arithmetic on dense numeric features, without missing values."""
        if augmenter is None:
            return
        if issparse(X_checked):
            problem = "X is a sparse matrix"
        elif non_numeric_columns(X):
            problem = "X has columns that are not numbers (pandas category or strings)"
        elif np.isnan(X_checked).any():
            problem = "X has missing values (NaN)"
        else:
            return
        raise ValueError(
            f"augment={self.augment!r} makes synthetic rows by arithmetic on dense numeric features, but "
            f"{problem}. Pass augment=None"
            + ("." if streaming else ", or pass X_unlabeled (rows of your own for the teacher to label).")
        )

    def _check_unlabeled(self, X_unlabeled, X):
        """``X_unlabeled`` validated against the training data's width (and columns, for DataFrames)."""
        if X_unlabeled is None:
            return None
        if issparse(X_unlabeled) and not issparse(X):
            raise ValueError(
                "X_unlabeled is a sparse matrix but X is not; the teacher labels them as rows of X and the student "
                "learns from both together. Pass X_unlabeled.toarray(), or both as sparse matrices."
            )
        self._check_student_takes_non_numeric_columns(X_unlabeled, name="X_unlabeled")
        if non_numeric_columns(X) or non_numeric_columns(X_unlabeled):
            if not (is_pandas_frame(X) and is_pandas_frame(X_unlabeled) and X_unlabeled.dtypes.equals(X.dtypes)):
                raise ValueError(
                    "X or X_unlabeled has columns that are not numbers, so both must be DataFrames with the same "
                    "columns and the same dtypes (a category column with the same categories): the student learns "
                    "from both together."
                )
        checked = check_array(numeric_stand_in(X_unlabeled), **self._input_validation())
        if checked.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X_unlabeled has {checked.shape[1]} features, but X has {self.n_features_in_}; the teacher "
                "labels them as rows of X, so they must have the same features."
            )
        if hasattr(X, "columns") and hasattr(X_unlabeled, "columns") and list(X.columns) != list(X_unlabeled.columns):
            raise ValueError("X_unlabeled must have the same columns as X, in the same order.")
        return X_unlabeled if hasattr(X, "iloc") and hasattr(X_unlabeled, "iloc") else checked

    def _augmented_rows(self, augmenter, X_checked, kept, random_state):
        """Synthetic rows for the teacher to label, made from the training rows (of positive weight) only."""
        if augmenter is None:
            return None
        X_train = X_checked if kept.all() else X_checked[kept]
        rows = np.asarray(augmenter.sample(X_train, self._transfer_budget(len(X_train)), random_state))
        if rows.ndim != 2 or rows.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"augment must return rows of shape (n_samples, {X_train.shape[1]}); got shape {rows.shape}."
            )
        n_not_finite = int((~np.isfinite(rows)).any(axis=1).sum())
        if n_not_finite:
            raise ValueError(
                f"augment must return finite rows; {n_not_finite} of the {len(rows)} rows it returned hold NaN or "
                "infinite values."
            )
        return rows.astype(X_train.dtype, copy=False)

    def _transfer_budget(self, n_training_rows):
        """The number of synthetic rows (teacher queries) ``augment_size`` asks for."""
        n_rows = self.augment_size
        if not isinstance(n_rows, Integral):
            n_rows = round(n_rows * n_training_rows)  # a float is a multiple of the training rows
        return max(n_rows, 1)

    # --- Active transfer sets ------------------------------------------------------------------------

    def _check_active(self, sampler, n_training_rows):
        """Raise, before any work, if the active sampler cannot run: too small a budget for its rounds,
        a measure that does not fit the task, or a student it cannot fit afresh in each round."""
        sampler.round_sizes(self._transfer_budget(n_training_rows))
        sampler.measure(regression=not is_classifier(self))
        try:
            if isinstance(self.student, torch.nn.Module):
                copy.deepcopy(self.student)
            elif self.student is not None:  # None is the default MLPStudent
                clone(self.student)
        except Exception as error:
            raise ValueError(
                f"augment={self.augment!r} fits the student {sampler.n_rounds + 1} times, each time from a fresh copy "
                f"of the template, but the student {type(self.student).__name__} cannot be copied ({error}). Pass a "
                "student that sklearn.base.clone (or copy.deepcopy, for a torch module) can copy, or use "
                "augment='munge'."
            ) from error

    def _fit_active(
        self, sampler, student, space, data, teacher_outputs, X_unlabeled, *, score, query_teacher, random_state
    ):
        """The student fitted by the active sampler's rounds (see :mod:`skdistill._active_rounds`).

        ``score`` gives the teacher's outputs through the cache (for ``X_unlabeled``); ``query_teacher``
        without it, for each round's synthetic rows: they depend on the student fitted so far, so an
        identical query is unlikely, and the cache key would hash the teacher again in every round.
        """
        X, X_checked, y, sample_weight, kept = data
        X_train = X_checked if kept.all() else X_checked[kept]
        # As the other augmenters' transfer sets: rows in the training data's form (a DataFrame's columns).
        unlabelled_outputs = None if X_unlabeled is None else score(_stack_rows(X_unlabeled, None, like=X))

        def fit(rows, outputs):
            scored = [part for part in (unlabelled_outputs, outputs) if part is not None]
            X_student, targets, weight = self._distillation_data(
                space,
                X,
                y,
                sample_weight,
                kept,
                teacher_outputs,
                transfer=_stack_rows(X_unlabeled, None if rows is None else self._as_input(rows, X), like=X),
                score=lambda _: np.concatenate(scored),
            )
            return student.fit_distill(X_student, targets, sample_weight=weight)

        def query(rows, round_number, n_rounds):
            try:
                return query_teacher(self._as_input(rows, X))
            except Exception as error:
                failing = _failing_rows(query_teacher, self._as_input(rows, X), rows)
                raise RuntimeError(
                    f"augment={self.augment!r}, round {round_number} of {n_rounds}: the teacher raised "
                    f"{type(error).__name__} on {failing}: "
                    f"{error}. They are MUNGE rows made from the training rows; a teacher that cannot score rows "
                    "near its data cannot label a transfer set: pass augment=None."
                ) from error

        fitted, _, _ = fit_in_rounds(
            sampler,
            self._transfer_budget(len(X_train)),
            X_train,
            self._teacher_view(student, space, teacher_outputs if kept.all() else teacher_outputs[kept]),
            fit=fit,
            student_view=lambda fitted, rows: self._student_view(student, fitted, space, self._as_input(rows, X)),
            teacher_view=lambda outputs: self._teacher_view(student, space, outputs),
            query=query,
            regression=not is_classifier(self),
            random_state=random_state,
        )
        return fitted

    @staticmethod
    def _as_input(rows, like):
        """Synthetic ``rows`` (an array) as the training data came: a DataFrame of its columns if it was one."""
        return _stack_rows(rows, None, like=like) if hasattr(like, "iloc") else rows

    def _teacher_view(self, student, space, outputs):
        """The teacher's raw outputs as ``student``'s predictions should match them (probabilities, values)."""
        raise NotImplementedError

    def _student_view(self, student, fitted, space, X):
        """The fitted student's outputs on ``X``, comparable with :meth:`_teacher_view`."""
        raise NotImplementedError

    def _teacher_outputs(self, X):
        """The fitted teacher's outputs on ``X`` (through the cache)."""
        return _cache.logits(self.teacher_, X, memory=self.memory)

    def _check_teacher_kept(self):
        """Raise ``AttributeError`` for a fitted estimator that left its teacher behind (``keep_teacher=False``)."""
        if self.__sklearn_is_fitted__() and not hasattr(self, "teacher_"):
            raise AttributeError(
                f"this {type(self).__name__} was fitted with keep_teacher=False, so it left its teacher behind: "
                "only predictions are available. Refit with keep_teacher=True to compare with the teacher."
            )
        return True


def _left_behind(teacher):
    """What a lean pickle holds in place of the ``teacher`` parameter: a string that says so."""
    # An adapter is named by what it wraps; anything else by its own class: a forest's or a bagging
    # ensemble's ``estimator`` is its base estimator (or None), not the teacher.
    if isinstance(teacher, SklearnTeacher):
        teacher = teacher.estimator
    elif isinstance(teacher, TorchTeacher):
        teacher = teacher.module
    return f"<teacher {type(teacher).__name__} left behind by keep_teacher=False>"


def _failing_rows(score, rows_input, rows, *, at_most=1000):
    """Which of a round's ``rows`` the teacher fails on, scored one at a time (the first ``at_most``), as
    words: "12 of the round's 50 synthetic rows (rows [0, 3, ...]; the first is [...])".

    ``rows_input`` are the rows as the teacher takes them (a DataFrame if the training data was one).
    """
    n_rows = len(rows)
    failing = []
    for index in range(min(n_rows, at_most)):
        try:
            score(_safe_indexing(rows_input, [index]))
        except Exception:
            failing.append(index)
    of_all = f"of the round's {n_rows} synthetic rows"
    if not failing:
        alone = "any of them" if n_rows <= at_most else f"any of the first {at_most}"
        return f"all {n_rows} of the round's synthetic rows together (not on {alone} alone)"
    first = np.array2string(np.asarray(rows[failing[0]]), precision=4, threshold=8)
    checked = "" if n_rows <= at_most else f", among the first {at_most}"
    listed = f"{failing[:5]}"[:-1] + (", ...]" if len(failing) > 5 else "]")
    return f"{len(failing)} {of_all}{checked} (rows {listed}; the first is {first})"


def _stack_rows(first, second, *, like):
    """Rows of ``first`` then ``second`` (either may be None); a DataFrame if ``like`` is one."""
    parts = [part for part in (first, second) if part is not None]
    if not parts:
        return None
    if hasattr(like, "iloc"):
        import pandas as pd  # only reached with pandas input

        frames = [part if hasattr(part, "iloc") else pd.DataFrame(part, columns=like.columns) for part in parts]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if issparse(like):
        return sparse_vstack([csr_matrix(part, dtype=like.dtype) for part in parts], format=like.format)
    return np.concatenate([np.asarray(part, dtype=like.dtype) for part in parts])


def _why_columns_refused(student, X):
    """Why ``student`` cannot take the columns of the DataFrame ``X`` that are not numbers, or None.

    Neither scikit-learn's tags nor the libraries' say which estimators take such columns, so this goes
    by what is known. ``HistGradientBoosting*`` (unless ``categorical_features=None``), LightGBM and
    XGBoost (with ``enable_categorical=True``) take pandas ``category`` columns, and no other kind; every
    other scikit-learn or skdistill student, and a torch module, reads numbers only; the estimator of
    another library (CatBoost) decides for itself.
    """
    columns = {str(name): X.dtypes[name] for name in non_numeric_columns(X)}
    if not columns:
        return None
    shown = ", ".join(repr(name) for name in list(columns)[:5]) + (", ..." if len(columns) > 5 else "")
    name = "MLPStudent" if student is None else type(student).__name__
    numbers_only = f"has columns that are not numbers ({shown}), but the student {name} trains on numbers only"
    if isinstance(student, Pipeline):
        return None  # a Pipeline student is refused with its own reason (put the encoding around the distiller)
    if student is None or isinstance(student, torch.nn.Module):
        return numbers_only
    package = type(student).__module__.partition(".")[0]
    if isinstance(student, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
        if student.categorical_features is None:
            return f"has columns that are not numbers ({shown}), but {name}(categorical_features=None) reads numbers only"
    elif package == "xgboost":
        if not student.get_params().get("enable_categorical"):
            return f"has columns that are not numbers ({shown}), but {name} reads them only with enable_categorical=True"
    elif package != "lightgbm":
        # another library's estimator (CatBoost takes string columns) takes or refuses them itself
        return numbers_only if is_scikit_learn_or_ours(student) else None
    import pandas as pd  # X is a pandas DataFrame here

    other = [column for column, dtype in columns.items() if not isinstance(dtype, pd.CategoricalDtype)]
    if other:
        listed = ", ".join(f"{column!r} ({columns[column]})" for column in other[:5])
        return f"has columns that are neither numbers nor pandas category ({listed}), which {name} cannot take"
    return None
