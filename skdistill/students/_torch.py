"""TorchStudent: any user ``nn.Module`` as a student, trained as a scikit-learn classifier."""

import copy

import torch

from ._neural_base import _BaseTorchStudent


class TorchStudent(_BaseTorchStudent):
    """A user's torch module as a scikit-learn classifier, trainable on labels or from a teacher.

    The module given is a template: each fit trains a deep copy of it, starting from the template's
    current weights, and stores the trained copy as ``module_``. Training uses whole-tensor index
    batches (no per-sample ``DataLoader`` collation), so it is as lean as a hand-written loop.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a float tensor of shape (n, n_features) to logits of shape (n, n_classes).
    max_iter : int, default=200
        Maximum number of epochs.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step; ``"auto"`` is ``min(200, n_samples)``, as in
        :class:`~sklearn.neural_network.MLPClassifier`.
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
        Hold out ``validation_fraction`` of the rows (stratified by label when possible), stop when the
        validation loss stops improving, and keep the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (of the training loss, or of the validation
        loss with early stopping) before training stops.
    tol : float, default=1e-4
        The smallest improvement that counts.
    random_state : int, RandomState instance or None, default=None
        Seeds the row order, the validation split and dropout masks through local generators; torch's
        and numpy's global generators are never seeded. The same value gives the same predictions.
        ``torch.nn.Dropout`` layers of the module draw their masks from the local generator during
        training (they are swapped for an equivalent layer in the training copy, then put back).
        Other random operations in the module's own ``forward`` (``F.dropout``, ``torch.rand``) use
        torch's global generator: seed it yourself if you need bit-for-bit repeatable fits.
    device : {"auto", "cpu", "cuda"}, str, torch.device or None, default="cpu"
        Where training and prediction run; ``"auto"`` picks CUDA when available.
    verbose : bool, default=False
        Show a tqdm progress bar over epochs with the current loss (needs ``tqdm``).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained copy of ``module``, in eval mode.
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
    MLPStudent : A ready-made multi-layer perceptron student.
    DistilledClassifier : Trains a student from a teacher.

    Examples
    --------
    >>> import torch
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import TorchStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    >>> clf = TorchStudent(net, max_iter=300, learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        "module": [torch.nn.Module],
        **_BaseTorchStudent._parameter_constraints,
    }

    def __init__(
        self,
        module,
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
        self.module = module
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

    def _initial_module(self, n_features, n_classes, generator):
        return copy.deepcopy(self.module)

    def check_module(self, X_probe, n_outputs=None, *, regression=False):
        """Raise if the module cannot take the rows ``X_probe`` or does not return ``n_outputs`` columns.

        The distiller calls this before its teacher runs. The module runs in eval mode, without
        gradients, and is left as it was.

        Parameters
        ----------
        X_probe : ndarray of shape (n_probe, n_features)
            A few rows of the training data.
        n_outputs : int, default=None
            The number of classes (or regression outputs) the module must score; None checks only that
            it takes ``X_probe``.
        regression : bool, default=False
            Whether the columns are regression outputs (for the error message).
        """
        self._check_output_width(self.module, X_probe, n_outputs, regression=regression)
