"""A physics simulation whose state lives in dicts: particles joined by springs, under gravity
and drag, stepped with semi-implicit Euler. The loss (how far the particles land from their
targets) is differentiated with respect to the initial state ``{"pos": ..., "vel": ...}`` and
the physical parameters ``{"k": ..., "drag": ..., "rest": ...}``; gradients come back as dicts
with the same keys.

Prints the generated gradient of one step, checks both gradients against central finite
differences in float64, and exits non-zero if they disagree.

    python examples/models/particles.py
"""

import sys

import numpy as np

import sourcegrad as sg

EPS = 1e-6
GRAVITY = np.array([0.0, -9.81])


def forces(pos, vel, params):
    """Springs between consecutive particles, gravity, and linear drag."""
    delta = pos[1:] - pos[:-1]
    length = np.sqrt(np.sum(delta * delta, axis=1, keepdims=True))
    pull = params["k"] * (length - params["rest"]) * delta / length
    spring = np.concatenate([pull, np.zeros((1, 2))]) - np.concatenate([np.zeros((1, 2)), pull])
    return spring + GRAVITY - params["drag"] * vel


def step(state, params, dt):
    vel = state["vel"] + dt * forces(state["pos"], state["vel"], params)
    return {"pos": state["pos"] + dt * vel, "vel": vel}


def landing_loss(state, params, targets, steps=20, dt=0.02):
    for _ in range(steps):
        state = step(state, params, dt)
    miss = state["pos"] - targets
    return np.sum(miss * miss) + 0.01 * np.sum(state["vel"] * state["vel"])


def central_differences(f, tree, index):
    out = {}
    for key, value in tree.items():
        value = np.asarray(value, dtype=float)
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[i] += EPS
            down[i] -= EPS
            g[i] = (f({**tree, key: up if up.ndim else float(up)}) - f({**tree, key: down if down.ndim else float(down)})) / (2 * EPS)
        out[key] = g
    return out


def main() -> int:
    rng = np.random.default_rng(2)
    n = 4
    state = {"pos": np.stack([np.arange(n) * 1.0, np.zeros(n)], axis=1), "vel": rng.normal(size=(n, 2))}
    params = {"k": 20.0, "drag": 0.3, "rest": 0.9}
    targets = np.stack([np.arange(n) * 1.1, -np.ones(n)], axis=1)
    print(sg.source(sg.grad(step)))
    d_state, d_params = sg.grad(landing_loss, wrt=("state", "params"))(state, params, targets)
    assert set(d_state) == {"pos", "vel"} and set(d_params) == {"k", "drag", "rest"}
    fd_state = central_differences(lambda s: landing_loss(s, params, targets), state, 0)
    fd_params = central_differences(lambda p: landing_loss(state, p, targets), params, 1)
    worst = max([float(np.max(np.abs(d_state[k] - fd_state[k]) / (1 + np.abs(fd_state[k])))) for k in state]
                + [abs(d_params[k] - fd_params[k]) / (1 + abs(fd_params[k])) for k in params])
    print("d loss / d params:", {k: round(float(v), 6) for k, v in d_params.items()})
    print(f"largest relative difference from central differences: {worst:.2e}")
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
