"""The peers of `deno task bench models`: LightGBM (on all cores and on one), scikit-learn's
HistGradientBoostingClassifier
and LogisticRegression on the same flights train/test split the TypeScript side wrote, with equal
settings. Prints one JSON object with each model's ROC AUC, training seconds and predict rows/s.
"""
import json
import sys
import time
import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore")
NUMERIC = ["month", "day_of_month", "day_of_week", "hour", "distance"]
CATEGORICAL = ["origin", "destination"]


def load(folder, part, meta):
    cols = {c: np.fromfile(f"{folder}/{part}.{c}.f64") for c in NUMERIC}
    for c in CATEGORICAL:
        codes = np.fromfile(f"{folder}/{part}.{c}.u16", dtype=np.uint16)
        cols[c] = pd.Categorical.from_codes(codes, categories=meta["categories"][c])
    y = np.fromfile(f"{folder}/{part}.late.u8", dtype=np.uint8)
    return pd.DataFrame(cols), y


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def throughput(predict, X):
    best = float("inf")
    for _ in range(3):
        _, s = timed(lambda: predict(X))
        best = min(best, s)
    return len(X) / best


def main(folder):
    meta = json.load(open(f"{folder}/meta.json"))
    Xtr, ytr = load(folder, "train", meta)
    Xte, yte = load(folder, "test", meta)
    out = {}
    lgbm, s = timed(lambda: lgb.LGBMClassifier(
        n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255, verbose=-1, random_state=1,
    ).fit(Xtr, ytr))
    out["lightgbm"] = {"auc": roc_auc_score(yte, lgbm.predict_proba(Xte)[:, 1]), "train_s": s,
                       "rows_per_s": throughput(lgbm.predict_proba, Xte)}
    # one thread too: on a shared, busy machine OpenMP's spinning threads can make the all-core
    # time many times slower, and the one-thread time still says where our trainer stands
    lgbm1, s = timed(lambda: lgb.LGBMClassifier(
        n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255, verbose=-1, random_state=1,
        n_jobs=1,
    ).fit(Xtr, ytr))
    out["lightgbm_1thread"] = {"auc": roc_auc_score(yte, lgbm1.predict_proba(Xte)[:, 1]),
                               "train_s": s, "rows_per_s": throughput(lgbm1.predict_proba, Xte)}
    hgb, s = timed(lambda: HistGradientBoostingClassifier(
        max_iter=100, max_leaf_nodes=31, learning_rate=0.1, max_bins=255, early_stopping=False,
        categorical_features="from_dtype", random_state=1,
    ).fit(Xtr, ytr))
    out["sklearn_hgb"] = {"auc": roc_auc_score(yte, hgb.predict_proba(Xte)[:, 1]), "train_s": s,
                          "rows_per_s": throughput(hgb.predict_proba, Xte)}
    logistic, s = timed(lambda: make_pipeline(
        ColumnTransformer([("num", StandardScaler(), NUMERIC),
                           ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)]),
        LogisticRegression(C=1.0, max_iter=1000),
    ).fit(Xtr, ytr))
    out["sklearn_logistic"] = {"auc": roc_auc_score(yte, logistic.predict_proba(Xte)[:, 1]), "train_s": s,
                               "rows_per_s": throughput(logistic.predict_proba, Xte)}
    print(json.dumps(out))


main(sys.argv[1])
