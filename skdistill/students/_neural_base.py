"""The base of neural students: training knobs, fit on labels or from a teacher, batched prediction."""

import copy
import importlib.util
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._base import DistillationTargets, LogitsPredictionMixin, check_at_least_two_classes, validated_rows
from .._portable import PortablePickleMixin
from .._signatures import call_refused
from .._soft_targets import UNLABELLED
from .._torch_utils import (
    DEVICE_CONSTRAINT,
    as_tensor,
    Float64Unsupported,
    batched_forward,
    float64_inference_device,
    make_generator,
    module_device_and_dtype,
    resolve_device,
    seed_from,
)
from ._seeded_dropout import seeded_dropout
from ._training import TrainingRows, train, train_one_epoch

# Rows per forward pass at prediction time.
_PREDICT_BATCH_SIZE = 4096


class Float64FallbackWarning(UserWarning):
    """Warns that a neural student's module cannot run in float64, so it predicts in its own dtype.

    Neural students predict in float64 so that a row's prediction does not depend on the other rows
    of its batch. A module whose ``forward`` makes tensors of its own dtype and multiplies them with
    its input (``x @ torch.eye(3)``, a float32 initial state of a recurrent layer) cannot: it then
    predicts in its own dtype, with this warning. Create such tensors with ``dtype=x.dtype``, or
    register them as buffers, to predict in float64.

    See Also
    --------
    TorchStudent : Any torch module as a student.

    Examples
    --------
    >>> import warnings
    >>> from skdistill import Float64FallbackWarning
    >>> with warnings.catch_warnings():
    ...     # within this block, a module that cannot predict in float64 raises instead
    ...     warnings.simplefilter("error", Float64FallbackWarning)
    """


def _require_tqdm():
    """Raise a clear error now if tqdm (an optional dependency, for ``verbose=True``) is missing."""
    if importlib.util.find_spec("tqdm") is None:
        raise ImportError(
            "verbose=True draws a progress bar with tqdm, which is not installed; "
            "pip install 'skdistill[progress]' (or tqdm), or set verbose=False."
        )


def _open_progress_bar(total):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="epoch", desc="training")


def _fused_kernel_available(parameters):
    """Whether torch's fused (single-kernel) Adam step runs for these parameters: CUDA, or CPU from torch 2.4."""
    devices = {p.device.type for p in parameters}
    cpu_ok = torch.__version__ >= "2.4"
    return all(p.is_floating_point() for p in parameters) and devices <= ({"cuda", "cpu"} if cpu_ok else {"cuda"})


def _check_optimizer_signature(optimizer):
    """Refuse, before any work, a callable optimizer that cannot be called as ``_make_optimizer`` calls it."""
    exc = call_refused(optimizer, [], lr=0.001, weight_decay=0.0)
    if exc is not None:
        name = getattr(optimizer, "__qualname__", type(optimizer).__name__)
        raise TypeError(
            f"optimizer is called as optimizer(parameters, lr=learning_rate_init, weight_decay=weight_decay) "
            f"and must return a torch.optim.Optimizer, but {name}{inspect.signature(optimizer)} cannot be called "
            f"so ({exc}). "
            "Accept both keywords, e.g. functools.partial(torch.optim.SGD, momentum=0.9), or "
            "lambda parameters, lr, weight_decay: torch.optim.SGD(parameters, lr=lr, weight_decay=weight_decay)."
        ) from None


def _make_optimizer(optimizer, parameters, *, lr, weight_decay):
    parameters = list(parameters)
    if optimizer in ("adam", "adamw"):
        # The fused step is the same algorithm in one kernel: about 15% faster training for small nets on CPU.
        adam = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
        fused = {"fused": True} if parameters and _fused_kernel_available(parameters) else {}
        return adam(parameters, lr=lr, weight_decay=weight_decay, **fused)
    if optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=lr, weight_decay=weight_decay, momentum=0.9, nesterov=True)
    return optimizer(parameters, lr=lr, weight_decay=weight_decay)


