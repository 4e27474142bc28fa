"""A multilayer perceptron classifier, as autograd's ``neural_net.py`` example and JAX's MLP
tutorial write it: tanh hidden layer, log-softmax through a stable logsumexp, the mean cross-entropy
of one-hot labels plus an L2 penalty, and a few steps of gradient descent.

Prints the generated gradient, the gradients' norms, and the table of ``sg.check_grads`` (both
modes against central finite differences in float64); exits non-zero if a check fails or training
does not lower the loss.

    python examples/tutorials/mlp_softmax.py
"""

import sys

import numpy as np

import sourcegrad as sg


def logsumexp(x):
    m = np.max(x, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))


def predict(W1, b1, W2, b2, inputs):
    hidden = np.tanh(np.dot(inputs, W1) + b1)
    logits = np.dot(hidden, W2) + b2
    return logits - logsumexp(logits)  # log-probabilities of each class


def loss(W1, b1, W2, b2, inputs, targets, l2=0.01):
    log_probs = predict(W1, b1, W2, b2, inputs)
    penalty = l2 * (np.sum(W1**2) + np.sum(W2**2))
    return -np.mean(np.sum(log_probs * targets, axis=1)) + penalty


def problem():
    """The function, its arguments, and the parameters to differentiate."""
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_classes, batch = 4, 8, 3, 16
    inputs = rng.normal(size=(batch, n_in))
    labels = np.argmax(inputs[:, :n_classes] + 0.3 * rng.normal(size=(batch, n_classes)), axis=1)
    targets = np.eye(n_classes)[labels]  # one-hot
    params = (
        0.5 * rng.normal(size=(n_in, n_hidden)),
        np.zeros(n_hidden),
        0.5 * rng.normal(size=(n_hidden, n_classes)),
        np.zeros(n_classes),
    )
    return loss, (*params, inputs, targets), (0, 1, 2, 3)


def main() -> int:
    f, args, wrt = problem()
    dloss = sg.grad(f, wrt=wrt)
    print(sg.source(dloss))
    grads = dloss(*args)
    for name, g in zip(("W1", "b1", "W2", "b2"), grads):
        print(f"|d loss / d {name}| = {np.linalg.norm(g):.6f}  shape {np.shape(g)}")
    try:
        print(sg.check_grads(f, args, wrt=wrt))
    except sg.GradientCheckError as err:
        print(err)
        return 1
    params, data = list(args[:4]), args[4:]
    before = f(*params, *data)
    for _ in range(200):
        grads = dloss(*params, *data)
        params = [p - 0.5 * g for p, g in zip(params, grads)]
    after = f(*params, *data)
    accuracy = np.mean(np.argmax(predict(*params, data[0]), axis=1) == np.argmax(data[1], axis=1))
    print(f"loss {before:.4f} -> {after:.4f} after 200 steps; training accuracy {accuracy:.2f}")
    return 0 if after < before else 1


if __name__ == "__main__":
    sys.exit(main())
