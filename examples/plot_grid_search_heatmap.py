"""
Grid-search the temperature and the label weight
================================================

``T`` and ``alpha`` are ordinary parameters, so ``GridSearchCV`` tunes them like any other (and the
student's own too, as ``student__C``). The heatmap shows the cross-validated accuracy of a logistic
regression distilled from a network, over ``T`` x ``alpha``. The teacher's outputs are cached, so
the network runs once per fold and once for the refit, not once per candidate.
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split

from skdistill import DistilledClassifier, MLPStudent, teacher_cache_info
from skdistill.display import GridSearchHeatmapDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

# The teacher: a PyTorch MLP (trained with skdistill's MLPStudent for brevity).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    teacher = MLPStudent(hidden_layer_sizes=(256,), max_iter=100, random_state=0).fit(X_train, y_train).module_

# %%
search = GridSearchCV(
    DistilledClassifier(teacher, LogisticRegression(max_iter=300, tol=1e-3)),
    {"T": [1.0, 2.0, 4.0, 8.0], "alpha": [0.0, 0.5, 1.0]},
    cv=3,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)
n_fits = len(search.cv_results_["params"]) * search.n_splits_ + 1
cache = teacher_cache_info()
print(f"teacher passes: {cache.misses} for {n_fits} fits ({cache.hits} answered from the cache)")
print(f"best parameters: {search.best_params_}")
print(f"held-out accuracy of the best student: {search.score(X_test, y_test):.3f}")

# %%
display = GridSearchHeatmapDisplay.from_cv_results(search.cv_results_, x="T", y="alpha")
display.ax_.set_title("cross-validated accuracy")
plt.show()
