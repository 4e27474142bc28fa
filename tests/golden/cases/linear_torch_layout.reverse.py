def dloss(W, b, x, y, dout_2=1.0):
    out_T = np.transpose(W)
    out_matmul = x @ out_T
    out = out_matmul + b
    out_2_sub = out - y
    out_2_pow = out_2_sub ** 2
    out_2_shape = np.shape(x)
    # line 12: return np.sum((out - y) ** 2) / x.shape[0]
    dout = sg.unbroadcast(sg.unreduce(dout_2 / out_2_shape[0], out_2_pow) * (2 * out_2_sub), out)
    # line 11: out = x @ W.T + b
    db = sg.unbroadcast(dout, b)
    dW = np.transpose(sg.matmul_adjoint_b(sg.unbroadcast(dout, out_matmul), x, out_T), None)
    return (dW, db)
