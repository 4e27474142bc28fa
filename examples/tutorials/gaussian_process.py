"""Gaussian-process regression, as autograd's ``gaussian_process.py`` example writes it: an RBF
kernel with log-parameterised scale, lengthscales and noise, and the negative log marginal
likelihood computed through a Cholesky factor and linear solves, minimised by gradient descent.

Prints the generated gradient, its value, and the table of ``sg.check_grads`` (both modes against
central finite differences in float64); exits non-zero if a check fails or the optimisation does
not lower the negative log likelihood.

    python examples/tutorials/gaussian_process.py
"""

import sys

import numpy as np

import sourcegrad as sg


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs**2, axis=2))


def negative_log_likelihood(params, x, y):
    mean, log_noise, kernel_params = params[0], params[1], params[2:]
    K = rbf_covariance(kernel_params, x, x) + (np.exp(log_noise) + 1e-6) * np.eye(len(y))
    L = np.linalg.cholesky(K)
    prior_mean = mean * np.ones(len(y))
    r = y - prior_mean
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, r))  # K^-1 (y - mean)
    return 0.5 * np.dot(r, alpha) + np.sum(np.log(np.diag(L))) + 0.5 * len(y) * np.log(2 * np.pi)


def problem():
    """The function, its arguments, and the parameter to differentiate."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-3.0, 3.0, size=(12, 2))
    y = np.sin(x[:, 0]) * np.cos(0.5 * x[:, 1]) + 0.1 * rng.normal(size=12)
    params = np.array(
        [0.0, np.log(0.1), 0.0, 0.0, 0.0]
    )  # mean, log noise, log scale, 2 log lengthscales
    return negative_log_likelihood, (params, x, y), 0


def main() -> int:
    f, args, wrt = problem()
    dnll = sg.grad(f, wrt=wrt)
    print(sg.source(dnll))
    print("d nll / d (mean, log noise, log scale, log lengthscales):", dnll(*args))
    try:
        print(sg.check_grads(f, args, wrt=wrt))
    except sg.GradientCheckError as err:
        print(err)
        return 1
    params, x, y = args
    before = f(params, x, y)
    for _ in range(100):
        params = params - 0.02 * dnll(params, x, y)
    after = f(params, x, y)
    print(f"negative log likelihood {before:.4f} -> {after:.4f} after 100 steps")
    return 0 if after < before else 1


if __name__ == "__main__":
    sys.exit(main())
