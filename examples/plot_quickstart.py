"""
Quick start: distil a PyTorch network into a tiny MLP
=====================================================

A network of about 300,000 parameters is trained on scikit-learn's bundled digits (8x8 images,
10 classes). :class:`~skdistill.DistilledClassifier` then trains a student of under 700
parameters to imitate it, and we compare that student with the same student trained on the labels
alone. Everything runs on the CPU in a few seconds.
"""

# %%
# Data: scikit-learn's digits, half for training, half held out.
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, MLPStudent

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train = scaler.transform(X_train).astype(np.float32)
X_test = scaler.transform(X_test).astype(np.float32)

# %%
# The teacher: an ordinary PyTorch network, trained the ordinary way. Any trained ``nn.Module``
# that returns logits will do.
torch.manual_seed(0)
teacher = torch.nn.Sequential(
    torch.nn.Linear(64, 512),
    torch.nn.ReLU(),
    torch.nn.Dropout(0.3),
    torch.nn.Linear(512, 512),
    torch.nn.ReLU(),
    torch.nn.Dropout(0.3),
    torch.nn.Linear(512, 10),
)
optimizer = torch.optim.Adam(teacher.parameters(), lr=1e-3)
X_tensor, y_tensor = torch.from_numpy(X_train), torch.from_numpy(y_train)
for epoch in range(60):
    for batch in torch.randperm(len(X_tensor)).split(64):
        loss = torch.nn.functional.cross_entropy(teacher(X_tensor[batch]), y_tensor[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
teacher.eval()
with torch.no_grad():
    teacher_accuracy = (teacher(torch.from_numpy(X_test)).argmax(dim=1).numpy() == y_test).mean()

# %%
# The student: an MLP with one hidden layer of 8 units. ``T=4`` softens the teacher's
# probabilities so the student also learns which wrong digits the teacher finds plausible;
# ``alpha=0.1`` keeps a little weight on the true labels.
student = MLPStudent(hidden_layer_sizes=(8,), max_iter=300, learning_rate_init=0.01, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    distilled = DistilledClassifier(teacher, student, T=4.0, alpha=0.1).fit(X_train, y_train)
    # The baseline: the same student, trained on the labels alone.
    on_labels = MLPStudent(hidden_layer_sizes=(8,), max_iter=300, learning_rate_init=0.01, random_state=0)
    on_labels.fit(X_train, y_train)


def n_parameters(module):
    return sum(parameter.numel() for parameter in module.parameters())


print(f"{'model':<38}{'parameters':>12}{'held-out accuracy':>20}")
print(f"{'teacher (PyTorch MLP 512-512)':<38}{n_parameters(teacher):>12,}{teacher_accuracy:>20.3f}")
print(
    f"{'distilled student (MLP 8)':<38}{n_parameters(distilled.student_.module_):>12,}"
    f"{distilled.score(X_test, y_test):>20.3f}"
)
print(
    f"{'same student trained on labels':<38}{n_parameters(on_labels.module_):>12,}"
    f"{on_labels.score(X_test, y_test):>20.3f}"
)
agreement = np.mean(distilled.predict(X_test) == distilled.teacher_.predict(X_test))
print(f"distilled student agrees with the teacher on {agreement:.1%} of held-out digits")
