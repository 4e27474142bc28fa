"""A Kalman filter on a noisy 1-D constant-velocity track, written with in-place array updates.

The negative log-likelihood of the observations is differentiated with respect to the process
and observation noise levels (log scale) by sourcegrad. The filter fills its arrays of filtered
means and variances one step at a time (`means[t] = ...`, `P[0, 1] += ...`), the way such code is
usually written. Prints the gradient, checks it against central finite differences in float64 (and
forward mode against reverse mode), and exits non-zero if they disagree.

    python examples/models/kalman.py
"""

import numpy as np

import sourcegrad as sg

TOLERANCE = 1e-6
EPS = 1e-6


def negative_log_likelihood(log_q, log_r, ys):
    """-log p(ys | q, r) of the state (position, velocity) under a constant-velocity model."""
    q, r = np.exp(log_q), np.exp(log_r)
    n = ys.shape[0]
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    m = np.zeros(2)
    P = np.eye(2)
    means = np.zeros((n, 2))
    nll = 0.0
    for t in range(n):
        m = F @ m  # predict
        P = F @ P @ F.T
        P[0, 0] += q / 3.0
        P[0, 1] += q / 2.0
        P[1, 0] += q / 2.0
        P[1, 1] += q
        s = P[0, 0] + r  # the observation sees the position only
        resid = ys[t] - m[0]
        nll = nll + 0.5 * (np.log(2.0 * np.pi * s) + resid * resid / s)
        gain = P[:, 0] / s  # update
        m = m + gain * resid
        P = P - np.outer(gain, P[0, :])
        means[t] = m
    smooth = np.sum(np.diff(means[:, 1]) ** 2)  # a small penalty on the filtered velocities
    return nll + 0.1 * smooth


def central_difference(f, args, argnum, eps=EPS):
    up, down = list(args), list(args)
    up[argnum], down[argnum] = args[argnum] + eps, args[argnum] - eps
    return (f(*up) - f(*down)) / (2 * eps)


def main() -> int:
    rng = np.random.default_rng(0)
    n = 40
    velocity = np.cumsum(rng.normal(0.0, 0.1, n))
    ys = np.cumsum(velocity) + rng.normal(0.0, 0.5, n)
    args = (np.log(0.05), np.log(0.3), ys)

    grad = sg.grad(negative_log_likelihood, wrt=(0, 1))
    d_log_q, d_log_r = grad(*args)
    print(f"nll = {negative_log_likelihood(*args):.6f}")
    print(f"d nll / d log q = {d_log_q:.10f}")
    print(f"d nll / d log r = {d_log_r:.10f}")

    numeric = [central_difference(negative_log_likelihood, args, i) for i in (0, 1)]
    forward = [sg.autodiff(negative_log_likelihood, mode="forward", wrt=i)(*args, 1.0) for i in (0, 1)]
    worst = 0.0
    for name, got, fd, fwd in zip(("log q", "log r"), (d_log_q, d_log_r), numeric, forward):
        error = max(abs(got - fd), abs(got - fwd)) / max(1.0, abs(fd))
        worst = max(worst, error)
        print(f"{name}: finite differences {fd:.10f}, forward mode {fwd:.10f}, relative error {error:.1e}")
    if worst > TOLERANCE:
        print("FAILED: the gradient disagrees with finite differences")
        return 1
    print("OK: the gradient matches central finite differences and forward mode")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
