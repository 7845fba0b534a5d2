"""HEBO behind a JSON-lines ask/tell protocol, run with ``.venv-hebo/bin/python``.

HEBO has no notion of pending trials, so an ask temporarily adds the pending points with a
constant-liar value (the best loss so far, skopt's ``cl_min``) and takes HEBO's suggestion.
HEBO prints progress to stdout; the protocol therefore keeps its own copy of the real stdout.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np


def main() -> None:
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # everything HEBO prints goes to stderr
    sys.stdout = sys.stderr
    import pandas as pd
    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    hebo = space = None
    pending: dict[int, dict] = {}
    ys: list[float] = []
    next_token = 0
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "init":
                torch.set_num_threads(msg.get("threads", 1))
                space = msg["space"]
                spec = []
                for p in space:
                    if p["type"] == "real":
                        spec.append({"name": p["name"], "type": "pow" if p["log"] else "num", "lb": p["low"], "ub": p["high"]})
                    elif p["type"] == "int":
                        spec.append({"name": p["name"], "type": "pow_int" if p["log"] else "int", "lb": p["low"], "ub": p["high"]})
                    elif p["type"] == "cat":
                        spec.append({"name": p["name"], "type": "cat", "categories": [str(v) for v in p["values"]]})
                    else:
                        spec.append({"name": p["name"], "type": "bool"})
                np.random.seed(msg["seed"])
                torch.manual_seed(msg["seed"])
                hebo = HEBO(DesignSpace().parse(spec), rand_sample=msg["n_initial"], scramble_seed=msg["seed"])
                reply: dict = {"ok": True}
            elif msg["cmd"] == "ask":
                saved_x, saved_y = hebo.X, hebo.y
                if pending and len(ys):
                    hebo.observe(pd.DataFrame(list(pending.values())), np.full((len(pending), 1), min(ys)))
                rec = hebo.suggest(n_suggestions=msg["n"])
                hebo.X, hebo.y = saved_x, saved_y
                proposals = []
                for _, row in rec.iterrows():
                    raw = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                    pending[next_token] = raw
                    proposals.append([next_token, raw])
                    next_token += 1
                reply = {"proposals": proposals}
            elif msg["cmd"] == "observe":  # an outside observation (the suggestion-time benchmark)
                hebo.observe(pd.DataFrame([msg["params"]]), np.array([[msg["loss"]]]))
                ys.append(msg["loss"])
                reply = {"ok": True}
            elif msg["cmd"] == "tell":
                raw = pending.pop(msg["token"])
                hebo.observe(pd.DataFrame([raw]), np.array([[msg["loss"]]]))
                ys.append(msg["loss"])
                reply = {"ok": True}
            else:
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
        except Exception as exc:  # noqa: BLE001
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
