"""The torch training loop of neural students: tensors moved once, index batches, no DataLoader."""

import copy
import math
import warnings
from dataclasses import dataclass

import torch
from sklearn.exceptions import ConvergenceWarning

from .._torch_utils import eval_mode
from ..losses import KLDistillationLoss


class TrainingInterruptedWarning(UserWarning):
    """Warns that a neural student's training was stopped by ``KeyboardInterrupt`` (Ctrl-C).

    Pressing Ctrl-C while a neural student trains stops the training cleanly, as in skorch: ``fit``
    returns a usable estimator with the epochs completed so far (``n_iter_``; with early stopping,
    the weights of the best validation epoch), and issues this warning. Nothing passed to ``fit``
    is changed. An interrupted ``partial_fit`` raises ``KeyboardInterrupt`` as usual. Under
    ``GridSearchCV`` or ``cross_validate``, Ctrl-C ends the training of the current fit only and the
    search goes on with the next candidate. To let Ctrl-C stop the whole search, turn this warning
    into an error (``warnings.simplefilter("error", TrainingInterruptedWarning)``) and pass
    ``error_score="raise"`` to the search, which otherwise records a failed fit and goes on.

    See Also
    --------
    MLPStudent : A multi-layer perceptron student.

    Examples
    --------
    >>> import warnings
    >>> from skdistill import TrainingInterruptedWarning
    >>> with warnings.catch_warnings():
    ...     # within this block, an interrupted fit raises instead of returning early
    ...     warnings.simplefilter("error", TrainingInterruptedWarning)
    """


@dataclass
class TrainingRows:
    """The tensors of one set of rows (training or validation), all on the training device.

    ``teacher_log_probs`` is the loss's precomputed teacher term (``loss.teacher_term``: for the KL
    loss ``log(softmax(teacher_logits / T))``), computed once per fit, or ``None`` when the loss does
    not use the teacher; ``weight`` is the sample weight rescaled to mean 1 over the training rows, or
    ``None``; ``labelled`` is 1 for labelled and 0 for unlabelled rows, or ``None`` when every row is
    labelled.
    """

    X: torch.Tensor
    y: torch.Tensor | None
    teacher_log_probs: torch.Tensor | None
    weight: torch.Tensor | None
    labelled: torch.Tensor | None = None

    def __len__(self):
        return self.X.shape[0]

    def subset(self, index):
        tensors = (self.X, self.y, self.teacher_log_probs, self.weight, self.labelled)
        return TrainingRows(*(None if tensor is None else tensor[index] for tensor in tensors))


@dataclass
class TrainingHistory:
    """What one training run leaves behind."""

    n_iter: int
    loss_curve: list
    validation_loss_curve: list | None
    best_loss: float | None
    best_validation_loss: float | None


def _mean_loss(module, rows, loss):
    loss = loss.per_sample(module(rows.X), rows.teacher_log_probs, rows.y, rows.labelled)
    if rows.weight is not None:
        loss = loss * rows.weight
    return loss.mean()


class _EpochPlan:
    """The minibatch bounds of an epoch over ``n_rows`` rows, and one epoch of training steps."""

    def __init__(self, n_rows, batch_size, like):
        self.n_rows = n_rows
        self.bounds = [(start, min(start + batch_size, n_rows)) for start in range(0, n_rows, batch_size)]
        if len(self.bounds) > 1 and self.bounds[-1][1] - self.bounds[-1][0] == 1:
            # A last batch of one row breaks batch norm in training mode: fold it into the one before.
            self.bounds[-2:] = [(self.bounds[-2][0], n_rows)]
        sizes = [stop - start for start, stop in self.bounds]
        self.batch_sizes = torch.tensor(sizes, device=like.device, dtype=like.dtype)

    def run(self, module, optimizer, rows, loss, *, generator):
        """One epoch in a random order drawn from ``generator``; returns the epoch's mean loss."""
        order = torch.randperm(self.n_rows, generator=generator).to(rows.X.device)
        batch_losses = []
        for start, stop in self.bounds:
            batch = rows.subset(order[start:stop])
            batch_loss = _mean_loss(module, batch, loss)
            optimizer.zero_grad(set_to_none=True)
            batch_loss.backward()
            optimizer.step()
            batch_losses.append(batch_loss.detach())
        # One synchronisation per epoch: the mean loss over the epoch's rows.
        mean_loss = float(torch.stack(batch_losses) @ self.batch_sizes) / self.n_rows
        if not math.isfinite(mean_loss):
            raise ValueError(
                f"The training loss became {mean_loss} (NaN or infinite): the weights diverged or the loss gave a "
                "non-finite value. Lower learning_rate_init, or check a loss function of your own."
            )
        return mean_loss


