"""The peer of `deno task bench drift`: numpy/scipy/pandas computing the statistics of both drift
presets, column by column, as tasks/drift/detect.ts defines them.

Reads the data the TypeScript side wrote (raw float64 columns with NaN for missing, uint8 category
codes with 255 for missing) and times, for each preset:

- default (the honest policy): per numeric column the missing counts, the reference's distinct
  count (KS when > 5), scipy's ks_2samp (effect D less its null expectation), the report's histogram
  (Sturges edges when the reference has > 20 distinct values, else one bin per value) and the
  missing-share conditional binomial test; per categorical column the value counts, the two-sample
  χ² with rare categories pooled (Fisher's exact test for a pooled cell still below 5 expected), the
  histogram (top 19 categories and "(other)"), the missing-share and unseen-share tests; then Holm's
  correction over every p-value (a missing-share check with no missing value on either side stays
  out, as in detect.ts).
- evidently: per numeric column wasserstein_distance over the reference's std (when the values are
  more than 5 distinct) and the histogram; per categorical column the Jensen–Shannon distance of the
  value-count shares and the histogram; the missing shares (no tests, no correction).

Runs both presets `repeat` times (argv[2], default 1) and prints one JSON object: the fastest
seconds per preset and the values the bench cross-checks.
"""
import json
import math
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

KOLMOGOROV_MEAN = math.sqrt(math.pi / 2) * math.log(2)
MIN_EXPECTED = 5
TOP_CATEGORIES = 20
Z_GAMMA = 3.7190164854556804
UNSEEN_GAMMA = 1e-4


def missing_test(miss_r, total_r, miss_c, total_c):
    """Conditional binomial test of the missing share (policy_stats.missingShareTest)."""
    total = miss_r + miss_c
    if total == 0:
        return {"p": 1.0, "informative": False}
    q = total_c / (total_r + total_c)
    upper = stats.binom.sf(miss_c - 1, total, q)
    lower = stats.binom.cdf(miss_c, total, q)
    return {"p": float(min(1.0, 2 * min(upper, lower))), "informative": True}


def numeric_histogram(r, c, ref_distinct):
    """detect.ts histogramOf / Evidently's get_binned_data for numbers (shares, empty bins kept)."""
    if ref_distinct > 20:
        edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
        return np.histogram(r, edges)[0] / len(r), np.histogram(c, edges)[0] / len(c)
    values = np.union1d(pd.unique(r), pd.unique(c))
    rc, cc = pd.Series(r).value_counts(), pd.Series(c).value_counts()
    return (rc.reindex(values, fill_value=0).to_numpy() / len(r),
            cc.reindex(values, fill_value=0).to_numpy() / len(c))


def category_counts(ref, cur):
    rc, cc = ref.value_counts(), cur.value_counts()
    keys = rc.index.union(cc.index).sort_values()
    return keys, rc, cc, rc.reindex(keys, fill_value=0).to_numpy(float), cc.reindex(
        keys, fill_value=0).to_numpy(float)


def category_histogram(a, b):
    """Shares per category; over 20 categories, the 19 most frequent and "(other)"."""
    rs, cs = a / a.sum(), b / b.sum()
    if len(rs) > TOP_CATEGORIES:
        order = np.argsort(-(rs + cs), kind="stable")
        keep, rest = order[:TOP_CATEGORIES - 1], order[TOP_CATEGORIES - 1:]
        rs = np.append(rs[keep], rs[rest].sum())
        cs = np.append(cs[keep], cs[rest].sum())
    return rs, cs


def chi_square_pooled(a, b):
    """policy_stats.chiSquarePooledTest on count vectors (the Monte Carlo branch is not needed here)."""
    nR, nC = a.sum(), b.sum()
    N, small = nR + nC, min(nR, nC)
    keep = small * (a + b) / N >= MIN_EXPECTED
    cells = [(x, y) for x, y in zip(a[keep], b[keep])]
    oR, oC = a[~keep].sum(), b[~keep].sum()
    if not cells and len(a) > 1:
        raise NotImplementedError("every category is rare: the Monte Carlo branch")
    exact = None
    if oR + oC > 0:
        if small * (oR + oC) / N >= MIN_EXPECTED or not cells:
            cells.append((oR, oC))
        else:
            exact = stats.fisher_exact([[oR, nR - oR], [oC, nC - oC]]).pvalue
    allc = np.array(cells + ([] if exact is None else [(oR, oC)]))
    spread = math.sqrt(2 / math.pi * (1 / nR + 1 / nC))
    share = allc.sum(axis=1) / N
    tv = np.abs(allc[:, 0] / nR - allc[:, 1] / nC).sum() / 2
    null_tv = (spread * np.sqrt(share * (1 - share))).sum() / 2
    if len(cells) < 2:
        if exact is not None:
            return 0.0, exact, tv, null_tv
        return 0.0, 1.0, 0.0, 0.0
    cells = np.array(cells)
    mR = nR - (0 if exact is None else oR)
    mC = nC - (0 if exact is None else oC)
    M = mR + mC
    total = cells.sum(axis=1)
    eR, eC = mR * total / M, mC * total / M
    stat = float(((cells[:, 0] - eR) ** 2 / eR + (cells[:, 1] - eC) ** 2 / eC).sum())
    p_chi = stats.chi2.sf(stat, len(cells) - 1)
    p = p_chi if exact is None else min(1.0, 2 * min(p_chi, exact))
    return stat, float(p), tv, null_tv


