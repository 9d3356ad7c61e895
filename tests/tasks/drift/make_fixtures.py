"""Reference values for tasks/drift/stattests.ts, computed with scipy and numpy.

Run: .venv/bin/python tests/tasks/drift/make_fixtures.py > tests/fixtures/drift/stattests.json

Samples are not stored: both sides generate them from the same integer recipe (a 32-bit LCG and
only IEEE-exact arithmetic after it), so the fixture stays small and the inputs identical.
The binned divergences follow Evidently's stattests/utils.py get_binned_data and each test's module.
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def lcg(seed):
    state = seed & 0xFFFFFFFF
    while True:
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        yield state


def sample(spec):
    """Mirror of tests/tasks/drift/fixture_samples.ts."""
    g = lcg(spec["seed"])
    out = []
    kind = spec["kind"]
    for _ in range(spec["n"]):
        if kind == "normal":
            s = next(g) + next(g) + next(g) + next(g)
            v = (s / 4294967296.0 - 2.0) * spec["scale"] + spec["shift"]
        elif kind == "square":
            u = next(g) / 4294967296.0
            v = u * u * spec["scale"] + spec["shift"]
        elif kind == "cat":
            u = next(g) / 4294967296.0
            acc = 0.0
            v = spec["cats"][-1]
            for name, w in zip(spec["cats"], spec["weights"]):
                acc += w
                if u < acc:
                    v = name
                    break
        else:
            raise ValueError(kind)
        if kind != "cat" and "floor" in spec:
            v = np.floor(v * spec["floor"]) / spec["floor"]
        out.append(v)
    if kind == "cat":
        return out
    return np.array(out, dtype=np.float64)


def N(seed, n, scale=1.0, shift=0.0, **kw):
    return dict(kind="normal", seed=seed, n=n, scale=scale, shift=shift, **kw)


def SQ(seed, n, scale=1.0, shift=0.0, **kw):
    return dict(kind="square", seed=seed, n=n, scale=scale, shift=shift, **kw)


def CAT(seed, n, cats, weights):
    return dict(kind="cat", seed=seed, n=n, cats=cats, weights=weights)


def binned(ref, cur, numeric, feel_zeroes):
    """Evidently's get_binned_data."""
    if numeric and len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = list(set(np.unique(ref).tolist()) | set(np.unique(cur).tolist()))
        rv, rc = np.unique(ref, return_counts=True)
        cv, cc = np.unique(cur, return_counts=True)
        rd = dict(zip(rv.tolist(), rc.tolist()))
        cd = dict(zip(cv.tolist(), cc.tolist()))
        rp = np.array([rd.get(k, 0) / len(ref) for k in keys])
        cp = np.array([cd.get(k, 0) / len(cur) for k in keys])
    if feel_zeroes:
        for p in (rp, cp):
            m = min(p[p != 0])
            np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return rp, cp


def hellinger(ref, cur, numeric):
    keys = list(set(np.unique(ref).tolist()) | set(np.unique(cur).tolist()))
    if not numeric:
        rv, rc = np.unique(ref, return_counts=True)
        cv, cc = np.unique(cur, return_counts=True)
        rd = dict(zip(rv.tolist(), (rc / len(ref)).tolist()))
        cd = dict(zip(cv.tolist(), (cc / len(cur)).tolist()))
        h = sum(np.sqrt(rd.get(k, 0) * cd.get(k, 0)) for k in keys)
        return float(np.sqrt(1 - np.clip(h, 0, 1)))
    bins = np.histogram_bin_edges(keys, bins="sturges")
    h1 = np.histogram(ref, bins=bins, density=True)[0]
    h2 = np.histogram(cur, bins=bins, density=True)[0]
    width = (max(bins) - min(bins)) / (len(bins) - 1)
    h = sum(np.sqrt(h1[i] * h2[i]) * width for i in range(len(h1)))
    return float(np.sqrt(1 - np.clip(h, 0, 1)))


def z_test(ref, cur):
    """Evidently's z_stat_test; the target category is the first in sorted order."""
    if len(set(ref)) == 1 and len(set(cur)) == 1 and ref[0] == cur[0]:
        return 0.0, 1.0
    target = sorted(set(ref) | set(cur))[0]
    r = np.array([1 if x == target else 0 for x in ref])
    c = np.array([1 if x == target else 0 for x in cur])
    n1, n2 = len(r), len(c)
    p1, p2 = r.sum() / n1, c.sum() / n2
    P = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - stats.norm.cdf(abs(z))))


def chisq(ref, cur):
    keys = sorted(set(ref) | set(cur))
    k = len(cur) / len(ref)
    exp = [ref.count(key) * k for key in keys]
    obs = [cur.count(key) for key in keys]
    r = stats.chisquare(obs, exp)
    return float(r.statistic), float(r.pvalue)


