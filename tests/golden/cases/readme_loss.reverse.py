def dloss(W, b, x, y, dout=1.0):
    tape = sg.Tape()
    h_matmul = x @ W
    h = np.tanh(h_matmul + b)
    for i in range(3):
        cond = np.sum(h) > 0
        if cond:
            sg.push(tape, h)
            h = h * 0.5
        else:
            sg.push(tape, h)
            h = h + 1.0
        sg.push(tape, cond)
    out_sub = h - y
    out_pow = out_sub ** 2
    # line 15: return np.mean((h - y) ** 2)
    dh = sg.unbroadcast(sg.unreduce(dout, out_pow) * (np.size(dout) / np.size(out_pow)) * (2 * out_sub), h)
    # line 10: for i in range(3):
    for i in reversed(range(3)):
        # line 11: if np.sum(h) > 0:
        cond = sg.pop(tape)
        if cond:
            # line 12: h = h * 0.5
            h = sg.pop(tape)
            dh = dh * 0.5
        else:
            # line 14: h = h + 1.0
            h = sg.pop(tape)
    # line 9: h = np.tanh(x @ W + b)
    dh_add = dh * (1.0 - h * h)
    db = sg.unbroadcast(dh_add, b)
    dW = sg.matmul_adjoint_b(sg.unbroadcast(dh_add, h_matmul), x, W)
    return (dW, db)