def unseen_test(rc, cc, nR, nC):
    f1, f2 = int((rc == 1).sum()), int((rc == 2).sum())
    unseen = int(cc[~cc.index.isin(rc.index)].sum())
    m = f1 / nR
    sd = math.sqrt(f1 * (1 - m) + 2 * f2 + 1) / nR
    bound = min(1.0, m + Z_GAMMA * sd)
    p = 1.0 if unseen == 0 else min(1.0, stats.binom.sf(unseen - 1, nC, bound) + UNSEEN_GAMMA)
    return float(p), unseen / nC


def holm(p):
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def default_preset(numeric, categorical):
    out, family = {}, []
    for name, (ref, cur) in numeric.items():
        ok_r, ok_c = np.isfinite(ref), np.isfinite(cur)
        r, c = ref[ok_r], cur[ok_c]
        ref_distinct = len(pd.unique(r))
        if ref_distinct <= 5:
            raise NotImplementedError("a numeric column with few values: the pooled χ² branch")
        ks = stats.ks_2samp(r, c)
        null = KOLMOGOROV_MEAN * math.sqrt(1 / len(r) + 1 / len(c))
        hr, hc = numeric_histogram(r, c, ref_distinct)
        miss = missing_test(len(ref) - len(r), len(ref), len(cur) - len(c), len(cur))
        out[name] = {"statistic": float(ks.statistic), "p": float(ks.pvalue),
                     "effect": max(0.0, float(ks.statistic) - null),
                     "hist": np.concatenate([hr, hc]).tolist(), "missing_p": miss["p"]}
        family.append((name, "p", float(ks.pvalue)))
        if miss["informative"]:
            family.append((name, "missing_p", miss["p"]))
    for name, (ref, cur) in categorical.items():
        miss_r, miss_c = int(ref.isna().sum()), int(cur.isna().sum())
        keys, rc, cc, a, b = category_counts(ref, cur)
        stat, p, tv, null_tv = chi_square_pooled(a, b)
        hr, hc = category_histogram(a, b)
        miss = missing_test(miss_r, len(ref), miss_c, len(cur))
        unseen_p, _ = unseen_test(rc, cc, a.sum(), b.sum())
        out[name] = {"statistic": stat, "p": p, "effect": max(0.0, tv - null_tv),
                     "hist": np.concatenate([hr, hc]).tolist(), "missing_p": miss["p"],
                     "unseen_p": unseen_p}
        family.append((name, "p", p))
        if miss["informative"]:
            family.append((name, "missing_p", miss["p"]))
        family.append((name, "unseen_p", unseen_p))
    adjusted = holm([f[2] for f in family])
    for (name, key, _), adj in zip(family, adjusted):
        out[name]["adj_" + key] = float(adj)
    return out


def evidently_preset(numeric, categorical):
    out = {}
    for name, (ref, cur) in numeric.items():
        r, c = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        ref_distinct = len(pd.unique(r))
        # the union has more than 5 distinct values whenever the reference has
        if ref_distinct <= 5 and len(pd.unique(np.concatenate([r, c]))) <= 5:
            raise NotImplementedError("a numeric column with few values: the Jensen–Shannon branch")
        wd = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
        hr, hc = numeric_histogram(r, c, ref_distinct)
        out[name] = {"statistic": float(wd), "hist": np.concatenate([hr, hc]).tolist(),
                     "null_share": [1 - len(r) / len(ref), 1 - len(c) / len(cur)]}
    for name, (ref, cur) in categorical.items():
        miss_r, miss_c = int(ref.isna().sum()), int(cur.isna().sum())
        keys, rc, cc, a, b = category_counts(ref, cur)
        js = distance.jensenshannon(a / a.sum(), b / b.sum())
        hr, hc = category_histogram(a, b)
        out[name] = {"statistic": float(js), "hist": np.concatenate([hr, hc]).tolist(),
                     "null_share": [miss_r / len(ref), miss_c / len(cur)]}
    return out


def main(folder, repeat):
    meta = json.load(open(f"{folder}/meta.json"))
    numeric = {name: (np.fromfile(f"{folder}/{name}.ref.f64"), np.fromfile(f"{folder}/{name}.cur.f64"))
               for name in meta["numeric"]}
    categorical = {}
    for name, sides in meta["categorical"].items():
        series = []
        for side in ("ref", "cur"):
            lab = np.array(sides[side] + [None] * (256 - len(sides[side])), dtype=object)
            series.append(pd.Series(lab[np.fromfile(f"{folder}/{name}.{side}.u8", dtype=np.uint8)]))
        categorical[name] = tuple(series)
    seconds = {"default": math.inf, "evidently": math.inf}
    for _ in range(repeat):  # the fastest of `repeat` runs, as the TypeScript side
        t0 = time.perf_counter()
        default = default_preset(numeric, categorical)
        t1 = time.perf_counter()
        evidently = evidently_preset(numeric, categorical)
        t2 = time.perf_counter()
        seconds["default"] = min(seconds["default"], t1 - t0)
        seconds["evidently"] = min(seconds["evidently"], t2 - t1)
    print(json.dumps({"default_seconds": seconds["default"], "evidently_seconds": seconds["evidently"],
                      "default": default, "evidently": evidently}))


main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
