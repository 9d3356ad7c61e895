"""Scores a Driftflow model.onnx with Python's onnxruntime, for the parity test.

Usage: score_onnx.py model.onnx inputs.json  → prints {"output name": [[...], ...]} as JSON.
inputs.json maps each input name to {"type": "float"|"string", "values": [...]} (null = missing).
"""
import json
import sys

import numpy as np
import onnxruntime as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
spec = json.load(open(sys.argv[2]))
feeds = {}
for name, col in spec.items():
    if col["type"] == "string":
        feeds[name] = np.array([["" if v is None else v] for v in col["values"]], dtype=object)
    else:
        feeds[name] = np.array([[np.nan if v is None else v] for v in col["values"]], dtype=np.float32)
names = [o.name for o in session.get_outputs()]
out = session.run(names, feeds)
print(json.dumps({n: np.asarray(v).astype(float).tolist() for n, v in zip(names, out)}))