def _stratification_labels(targets):
    """A class index for every row, to stratify the early-stopping split by.

    Labelled rows give their label; rows only the teacher labels (a transfer set, or all rows when
    ``y`` is None) give the teacher's most probable class, so that they are split too.
    """
    if targets.classes is None:  # regression: nothing to stratify by
        return None
    if targets.teacher_logits is None:
        return targets.y
    teacher_labels = np.argmax(targets.teacher_logits, axis=1)
    if targets.y is None:
        return teacher_labels
    return np.where(targets.y == UNLABELLED, teacher_labels, targets.y)


class _BaseTorchStudent(PortablePickleMixin, LogitsPredictionMixin, ClassifierMixin, BaseEstimator):
    """Training knobs and the fit / predict machinery shared by neural students."""

    _parameter_constraints = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd"}), callable],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": DEVICE_CONSTRAINT,
        "verbose": ["verbose"],
    }

    def _initial_module(self, n_features, n_classes, generator):
        """A fresh module to train, on the CPU: (n, n_features) -> (n, n_classes) logits."""
        raise NotImplementedError

    def check_params(self):
        """Validate the parameters now, before any work; raise a clear error if one is wrong."""
        self._validate_params()
        if callable(self.optimizer):
            _check_optimizer_signature(self.optimizer)
        resolve_device(self.device)
        if self.verbose:
            _require_tqdm()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on labels (ordinary supervised learning, cross-entropy).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self.check_params()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        check_at_least_two_classes(classes)
        targets = DistillationTargets(teacher_logits=None, y=y_index, classes=classes, T=1.0, alpha=1.0)
        return self._fit_targets(X, targets, sample_weight)

    def fit_distill(self, X, targets, sample_weight=None, *, initial_module=None):
        """Train the network on the distillation loss; called by :class:`~skdistill.DistilledClassifier`.

        ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Validated by the caller.
        targets : DistillationTargets
            Teacher logits aligned to ``targets.classes``, label indices, ``T`` and ``alpha``.
        sample_weight : ndarray of shape (n_samples,), default=None
        initial_module : torch.nn.Module, default=None
            Train this module (in place, moved to ``device``) instead of a freshly initialised one:
            how :func:`~skdistill.prune_student` fine-tunes a pruned network.

        Returns
        -------
        self
        """
        self.check_params()
        X = validate_data(self, X, dtype=(np.float64, np.float32))
        return self._fit_targets(X, targets, sample_weight, initial_module=initial_module)

    def _fit_targets(self, X, targets, sample_weight, *, initial_module=None):
        random_state = check_random_state(self.random_state)
        if initial_module is None:
            module = self._new_module(X, targets, random_state)
        else:
            module = initial_module.to(resolve_device(self.device))
        rows = self._training_rows(module, X, targets, sample_weight, mean_one=True)
        device = rows.X.device

        train_rows, validation_rows = rows, None
        if self.early_stopping:
            train_index, validation_index = (
                torch.as_tensor(index, device=device)
                for index in self._validation_split(_stratification_labels(targets), len(X), random_state)
            )
            train_rows, validation_rows = rows.subset(train_index), rows.subset(validation_index)
            if train_rows.weight is not None:
                train_rows.weight = train_rows.weight / train_rows.weight.mean()

        batch_size = min(200 if self.batch_size == "auto" else self.batch_size, len(train_rows))
        optimizer = _make_optimizer(
            self.optimizer, module.parameters(), lr=self.learning_rate_init, weight_decay=self.weight_decay
        )
        dropout_generator = make_generator(seed_from(random_state), device)
        shuffle_generator = make_generator(seed_from(random_state))
        progress = _open_progress_bar(self.max_iter) if self.verbose else None
        try:
            with seeded_dropout(module, dropout_generator):
                history = train(
                    module,
                    optimizer,
                    train_rows,
                    validation_rows,
                    targets.loss,
                    max_iter=self.max_iter,
                    batch_size=batch_size,
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    shuffle_generator=shuffle_generator,
                    progress=progress,
                )
        finally:
            if progress is not None:
                progress.close()
        module.eval()

        self.module_ = module
        self._inference_copy = {}  # the float64 copy predictions make and reuse (see _inference_copy.py)
        self._record_outputs(targets)
        self.n_iter_ = history.n_iter
        self.loss_curve_ = history.loss_curve
        # What partial_fit continues from: the stream of seeds. The optimizer is not kept (its moments
        # would triple the pickle of the model users ship); partial_fit after fit starts a fresh one.
        self._random_state = random_state
        self.__dict__.pop("_optimizer", None)
        self.best_loss_ = history.best_loss
        self.validation_loss_curve_ = history.validation_loss_curve
        self.best_validation_loss_ = history.best_validation_loss
        return self

    def _new_module(self, X, targets, random_state):
        """A freshly initialised module on the training device, its output width checked."""
        n_classes = targets.n_outputs
        module = self._initial_module(X.shape[1], n_classes, make_generator(seed_from(random_state)))
        module = module.to(resolve_device(self.device))
        self._check_output_width(module, X[:2], n_classes, regression=targets.classes is None)
        return module

    def _training_rows(self, module, X, targets, sample_weight, *, mean_one):
        """The tensors of a fit, moved to the module's device once.

        ``mean_one`` rescales the sample weights to mean 1 (``fit``); ``partial_fit`` keeps them as
        given, so that chunks keep their relative weights.
        """
        device, dtype = module_device_and_dtype(module)
        rows = TrainingRows(
            X=as_tensor(X, dtype=dtype, device=device),
            y=None if targets.y is None else targets.loss.label_tensor(targets.y, dtype=dtype, device=device),
            teacher_log_probs=None,
            weight=None,
        )
        if targets.loss.needs_teacher(targets.has_unlabelled_rows):
            rows.teacher_log_probs = targets.loss.teacher_term(targets.teacher_logits, dtype=dtype, device=device)
        if targets.labelled is not None:
            rows.labelled = torch.as_tensor(targets.labelled, dtype=dtype, device=device)
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            rows.weight = torch.as_tensor(weight / weight.mean() if mean_one else weight, dtype=dtype, device=device)
        return rows

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``X, y`` on labels, continuing from earlier calls (or from :meth:`fit`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label ``y`` may hold, over all calls. Required on the first call (as for
            scikit-learn's ``partial_fit``), since one chunk may lack some classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights, used as given (not rescaled per chunk).

        Returns
        -------
        self
        """
        first_call = not hasattr(self, "module_")
        if first_call:
            self.check_params()
        if first_call and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every label y may hold, since one "
                "chunk may lack some of them."
            )
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=first_call)
        check_classification_targets(y)
        all_classes = np.unique(classes) if first_call else self.classes_
        if classes is not None and not np.array_equal(np.unique(classes), all_classes):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the first call's {all_classes.tolist()!r}."
            )
        unknown = np.setdiff1d(y, all_classes)
        if len(unknown):
            raise ValueError(
                f"y has labels not in classes: {unknown.tolist()!r}; classes are {all_classes.tolist()!r}."
            )
        check_at_least_two_classes(all_classes)
        y_index = np.searchsorted(all_classes, y)
        targets = DistillationTargets(teacher_logits=None, y=y_index, classes=all_classes, T=1.0, alpha=1.0)
        return self._partial_fit_targets(X, targets, sample_weight, first_call=first_call)

    def partial_fit_distill(self, X, targets, sample_weight=None):
        """One epoch of the distillation loss over a chunk; called by ``DistilledClassifier.partial_fit``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        targets : DistillationTargets
            The chunk's targets; ``targets.classes`` must be the same on every call.
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        first_call = not hasattr(self, "module_")
        if first_call:
            self.check_params()
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=first_call)
        if not first_call and targets.classes is None and targets.n_outputs != getattr(self, "n_outputs_", None):
            raise ValueError(
                f"partial_fit got {targets.n_outputs} outputs, but earlier calls had {getattr(self, 'n_outputs_', None)}."
            )
        if not first_call and targets.classes is not None and not np.array_equal(targets.classes, self.classes_):
            raise ValueError(
                f"partial_fit got classes {targets.classes.tolist()!r}, but earlier calls had "
                f"{self.classes_.tolist()!r}."
            )
        return self._partial_fit_targets(X, targets, sample_weight, first_call=first_call)

    def _partial_fit_targets(self, X, targets, sample_weight, *, first_call):
        """One epoch over the chunk, all or nothing: if it raises (``KeyboardInterrupt`` included) the
        module, the optimizer, the random state and the attributes are as before the call."""
        before = _TrainingState.of(self)
        try:
            return self._partial_fit_epoch(X, targets, sample_weight, first_call=first_call)
        except BaseException:
            before.restore(self)
            raise

    def _partial_fit_epoch(self, X, targets, sample_weight, *, first_call):
        if first_call:
            self._random_state = check_random_state(self.random_state)
            self.module_ = self._new_module(X, targets, self._random_state)
            self._inference_copy = {}
            self.__dict__.pop("_optimizer", None)
            self._record_outputs(targets)
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.best_loss_ = float("inf")
            self.validation_loss_curve_ = None
            self.best_validation_loss_ = None
        if not hasattr(self, "_optimizer"):  # the first partial_fit after fit
            self._optimizer = _make_optimizer(
                self.optimizer, self.module_.parameters(), lr=self.learning_rate_init, weight_decay=self.weight_decay
            )
        rows = self._training_rows(self.module_, X, targets, sample_weight, mean_one=False)
        batch_size = 200 if self.batch_size == "auto" else self.batch_size
        with seeded_dropout(self.module_, make_generator(seed_from(self._random_state), rows.X.device)):
            loss = train_one_epoch(
                self.module_,
                self._optimizer,
                rows,
                targets.loss,
                batch_size=batch_size,
                shuffle_generator=make_generator(seed_from(self._random_state)),
            )
        self.n_iter_ += 1
        self.loss_curve_ = [*self.loss_curve_, loss]
        self.best_loss_ = min(self.best_loss_ if self.best_loss_ is not None else float("inf"), loss)
        return self

    def _validation_split(self, y, n_rows, random_state):
        """Row indices for training and for early-stopping validation, stratified when labels allow.

        ``y`` holds a class index per row (see :func:`_stratification_labels`), or is ``None``.
        """
        n_validation = max(1, int(round(self.validation_fraction * n_rows)))
        if n_validation >= n_rows:
            raise ValueError(
                f"early_stopping needs at least 2 rows to split off validation_fraction="
                f"{self.validation_fraction}; got {n_rows} row(s)."
            )
        stratify = None
        if y is not None:
            counts = np.bincount(y)
            counts = counts[counts > 0]
            # train_test_split can stratify only with >= 2 rows per class and room for each class.
            if counts.min() >= 2 and min(n_validation, n_rows - n_validation) >= len(counts):
                stratify = y
        return train_test_split(np.arange(n_rows), test_size=n_validation, random_state=random_state, stratify=stratify)

    def _record_outputs(self, targets):
        """``classes_`` for a classifier; ``n_outputs_`` (and no ``classes_``) for a regression head."""
        if targets.classes is None:
            self.n_outputs_ = targets.n_outputs
            self.__dict__.pop("classes_", None)
        else:
            self.classes_ = targets.classes
            self.__dict__.pop("n_outputs_", None)

    def _is_regression_head(self):
        return hasattr(self, "n_outputs_") and not hasattr(self, "classes_")

    def predict(self, X):
        """The most probable class of each row; for a regression head (trained by
        :class:`~skdistill.DistilledRegressor`), its outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_outputs) for a regression head of several outputs
        """
        if self._is_regression_head():
            outputs = self._logits(X)
            return outputs[:, 0] if outputs.shape[1] == 1 else outputs
        return super().predict(X)

    def _check_gives_probabilities(self, method):
        if self._is_regression_head():
            raise AttributeError(
                f"{type(self).__name__} was trained as a regression head (by DistilledRegressor), so it has no "
                f"{method}; use predict."
            )

    def _check_output_width(self, module, X_probe, n_classes, *, regression=False):
        """Run ``module`` on the rows ``X_probe``: it must take them, and return ``n_classes`` columns
        (any number when None)."""
        what = "outputs of shape (n_samples, n_outputs)" if regression else "logits of shape (n_samples, n_classes)"
        device, dtype = module_device_and_dtype(module)
        scores = batched_forward(
            module, X_probe, batch_size=len(X_probe), device=device, dtype=dtype, who="The student module"
        )
        if n_classes is None:
            return
        if scores.ndim != 2 or scores.shape[1] != n_classes:
            raise ValueError(
                f"The student module must return {what} = (n, {n_classes}), "
                f"one column per {'class' if regression is False else 'output'}; for {len(X_probe)} rows it returned shape {scores.shape}."
            )

    def __getstate__(self):
        state = super().__getstate__()
        state["_inference_copy"] = {}  # a cache of module_, made again on the first prediction
        return state

    def _logits(self, X):
        if "module_" not in self.__dict__:
            check_is_fitted(self)  # raises NotFittedError
        X = validated_rows(self, X)
        # Inference in float64 (training stays in the module's dtype): a row's prediction does not
        # depend on the other rows it arrives with, to float64 round-off, on any CPU.
        try:
            return batched_forward(
                self.module_,
                X,
                batch_size=_PREDICT_BATCH_SIZE,
                device=float64_inference_device(self.module_),
                dtype=torch.float64,
                float64=True,
                # Made by fit (predict does not add attributes); None for a student pickled by older code.
                copy_holder=self.__dict__.get("_inference_copy"),
            )
        except Float64Unsupported as exc:
            device, dtype = module_device_and_dtype(self.module_)
            warnings.warn(
                f"{type(self.module_).__name__} predicts in its own dtype {dtype}, not in float64: {exc} A row's "
                "prediction may then depend on the other rows of its batch by float round-off (about 1e-7 for "
                "float32). Make the tensors the module creates follow its input's dtype (torch.zeros(..., "
                "dtype=x.dtype)) or register them as buffers.",
                Float64FallbackWarning,
                stacklevel=3,
            )
            return batched_forward(self.module_, X, batch_size=_PREDICT_BATCH_SIZE, device=device, dtype=dtype)


class _TrainingState:
    """What a ``partial_fit`` epoch changes in place, copied so that a failed epoch can be undone: the
    attributes, the module's parameters and buffers, the optimizer's state and the random state."""

    def __init__(self, attributes, module_state, optimizer_state, random_state):
        self.attributes = attributes
        self.module_state = module_state
        self.optimizer_state = optimizer_state
        self.random_state = random_state

    @classmethod
    def of(cls, estimator):
        attributes = dict(vars(estimator))
        module, optimizer = attributes.get("module_"), attributes.get("_optimizer")
        random_state = attributes.get("_random_state")
        return cls(
            attributes,
            None if module is None else {name: value.detach().clone() for name, value in module.state_dict().items()},
            None if optimizer is None else copy.deepcopy(optimizer.state_dict()),
            random_state.get_state() if isinstance(random_state, np.random.RandomState) else None,
        )

    def restore(self, estimator):
        vars(estimator).clear()
        vars(estimator).update(self.attributes)
        if self.module_state is not None:
            estimator.module_.load_state_dict(self.module_state)
        if self.optimizer_state is not None:
            estimator._optimizer.load_state_dict(self.optimizer_state)
        if self.random_state is not None:
            estimator._random_state.set_state(self.random_state)
