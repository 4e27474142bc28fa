def dloss(x, w, dout=1.0):
    tape = sg.Tape()
    h_mul = None
    h = x
    tape_mark = sg.depth(tape)
    for t in range(6):
        sg.push(tape, h_mul)
        h_mul = h * w
        sg.push(tape, h)
        h = np.sin(h_mul)
    out_mul = h * h
    dw = sg.zeros_like(w)
    # line 22: return np.sum(h * h)
    dout_mul = sg.unreduce(dout, out_mul)
    d_h = dout_mul * h
    d_h = d_h + dout_mul * h
    # line 15: for t in range(6):
    for t in reversed(range(6)):
        # line 18: print("gradient of h at step", t, ":", dh)
        print('gradient of h at step', t, ':', d_h)
        # line 19: if t < 4:
        if t < 4:
            # line 20: pdb.set_trace()
            pdb.set_trace()
            # line 21: break
            break
        # line 16: h = np.sin(h * w)
        dh_mul = d_h * np.cos(h_mul)
        h = sg.pop(tape)
        d_h = sg.unbroadcast(dh_mul * w, h)
        dw += sg.unbroadcast(dh_mul * h, w)
        h_mul = sg.pop(tape)
    # line 15: for t in range(6):
    sg.truncate(tape, tape_mark)
    return dw
