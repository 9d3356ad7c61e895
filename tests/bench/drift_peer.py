"""The peer of `deno task bench drift`: numpy/scipy computing the same per-column statistics.

Reads the data the TypeScript side wrote (raw float64 columns, uint8 category codes) and times,
per numeric column: ks_2samp, wasserstein_distance normed by the reference std, Sturges histograms
with Jensen-Shannon and PSI (Evidently's get_binned_data); per categorical column: value counts
with Jensen-Shannon and PSI. Prints one JSON object: seconds and a few values to cross-check.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance


def binned(ref, cur, numeric, fill):
    if numeric and len(pd.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        rp = np.histogram(ref, bins)[0] / len(ref)
        cp = np.histogram(cur, bins)[0] / len(cur)
    else:
        rc, cc = ref.value_counts(), cur.value_counts()
        keys = list(set(rc.index) | set(cc.index))
        rp = np.array([rc.get(k, 0) for k in keys]) / len(ref)
        cp = np.array([cc.get(k, 0) for k in keys]) / len(cur)
    if fill:
        for p in (rp, cp):
            m = min(p[p != 0])
            np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return rp, cp


def main(folder):
    meta = json.load(open(f"{folder}/meta.json"))
    numeric = {}
    for name in meta["numeric"]:
        numeric[name] = (np.fromfile(f"{folder}/{name}.ref.f64"), np.fromfile(f"{folder}/{name}.cur.f64"))
    categorical = {}
    for name, labels in meta["categorical"].items():
        lab = np.array(labels, dtype=object)
        categorical[name] = (
            pd.Series(lab[np.fromfile(f"{folder}/{name}.ref.u8", dtype=np.uint8)]),
            pd.Series(lab[np.fromfile(f"{folder}/{name}.cur.u8", dtype=np.uint8)]),
        )
    out = {}
    t0 = time.perf_counter()
    for name, (ref, cur) in numeric.items():
        ks = stats.ks_2samp(ref, cur)
        wd = stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
        jr, jc = binned(ref, cur, True, False)
        pr, pc = binned(ref, cur, True, True)
        out[name] = {
            "ks": float(ks.statistic),
            "ks_p": float(ks.pvalue),
            "wasserstein": float(wd),
            "js": float(distance.jensenshannon(jr, jc)),
            "psi": float(np.sum((pr - pc) * np.log(pr / pc))),
        }
    for name, (ref, cur) in categorical.items():
        jr, jc = binned(ref, cur, False, False)
        pr, pc = binned(ref, cur, False, True)
        out[name] = {
            "js": float(distance.jensenshannon(jr, jc)),
            "psi": float(np.sum((pr - pc) * np.log(pr / pc))),
        }
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "columns": out}))


main(sys.argv[1])
