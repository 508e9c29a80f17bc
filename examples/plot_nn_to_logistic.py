"""
Neural network to logistic regression: a model whose coefficients can be read
=============================================================================

A neural network diagnoses breast tumours (scikit-learn's bundled Wisconsin data) well, but nobody
can read its 10,000 weights. We distil it into a logistic regression: one coefficient per named
feature. The regression learns the network's soft probabilities exactly (the cross-entropy to them,
with the regression's own L2 penalty), not just its yes/no answers.
"""

# %%
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, MLPStudent

data = load_breast_cancer(as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.4, stratify=data.target, random_state=0
)
scaler = StandardScaler().set_output(transform="pandas").fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# The teacher: a PyTorch MLP (any trained ``nn.Module`` returning logits would do; we train one
# with skdistill's MLPStudent for brevity).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network = MLPStudent(hidden_layer_sizes=(128, 64), max_iter=100, random_state=0).fit(X_train, y_train)
teacher = network.module_

# %%
# The student: a logistic regression on the 30 named features. ``T=2`` softens the teacher's
# probabilities; ``alpha=0.2`` keeps some weight on the true labels.
distilled = DistilledClassifier(teacher, LogisticRegression(C=0.1), T=2.0, alpha=0.2).fit(X_train, y_train)
on_labels = LogisticRegression(C=0.1).fit(X_train, y_train)
teacher_labels = distilled.teacher_.predict(X_test)

print(f"{'model':<36}{'held-out accuracy':>18}{'agrees with teacher':>21}")
print(f"{'teacher (PyTorch MLP 128-64)':<36}{np.mean(teacher_labels == y_test):>18.3f}{1.0:>21.3f}")
for name, model in [("distilled logistic regression", distilled), ("logistic regression on labels", on_labels)]:
    print(f"{name:<36}{model.score(X_test, y_test):>18.3f}{np.mean(model.predict(X_test) == teacher_labels):>21.3f}")
print(f"route: {distilled.route_}; student_ is a plain {type(distilled.student_).__name__}")

# %%
# Read the coefficients: the log-odds of "benign" per standard deviation of each feature.
coefficients = pd.Series(distilled.student_.coef_[0], index=distilled.student_.feature_names_in_)
print("\nlargest effects (log-odds of benign per standard deviation):")
print(coefficients.reindex(coefficients.abs().sort_values(ascending=False).index).head(8).round(3).to_string())
