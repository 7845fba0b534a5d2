"""The method-neutral search space every adapter translates from.

A parameter is a dict: ``{"name", "type": "real"|"int"|"cat"|"bool", "low", "high", "log",
"values"}``. Logit-scaled reals are handled by the task (the optimizer sees a linear real in
logit space and the task applies the sigmoid), so every method sees the same encoding for them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Param = dict[str, Any]


def real(name: str, low: float, high: float, log: bool = False) -> Param:
    return {"name": name, "type": "real", "low": float(low), "high": float(high), "log": log}


def integer(name: str, low: int, high: int, log: bool = False) -> Param:
    return {"name": name, "type": "int", "low": int(low), "high": int(high), "log": log}


def cat(name: str, values: list[Any]) -> Param:
    return {"name": name, "type": "cat", "values": list(values)}


def boolean(name: str) -> Param:
    return {"name": name, "type": "bool"}


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def sample(space: list[Param], rng: np.random.Generator) -> dict[str, Any]:
    """Uniform on each parameter's own scale (log-uniform for log ones)."""
    out: dict[str, Any] = {}
    for p in space:
        if p["type"] == "real":
            if p["log"]:
                out[p["name"]] = float(math.exp(rng.uniform(math.log(p["low"]), math.log(p["high"]))))
            else:
                out[p["name"]] = float(rng.uniform(p["low"], p["high"]))
        elif p["type"] == "int":
            if p["log"]:
                u = rng.uniform(math.log(p["low"] - 0.5), math.log(p["high"] + 0.5))  # low >= 1
                out[p["name"]] = int(min(p["high"], max(p["low"], round(math.exp(u)))))
            else:
                out[p["name"]] = int(rng.integers(p["low"], p["high"] + 1))
        elif p["type"] == "cat":
            out[p["name"]] = p["values"][int(rng.integers(len(p["values"])))]
        else:
            out[p["name"]] = bool(rng.integers(2))
    return out


def to_unit(space: list[Param], params: dict[str, Any]) -> np.ndarray:
    """Encode to [0,1]^D (one-hot categoricals, bools as one coordinate) — for BoTorch."""
    x: list[float] = []
    for p in space:
        v = params[p["name"]]
        if p["type"] in ("real", "int"):
            lo, hi = (p["low"], p["high"]) if p["type"] == "real" else (p["low"] - 0.49, p["high"] + 0.49)
            if p["log"]:
                lo, hi, v = math.log(max(lo, 1e-12)), math.log(hi), math.log(max(float(v), 1e-12))
            x.append(min(1.0, max(0.0, (float(v) - lo) / (hi - lo))))
        elif p["type"] == "cat":
            x.extend(1.0 if v == c else 0.0 for c in p["values"])
        else:
            x.append(1.0 if v else 0.0)
    return np.array(x)


def from_unit(space: list[Param], x: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    i = 0
    for p in space:
        if p["type"] in ("real", "int"):
            lo, hi = (p["low"], p["high"]) if p["type"] == "real" else (p["low"] - 0.49, p["high"] + 0.49)
            u = float(np.clip(x[i], 0.0, 1.0))
            if p["log"]:
                v = math.exp(math.log(max(lo, 1e-12)) + u * (math.log(hi) - math.log(max(lo, 1e-12))))
            else:
                v = lo + u * (hi - lo)
            out[p["name"]] = float(min(p["high"], max(p["low"], v))) if p["type"] == "real" \
                else int(min(p["high"], max(p["low"], round(v))))
            i += 1
        elif p["type"] == "cat":
            k = len(p["values"])
            out[p["name"]] = p["values"][int(np.argmax(x[i:i + k]))]
            i += k
        else:
            out[p["name"]] = bool(x[i] >= 0.5)
            i += 1
    return out


def unit_dim(space: list[Param]) -> int:
    return sum(len(p["values"]) if p["type"] == "cat" else 1 for p in space)


def normalise(space: list[Param], params: dict[str, Any]) -> dict[str, Any]:
    """Cast what a library returns (numpy scalars, strings for bools) to plain Python values."""
    out: dict[str, Any] = {}
    for p in space:
        v = params[p["name"]]
        if p["type"] == "real":
            out[p["name"]] = float(min(p["high"], max(p["low"], float(v))))
        elif p["type"] == "int":
            out[p["name"]] = int(min(p["high"], max(p["low"], int(round(float(v))))))
        elif p["type"] == "bool":
            out[p["name"]] = v in (True, "True", "true", 1) or (isinstance(v, (int, float, np.integer)) and bool(v))
        else:
            match = [c for c in p["values"] if c == v or str(c) == str(v)]
            out[p["name"]] = match[0] if match else p["values"][0]
    return out
