def dloss(W1, b1, W2, b2, W3, b3, x, y, dout_2=1.0):
    h1_matmul = x @ W1
    h1 = np.tanh(h1_matmul + b1)
    h2_matmul = h1 @ W2
    h2 = np.tanh(h2_matmul + b2)
    out_matmul = h2 @ W3
    out = out_matmul + b3
    out_2_sub = out - y
    out_2_pow = out_2_sub ** 2
    # line 12: return np.mean((out - y) ** 2)
    dout = sg.unbroadcast(sg.unreduce(dout_2, out_2_pow) * (np.size(dout_2) / np.size(out_2_pow)) * (2 * out_2_sub), out)
    # line 11: out = h2 @ W3 + b3
    dout_matmul = sg.unbroadcast(dout, out_matmul)
    db3 = sg.unbroadcast(dout, b3)
    dh2 = sg.matmul_adjoint_a(dout_matmul, h2, W3)
    dW3 = sg.matmul_adjoint_b(dout_matmul, h2, W3)
    # line 10: h2 = np.tanh(h1 @ W2 + b2)
    dh2_add = dh2 * (1.0 - h2 * h2)
    dh2_matmul = sg.unbroadcast(dh2_add, h2_matmul)
    db2 = sg.unbroadcast(dh2_add, b2)
    dh1 = sg.matmul_adjoint_a(dh2_matmul, h1, W2)
    dW2 = sg.matmul_adjoint_b(dh2_matmul, h1, W2)
    # line 9: h1 = np.tanh(x @ W1 + b1)
    dh1_add = dh1 * (1.0 - h1 * h1)
    db1 = sg.unbroadcast(dh1_add, b1)
    dW1 = sg.matmul_adjoint_b(sg.unbroadcast(dh1_add, h1_matmul), x, W1)
    return (dW1, db1, dW2, db2, dW3, db3)
