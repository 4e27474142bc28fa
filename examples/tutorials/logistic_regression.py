"""Logistic regression, as the autograd README and JAX's quickstart write it: a sigmoid of a linear
model, the negative log-likelihood of boolean targets, and a few steps of gradient descent.

Prints the generated gradient, its value, and the table of ``sg.check_grads`` (both modes against
central finite differences in float64); exits non-zero if a check fails or training does not
lower the loss.

    python examples/tutorials/logistic_regression.py
"""

import sys

import numpy as np

import sourcegrad as sg


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1.0)


def predict(weights, bias, inputs):
    return sigmoid(np.dot(inputs, weights) + bias)


def training_loss(weights, bias, inputs, targets):
    preds = predict(weights, bias, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def problem():
    """The function, its arguments, and the parameters to differentiate."""
    # fmt: off
    inputs = np.array([[0.52, 1.12, 0.77],
                       [0.88, -1.08, 0.15],
                       [0.52, 0.06, -1.30],
                       [0.74, -2.49, 1.39]])
    # fmt: on
    targets = np.array([True, True, False, True])  # a boolean array: data, not differentiated
    weights, bias = np.array([0.1, -0.2, 0.3]), 0.05
    return training_loss, (weights, bias, inputs, targets), (0, 1)


def main() -> int:
    f, args, wrt = problem()
    dloss = sg.grad(f, wrt=wrt)
    print(sg.source(dloss))
    dweights, dbias = dloss(*args)
    print("d loss / d weights:", dweights)
    print("d loss / d bias:   ", dbias)
    try:
        print(sg.check_grads(f, args, wrt=wrt))
    except sg.GradientCheckError as err:
        print(err)
        return 1
    weights, bias, inputs, targets = args
    before = f(*args)
    for _ in range(100):
        dweights, dbias = dloss(weights, bias, inputs, targets)
        weights, bias = weights - 0.1 * dweights, bias - 0.1 * dbias
    after = f(weights, bias, inputs, targets)
    print(f"training loss {before:.4f} -> {after:.4f} after 100 steps")
    return 0 if after < before else 1


if __name__ == "__main__":
    sys.exit(main())