def train_one_epoch(module, optimizer, rows, loss, *, batch_size, shuffle_generator):
    """One pass over ``rows`` in minibatches (``partial_fit``); ``module`` is left in eval mode.

    Returns
    -------
    float
        The mean training loss over the epoch's rows.
    """
    module.train()
    try:
        plan = _EpochPlan(len(rows), min(batch_size, len(rows)), rows.X)
        return plan.run(module, optimizer, rows, loss, generator=shuffle_generator)
    finally:
        module.eval()


def _validation_loss(module, rows, loss):
    with eval_mode(module), torch.inference_mode():
        return float(_mean_loss(module, rows, loss))


def train(
    module,
    optimizer,
    train_rows,
    validation_rows,
    loss=None,
    *,
    T=None,
    alpha=None,
    max_iter,
    batch_size,
    tol,
    n_iter_no_change,
    shuffle_generator,
    progress,
):
    """Train ``module`` in place with minibatch steps; stop as :class:`~sklearn.neural_network.MLPClassifier` does.

    Without validation rows, training stops once the epoch's training loss has failed to improve by
    ``tol`` for more than ``n_iter_no_change`` consecutive epochs. With validation rows, the same rule
    applies to the validation loss, and the weights of the best validation epoch are restored.

    Parameters
    ----------
    module : torch.nn.Module
        Trained in place; left in eval mode.
    optimizer : torch.optim.Optimizer
    train_rows, validation_rows : TrainingRows (validation_rows may be None)
    loss : loss object, default=None
        What each row costs (see :mod:`skdistill.losses`: ``per_sample``).
    T, alpha : float, default=None
        Shorthand for ``loss=KLDistillationLoss(T, alpha)`` when ``loss`` is None.
    max_iter : int
        Maximum number of epochs.
    batch_size : int
    tol : float
    n_iter_no_change : int
    shuffle_generator : torch.Generator
        Draws each epoch's row order (on the CPU).
    progress : tqdm-like or None
        Updated once per epoch with the current loss.

    Returns
    -------
    TrainingHistory
    """
    if loss is None:
        loss = KLDistillationLoss(T, alpha)
    loss_curve, validation_loss_curve = [], [] if validation_rows is not None else None
    best_loss, best_validation_loss, best_state = float("inf"), float("inf"), None
    no_improvement_count = 0
    epoch_plan = _EpochPlan(len(train_rows), batch_size, train_rows.X)
    module.train()
    n_iter = 0
    try:
        for epoch in range(max_iter):
            loss_curve.append(
                epoch_plan.run(module, optimizer, train_rows, loss, generator=shuffle_generator)
            )
            if validation_rows is None:
                current, best = loss_curve[-1], best_loss
                best_loss = min(best_loss, current)
            else:
                validation_loss_curve.append(_validation_loss(module, validation_rows, loss))
                current, best = validation_loss_curve[-1], best_validation_loss
                if current < best_validation_loss:
                    best_validation_loss = current
                    best_state = copy.deepcopy(module.state_dict())
            n_iter = epoch + 1
            no_improvement_count = no_improvement_count + 1 if current > best - tol else 0
            if progress is not None:
                progress.set_postfix(loss=f"{loss_curve[-1]:.4g}", refresh=False)
                progress.update(1)
            if no_improvement_count > n_iter_no_change:
                break
        else:
            warnings.warn(
                f"Maximum iterations ({max_iter}) reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
    except KeyboardInterrupt:
        # Ctrl-C stops training, as in skorch: the model keeps what it learnt so far, and fit returns.
        del loss_curve[n_iter:]
        if validation_loss_curve is not None:
            del validation_loss_curve[n_iter:]
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) after {n_iter} complete epoch(s) of at most "
            f"{max_iter}; the model keeps the weights trained so far"
            + (" (those of the best validation epoch)." if best_state is not None else "."),
            TrainingInterruptedWarning,
            stacklevel=2,
        )
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return TrainingHistory(
        n_iter=n_iter,
        loss_curve=loss_curve,
        validation_loss_curve=validation_loss_curve,
        best_loss=None if validation_rows is not None or not loss_curve else best_loss,
        best_validation_loss=None if validation_rows is None else best_validation_loss,
    )
