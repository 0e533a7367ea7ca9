"""A fitted gradient-boosted tree ensemble and an isotonic calibrator as plain numpy arrays.

scikit-learn's ``HistGradientBoostingClassifier`` predicts tree by tree with OpenMP threads: on a
busy 2-core machine that costs ~5 ms per tree for a few hundred rows (over a second per document).
Here all trees are walked at once with vectorized numpy (well under a millisecond per document),
and the shipped model holds only arrays, so it does not depend on scikit-learn's pickle format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TreeEnsemble:
    """Binary classifier: sigmoid(baseline + sum of the leaf values each row reaches)."""

    baseline: float
    roots: np.ndarray  # (trees,) node index of each tree's root
    feature: np.ndarray  # per node
    threshold: np.ndarray  # go left when x[feature] <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    is_leaf: np.ndarray
    depth: int

    @classmethod
    def from_sklearn(cls, model) -> TreeEnsemble:
        """From a fitted binary ``HistGradientBoostingClassifier`` (numeric features, no NaN)."""
        parts, roots, offset, depth = [], [], 0, 0
        for (tree,) in model._predictors:
            nodes = tree.nodes
            if nodes["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            roots.append(offset)
            parts.append(
                (
                    nodes["feature_idx"],
                    nodes["num_threshold"],
                    nodes["left"].astype(np.int64) + offset,
                    nodes["right"].astype(np.int64) + offset,
                    nodes["value"],
                    nodes["is_leaf"].astype(bool),
                )
            )
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)
        cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
        return cls(
            float(np.ravel(model._baseline_prediction)[0]),
            np.asarray(roots, np.int64),
            cols[0].astype(np.int64),
            cols[1].astype(np.float64),
            cols[2],
            cols[3],
            cols[4].astype(np.float64),
            cols[5],
            depth,
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if len(x) == 0:
            return np.zeros(0)
        rows = np.arange(len(x))[:, None]
        idx = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth + 1):
            leaf = self.is_leaf[idx]
            if leaf.all():
                break
            go_left = x[rows, self.feature[idx]] <= self.threshold[idx]
            idx = np.where(leaf, idx, np.where(go_left, self.left[idx], self.right[idx]))
        raw = self.baseline + self.value[idx].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class Isotonic:
    """A fitted isotonic regression: linear interpolation between its thresholds, clipped."""

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def from_sklearn(cls, model) -> Isotonic:
        return cls(np.asarray(model.X_thresholds_, np.float64), np.asarray(model.y_thresholds_, np.float64))

    def predict(self, p: np.ndarray) -> np.ndarray:
        return np.interp(p, self.x, self.y)