def pair(a, b):
    return {"ref": a, "cur": b}


numeric_pairs = [
    pair(N(1, 20), N(2, 20, shift=0.4)),
    pair(N(3, 30), N(4, 45, scale=1.5)),
    pair(N(5, 200, floor=10), N(6, 300, shift=0.1, floor=10)),
    pair(N(7, 1000), N(8, 1000)),
    pair(SQ(9, 8), N(10, 7)),
    pair(N(11, 15), N(12, 18, shift=0.2)),
    pair(N(13, 500), N(14, 12000, shift=0.05)),
    pair(N(15, 15000), N(16, 11000, shift=0.01)),
    pair(N(17, 60), N(18, 20000, shift=0.1)),
    pair(N(19, 20000), N(20, 20000, shift=0.5)),
    pair(N(21, 12000), N(22, 11000, shift=0.022)),
    pair(SQ(23, 3000, scale=5), SQ(24, 4000, scale=5, shift=0.05)),
    pair(N(25, 2000, floor=1), N(26, 2500, shift=0.3, floor=1)),
    pair(N(27, 100, floor=4), N(28, 7, floor=4)),
    # asymptotic KS through each branch of kstwo.sf: Durbin matrix, Smirnov tail, Pelz-Good
    pair(N(41, 30), N(42, 20000)),
    pair(N(43, 11000), N(44, 12000, shift=0.035)),
    pair(N(45, 400), N(46, 12000, shift=0.01)),
    pair(N(47, 140), N(48, 15000, shift=0.2)),
]

cat_pairs = [
    pair(CAT(31, 500, ["a", "b", "c"], [0.5, 0.3, 0.2]), CAT(32, 400, ["a", "b", "c"], [0.4, 0.35, 0.25])),
    pair(CAT(33, 3000, ["x", "y", "z", "w"], [0.4, 0.3, 0.2, 0.1]), CAT(34, 2000, ["x", "y", "z", "w", "new"], [0.4, 0.3, 0.2, 0.05, 0.05])),
    pair(CAT(35, 800, ["yes", "no"], [0.7, 0.3]), CAT(36, 900, ["yes", "no"], [0.65, 0.35])),
    pair(CAT(37, 50, ["p", "q"], [0.5, 0.5]), CAT(38, 60, ["p", "q"], [0.5, 0.5])),
]


def numeric_case(p):
    ref, cur = sample(p["ref"]), sample(p["cur"])
    ks = stats.ks_2samp(ref, cur)
    cvm = stats.cramervonmises_2samp(ref, cur)
    mw = stats.mannwhitneyu(ref, cur, alternative="two-sided")
    tt = stats.ttest_ind(ref, cur, equal_var=False)
    ad = stats.anderson_ksamp([ref, cur], variant="midrank") if len(np.unique(np.concatenate([ref, cur]))) > 1 else None
    rp, cp = binned(ref, cur, True, True)
    jr, jc = binned(ref, cur, True, False)
    return {
        **p,
        "ks": [float(ks.statistic), float(ks.pvalue)],
        "cvm": [float(cvm.statistic), float(cvm.pvalue)],
        "mannw": [float(mw.statistic), float(mw.pvalue)],
        "t": [float(tt.statistic), float(tt.pvalue)],
        "anderson": None if ad is None else [float(ad.statistic), float(ad.pvalue)],
        "wasserstein": float(stats.wasserstein_distance(ref, cur)),
        "wassersteinNormed": float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)),
        "energy": float(stats.energy_distance(ref, cur)),
        "psi": float(np.sum((rp - cp) * np.log(rp / cp))),
        "kl": float(stats.entropy(rp, cp)),
        "js": float(distance.jensenshannon(jr, jc)),
        "hellinger": hellinger(ref, cur, True),
    }


def cat_case(p):
    ref, cur = sample(p["ref"]), sample(p["cur"])
    rp, cp = binned(np.array(ref), np.array(cur), False, True)
    jr, jc = binned(np.array(ref), np.array(cur), False, False)
    out = {
        **p,
        "chisquare": list(chisq(ref, cur)),
        "psi": float(np.sum((rp - cp) * np.log(rp / cp))),
        "kl": float(stats.entropy(rp, cp)),
        "js": float(distance.jensenshannon(jr, jc)),
        "hellinger": hellinger(np.array(ref), np.array(cur), False),
    }
    if len(set(ref) | set(cur)) <= 2:
        out["z"] = list(z_test(ref, cur))
    return out


def finite(x):
    """JSON has no infinities: write them as the string "inf"."""
    if isinstance(x, float) and np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite(v) for v in x]
    return x


json.dump(finite({
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "numeric": [numeric_case(p) for p in numeric_pairs],
    "categorical": [cat_case(p) for p in cat_pairs],
}), sys.stdout, indent=1, allow_nan=False)
