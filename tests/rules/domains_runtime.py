"""Rows for the runtime helpers' rules (rules/runtime.py): generated code differentiated again."""

from domains import A, F, K, T, beyond_autograd, case, row

from sourcegrad import runtime as sg

# fmt: off
NO_AUTOGRAD = dict(autograd=False)  # autograd does not know sourcegrad's helpers
row(sg.unbroadcast,    case(A(2, 3), A(3)), case(A(2, 3), A(2, 3)), case(A(2, 3), A(2, 1)), case(A(3), F), case(F, F), **NO_AUTOGRAD)
row(sg.unbroadcast_to, case(A(2, 3), K((3,))), case(A(2, 3), K((2, 3))), case(A(2, 3), K((1, 3))), case(A(3), K(())), **NO_AUTOGRAD)
row(sg.unreduce,       case(F, A(2, 3)), case(A(3), A(2, 3), axis=0), case(A(2), A(2, 3), axis=1),
                       case(A(2, 1), A(2, 3), axis=1, keepdims=True), **NO_AUTOGRAD)
row(sg.unindex,        case(A(3), A(2, 3), K(0)), case(A(2), A(2, 3), K((slice(None), 1))), case(F, A(3), K(2)), **NO_AUTOGRAD)
row(sg.seed_like,      case(F, A(3)), case(A(3), A(3)), **NO_AUTOGRAD)
row(sg.add,            case(A(3), A(3)), case(F, F), case(A(2, 3), A(2, 3)), **NO_AUTOGRAD)
row(sg.matmul_adjoint_a, case(A(2, 4), A(2, 3), A(3, 4)), case(A(2), A(2, 3), A(3)), case(A(4), A(3), A(3, 4)), **NO_AUTOGRAD)
row(sg.matmul_adjoint_b, case(A(2, 4), A(2, 3), A(3, 4)), case(A(2), A(2, 3), A(3)), case(A(4), A(3), A(3, 4)), **NO_AUTOGRAD)
# fmt: on
