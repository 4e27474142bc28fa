def dloss(params, x, dout=1.0):
    tape = sg.Tape()
    rnn_res = None
    h = x
    for i in range(5):
        sg.push(tape, rnn_res)
        h_rnn, rnn_res = rnn_fwd(params, h)
        sg.push(tape, h)
        h = h_rnn
    dparams = sg.zeros_like(params)
    # line 20: return np.sum(h)
    dh = sg.unreduce(dout, h)
    # line 16: for i in range(5):
    for i in reversed(range(5)):
        # line 19: h = rnn(params, h)
        h = sg.pop(tape)
        dparams_rnn, dh = rnn_bwd(rnn_res, dh)
        dparams = sg.add(dparams, dparams_rnn)
        rnn_res = sg.pop(tape)
        # line 18: g = np.clip(g, -1, 1)
        dh = np.clip(dh, -1, 1)
    return dparams


def rnn_fwd(params, h):
    out = np.tanh(params @ h)
    return (out, (h, out, params))


def rnn_bwd(res, dout):
    h, out, params = res
    # line 11: return np.tanh(params @ h)
    dout_matmul = dout * (1.0 - out * out)
    dparams = sg.matmul_adjoint_a(dout_matmul, params, h)
    dh = sg.matmul_adjoint_b(dout_matmul, params, h)
    return (dparams, dh)
