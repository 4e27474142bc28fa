"""A small 2-D convolution written with slicing, as the convnet tutorials of autograd and JAX
build one by hand before reaching for a library call: each kernel tap multiplies a shifted window
of the image, the windows are summed, a tanh follows, and a squared error against a target is
minimised over the kernel by gradient descent.

Prints the generated gradient, its value, and the table of ``sg.check_grads`` (both modes against
central finite differences in float64, for the kernel and the image); exits non-zero if a check
fails or training does not lower the loss.

    python examples/tutorials/convolution.py
"""

import sys

import numpy as np

import sourcegrad as sg


def conv2d(image, kernel):
    """'valid' cross-correlation of a 2-D image with a 2-D kernel, one slice per kernel tap."""
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            out = out + kernel[i, j] * image[i : i + oh, j : j + ow]
    return out


def loss(kernel, image, target):
    return np.mean((np.tanh(conv2d(image, kernel)) - target) ** 2)


def problem():
    """The function, its arguments, and the parameters to differentiate."""
    rng = np.random.default_rng(2)
    image = rng.normal(size=(7, 6))
    edge = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 4.0  # a Sobel filter
    target = np.tanh(conv2d(image, edge))
    kernel = 0.1 * rng.normal(size=(3, 3))
    return loss, (kernel, image, target), (0, 1)


def main() -> int:
    f, args, wrt = problem()
    dloss = sg.grad(f, wrt=wrt)
    print(sg.source(dloss))
    dkernel, dimage = dloss(*args)
    print("d loss / d kernel:\n", dkernel)
    print("|d loss / d image| =", np.linalg.norm(dimage))
    try:
        print(sg.check_grads(f, args, wrt=wrt))
    except sg.GradientCheckError as err:
        print(err)
        return 1
    kernel, image, target = args
    before = f(kernel, image, target)
    for _ in range(300):
        kernel = kernel - 2.0 * dloss(kernel, image, target)[0]
    after = f(kernel, image, target)
    print(
        f"loss {before:.5f} -> {after:.5f} after 300 steps; learned kernel:\n{np.round(kernel, 3)}"
    )
    return 0 if after < before else 1


if __name__ == "__main__":
    sys.exit(main())
