"""MLPStudent: a multi-layer perceptron built at fit time for the data's width and classes."""

import math
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._neural_base import _BaseTorchStudent

_ACTIVATIONS = {
    "identity": torch.nn.Identity,
    "logistic": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "gelu": torch.nn.GELU,
}


def build_mlp(n_features, hidden_layer_sizes, n_classes, *, activation, dropout, generator):
    """A ``torch.nn.Sequential`` MLP, initialised from ``generator`` only.

    Layers are created on the meta device (no memory, no random draws) and then initialised as torch
    initialises ``nn.Linear`` by default, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and
    biases, but drawing from ``generator`` so torch's global RNG is neither used nor seeded.
    """
    widths = [n_features, *hidden_layer_sizes, n_classes]
    layers = []
    with torch.device("meta"):
        for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(torch.nn.Linear(fan_in, fan_out))
            if index < len(widths) - 2:
                layers.append(_ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(torch.nn.Dropout(dropout))
    module = torch.nn.Sequential(*layers).to_empty(device="cpu")
    with torch.no_grad():
        for layer in module:
            if isinstance(layer, torch.nn.Linear):
                bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features else 0.0
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return module


class MLPStudent(_BaseTorchStudent):
    """A multi-layer perceptron student in PyTorch, with :class:`~sklearn.neural_network.MLPClassifier`'s knobs.

    The network ``n_features -> hidden layers -> n_classes`` is built at fit time, so the same
    ``MLPStudent`` fits any data. Alone, ``fit(X, y)`` trains it on labels (the baseline a distilled
    student is compared with); inside :class:`~skdistill.DistilledClassifier` it is trained from a
    teacher.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear (softmax regression) student.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer, during training only. Masks are drawn from a
        generator seeded by ``random_state``.
    max_iter : int, default=200
        Maximum number of epochs.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=0.001
        The optimiser's learning rate.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimiser.
    optimizer : {"adam", "adamw", "sgd"} or callable, default="adam"
        ``"adam"`` and ``"adamw"`` use torch's fused kernel where it runs (CUDA; CPU from torch 2.4).
        ``"sgd"`` is SGD with Nesterov momentum 0.9. A callable is called as
        ``optimizer(parameters, lr=learning_rate_init, weight_decay=weight_decay)`` and must return a
        :class:`torch.optim.Optimizer`, e.g. ``functools.partial(torch.optim.SGD, momentum=0.5)``; one
        that does not accept both keywords (``lambda params: ...``) is refused with a ``TypeError``
        before any work.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when the validation loss stops improving, and
        keep the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before training stops.
    tol : float, default=1e-4
        The smallest improvement that counts.
    random_state : int, RandomState instance or None, default=None
        Seeds initial weights, row order, validation split and dropout through local generators; the
        global RNGs are never seeded. The same value gives the same predictions.
    device : {"auto", "cpu", "cuda"}, str, torch.device or None, default="cpu"
        Where training and prediction run.
    verbose : bool, default=False
        Show a tqdm progress bar over epochs with the current loss (needs ``tqdm``).

    Attributes
    ----------
    module_ : torch.nn.Sequential
        The trained network, in eval mode.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
        Mean training loss of each epoch.
    best_loss_ : float or None
        Lowest training loss; ``None`` with early stopping.
    validation_loss_curve_ : list of float or None
        Validation loss of each epoch with early stopping, else ``None``.
    best_validation_loss_ : float or None
        Lowest validation loss with early stopping, else ``None``.

    See Also
    --------
    TorchStudent : Any torch module as a student.
    DistilledClassifier : Trains a student from a teacher.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import MLPStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPStudent(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **_BaseTorchStudent._parameter_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        *,
        max_iter=200,
        batch_size="auto",
        learning_rate_init=0.001,
        weight_decay=0.0,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        device="cpu",
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def check_params(self):
        """Validate the parameters now, before any work; raise a clear error if one is wrong."""
        super().check_params()
        sizes = self._hidden_layer_sizes()
        if any(not isinstance(size, Integral) or size < 1 for size in sizes):
            raise ValueError(f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}.")

    def _hidden_layer_sizes(self):
        if isinstance(self.hidden_layer_sizes, Integral):
            return [self.hidden_layer_sizes]
        return list(self.hidden_layer_sizes)

    def _initial_module(self, n_features, n_classes, generator):
        return build_mlp(
            n_features,
            self._hidden_layer_sizes(),
            n_classes,
            activation=self.activation,
            dropout=self.dropout,
            generator=generator,
        )
