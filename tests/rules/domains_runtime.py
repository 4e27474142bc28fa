"""Rows for the runtime helpers' rules (rules/runtime.py): generated code differentiated again."""

import numpy as np
from domains import A, F, K, L, Record, T, beyond_autograd, case, row

from sourcegrad import runtime as sg

# fmt: off
NO_AUTOGRAD = {"autograd": False}  # autograd does not know sourcegrad's helpers
row(sg.unbroadcast,    case(A(2, 3), A(3)), case(A(2, 3), A(2, 3)), case(A(2, 3), A(2, 1)), case(A(3), F), case(F, F), **NO_AUTOGRAD)
row(sg.unbroadcast_to, case(A(2, 3), K((3,))), case(A(2, 3), K((2, 3))), case(A(2, 3), K((1, 3))), case(A(3), K(())), **NO_AUTOGRAD)
row(sg.rebroadcast,    case(A(3), A(2, 3)), case(A(2, 3), A(3)), case(A(2, 3), A(2, 1)), case(A(2, 1), A(2, 3)),
                       case(A(3), F), case(F, A(3)), case(A(1, 3), A(2, 1)), case(F, F), **NO_AUTOGRAD)
row(sg.unreduce,       case(F, A(2, 3)), case(A(3), A(2, 3), axis=0), case(A(2), A(2, 3), axis=1),
                       case(A(2, 1), A(2, 3), axis=1, keepdims=True), **NO_AUTOGRAD)
row(sg.unindex,        case(A(3), A(2, 3), K(0)), case(A(2), A(2, 3), K((slice(None), 1))), case(F, A(3), K(2)), **NO_AUTOGRAD)
row(sg.seed_like,      case(F, A(3)), case(A(3), A(3)), case(F, A(2, 3)), **NO_AUTOGRAD)
row(sg.whole,          case(A(3), A(3)), case(F, A(2, 3)), **NO_AUTOGRAD)
row(sg.unseed,         case(A(3), F), case(A(2, 3), F), case(A(3), A(3)), **NO_AUTOGRAD)
row(sg.add,            case(A(3), A(3)), case(F, F), case(A(2, 3), A(2, 3)), **NO_AUTOGRAD)
row(sg.matmul_adjoint_a, case(A(2, 4), A(2, 3), A(3, 4)), case(A(2), A(2, 3), A(3)), case(A(4), A(3), A(3, 4)), **NO_AUTOGRAD)
row(sg.matmul_adjoint_b, case(A(2, 4), A(2, 3), A(3, 4)), case(A(2), A(2, 3), A(3)), case(A(4), A(3), A(3, 4)), **NO_AUTOGRAD)
row(sg.power_slope,    case(A(3), A(3)), case(A(3), K(2)), case(A(2, 3), K(3), k=2), case(A(2, 3), A(3), k=2),
                       case(A(3, low=0.0, high=0.0), K(1)), domain=((0.5, 2.0), (-1.5, 1.5)), **NO_AUTOGRAD)
row(sg.scalar_base,    case(F), case(A()), **NO_AUTOGRAD)
row(sg.scaled,         case(A(3), A(3)), case(F, A(2, 3)), case(A(2, 3), A(3)), **NO_AUTOGRAD)
row(sg.power_log,      case(A(3), A(3)), case(A(2, 3), A(3)), domain=(0.5, 2.0), **NO_AUTOGRAD)
# fmt: on

# fmt: off
row(sg.uncumsum,        case(A(3), A(3)), case(A(6), A(2, 3)), case(A(2, 3), A(2, 3), K(1)), case(A(2, 4), A(2, 3), K(1), K(True)),
                        case(A(7), A(2, 3), K(None), K(True)), **NO_AUTOGRAD)
row(sg.running_sum,     case(A(3)), case(A(2, 3)), case(A(2, 3), K(0)), case(A(2, 3), K(-1), K(True)), case(A(4), include_initial=True),
                        **NO_AUTOGRAD)
row(sg.cast_derivative, case(A(3), A(3), A(3)), case(A(6), A(2, 3), A(2, 3)), case(A(3), A(3), K(np.arange(3))), **NO_AUTOGRAD)
row(sg.undelete,        case(A(4), A(5), K(1)), case(A(3, 2), A(3, 4), K([0, 2]), K(1)), **NO_AUTOGRAD)
row(sg.unresize,        case(A(7), A(3)), case(A(3, 3), A(2, 3)), **NO_AUTOGRAD)
row(sg.unchoose,        case(A(4), K(np.array([0, 1, 1, 0])), K((np.ones(4), np.ones(4)))),
                        case(A(2, 3), K(np.array([[0, 2, 1]])), K((np.ones((2, 3)), np.ones(3), 1.0))),
                        **NO_AUTOGRAD)
# fmt: on

# fmt: off
X23, V22 = K(np.ones((2, 3))), K(np.ones((2, 2)))
row(sg.unappend,       case(A(2, 5), X23, V22, K(1)), case(A(2, 5), X23, V22, K(1), K(1)), case(A(8), X23, K(np.ones(2)), K(None), K(1)),
                       **NO_AUTOGRAD)
row(sg.reappend,       case(A(2, 3), X23, V22, K(1)), case(A(2, 2), X23, V22, K(1), K(1)), case(A(2), X23, K(np.ones(2)), K(None), K(1)),
                       **NO_AUTOGRAD)
row(sg.append_tangent, case(A(2, 3), A(2, 2), X23, V22, K(1)), case(A(2, 3), A(2), X23, K(np.ones(2))), **NO_AUTOGRAD)
row(sg.uninsert,       case(A(3, 4), K(np.ones((2, 4))), K(1), K(np.ones(4)), K(0)), case(A(8), X23, K([0, 2]), K(np.ones(2)), K(None), K(1)),
                       **NO_AUTOGRAD)
row(sg.reinsert,       case(A(2, 4), K(np.ones((2, 4))), K(1), K(np.ones(4)), K(0)), case(A(2), X23, K([0, 2]), K(np.ones(2)), K(None), K(1)),
                       **NO_AUTOGRAD)
row(sg.insert_tangent, case(A(2, 4), A(4), K(np.ones((2, 4))), K(1), K(np.ones(4)), K(0)), case(A(2, 3), A(2), X23, K([0, 2]), K(np.ones(2))),
                       **NO_AUTOGRAD)
# fmt: on

# fmt: off
# in-place updates (runtime/inplace.py): x[idx] = v as sg.setitem; a repeated fancy index keeps one write
REPEATED, MASK23 = K(np.array([0, 2, 0])), K(np.array([[True, False, True], [False, False, True]]))
row(sg.setitem,       case(A(4), K(1), F), case(A(3, 4), K((slice(None), 1)), A(3)), case(A(3, 4), K(1), A(4)),
                      case(A(5), REPEATED, A(3)), case(A(2, 3), MASK23, F), case(A(4), K(slice(0, 2)), A(2)), **NO_AUTOGRAD)
row(sg.clear_written, case(A(4), K(1)), case(A(3, 4), K((slice(None), 1))), case(A(5), REPEATED), case(A(2, 3), MASK23),
                      **NO_AUTOGRAD)
row(sg.written,       case(A(4), K(1)), case(A(3, 4), K((slice(None), 1))), case(A(5), REPEATED), case(A(2, 3), MASK23),
                      **NO_AUTOGRAD)
row(sg.unwritten,     case(F, K(np.ones(4)), K(1)), case(A(3), K(np.ones((3, 4))), K((slice(None), 1))),
                      case(A(3), K(np.ones(5)), REPEATED), case(A(3), K(np.ones((2, 3))), MASK23), **NO_AUTOGRAD)
# fmt: on

class Dict:
    """A dict of random inputs: an array and a float."""

    value = "{'w': A(3), 'b': F}"  # how Case.__repr__ shows it

    def sample(self, rng):
        return {"w": rng.uniform(-1.0, 1.0, size=3), "b": float(rng.uniform(-1.0, 1.0))}

    def direction(self, value, rng):
        return {"w": rng.normal(size=3), "b": float(rng.normal())}


# fmt: off
# dicts (runtime/dicts.py): x.copy(); what `for` iterates: an array passes through (a dict's keys have no derivative)
row(sg.copy,             case(A(3)), case(A(2, 3)), **NO_AUTOGRAD)
row(sg.dict_copy,        case(Dict()), **NO_AUTOGRAD)  # dict(d) of a dict (pairs are refused when it runs)
row(sg.iterated,         case(A(3)), case(A(2, 3)), **NO_AUTOGRAD)
row(sg.uniterated,       case(A(3), K(np.ones(3))), case(A(2, 3), K(np.ones((2, 3)))), **NO_AUTOGRAD)
row(sg.iterated_tangent, case(A(3), K(np.ones(3))), case(A(2, 3), K(np.ones((2, 3)))), **NO_AUTOGRAD)
# sorted's permutation (runtime/choices.py): of numbers, of an array's rows, of a tuple's items
row(sg.permuted,         case(L(F, F, F), K([2, 0, 1])), case(A(3, 2), K([1, 2, 0])), case(T(A(2), F), K([1, 0])), **NO_AUTOGRAD)
row(sg.unpermuted,       case(L(F, F, F), K([1.0, 2.0, 3.0]), K([2, 0, 1])), case(L(A(2), A(2)), K(np.ones((2, 2))), K([1, 0])),
                         **NO_AUTOGRAD)
row(sg.permuted_tangent, case(L(F, F, F), K([1.0, 2.0, 3.0]), K([2, 0, 1])), case(L(A(2), A(2)), K([np.ones(2), np.ones(2)]), K([1, 0])),
                         **NO_AUTOGRAD)
# fmt: on

# fmt: off
# transposes in runtime/arrays.py, with rules of their own (rules/runtime_second_order.py) for second derivatives
IDX22 = K(np.array([[0, 1], [3, 3]]))
row(sg.untake,            case(A(3), A(5), K(np.array([0, 2, 2]))), case(A(3, 2, 2), A(3, 4), IDX22, K(1)), **NO_AUTOGRAD)
row(sg.untake_along_axis, case(A(3, 3), A(3, 4), K(np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])), K(1)),
                          case(A(3), A(3, 4), K(np.array([0, 5, 5])), K(None)), **NO_AUTOGRAD)
row(sg.unsort,            case(A(5), A(5)), case(A(3, 4), A(3, 4), K(0)), case(A(12), A(3, 4), K(None)), **NO_AUTOGRAD)
row(sg.undiagonal,        case(A(3), A(3, 3)), case(A(3), A(3, 4), K(1)), case(A(4, 2), A(2, 3, 4), K(0), K(0), K(1)), **NO_AUTOGRAD)
row(sg.undiag,            case(A(3, 3), A(3)), case(A(4, 4), A(3), K(1)), case(A(3), A(3, 3)), case(A(2), A(3, 4), K(-1)),
                          **NO_AUTOGRAD)
row(sg.unconcatenate,     case(A(6, 3), K((np.ones((2, 3)), np.ones((4, 3))))),
                          case(A(2, 6), K((np.ones((2, 3)), np.ones((2, 1)), np.ones((2, 2)))), K(1)), **NO_AUTOGRAD)
row(sg.unstack,           case(A(2, 3)), case(A(2, 3, 4), K(1)), case(A(3, 2), K(-1)), **NO_AUTOGRAD)
row(sg.unjoin,            case(A(5), K((np.ones(3), np.ones(2))), K(0), K(np.atleast_1d)),
                          case(A(3, 3), K((np.ones(3), np.ones((2, 3)))), K(0), K(np.atleast_2d)), **NO_AUTOGRAD)
row(sg.unrepeat,          case(A(6), A(3), K(2)), case(A(2, 6), A(2, 3), K(2), K(1)), case(A(4, 3), A(2, 3), K(np.array([1, 3])), K(0)),
                          **NO_AUTOGRAD)
row(sg.unarray,           case(A(3), A(3)), case(A(3), K((1.0, 2.0, 3.0))), case(A(2, 2), K((np.ones(2), np.ones(2)))), **NO_AUTOGRAD)
row(sg.unpad,             case(A(5), A(3), K(1)), case(A(4, 6), A(2, 3), K(((1, 1), (2, 1))), K("reflect")), case(A(7), A(3), K(2), K("wrap")),
                          case(A(4, 5), A(2, 3), K(1), K("edge")), case(A(6, 7), A(2, 3), K(2), K("symmetric")), **NO_AUTOGRAD)
# fmt: on

# fmt: off
SELECT = K([np.array([[True, False, True], [False, False, True]]), np.array([[False, True, False], [True, True, False]])])
BLOCKS = [[np.ones((2, 2)), np.ones((2, 3))], [np.ones(5)]]
row(sg.unblock, case(A(2, 5), K([np.ones((2, 2)), np.ones((2, 3))])), case(A(4), K([np.ones(3), 1.0])),
    autograd=False)  # the test compares one level of lists; np.block's rows cover nested ones
row(sg.block_of, case(L(L(A(2, 2), A(2, 3)), L(A(5))), K(BLOCKS)), case(L(A(3), F), K([np.ones(3), 1.0])),
    autograd=False)
CONDS = [np.array([True, True, False, False]), np.array([False, True, True, False])]
row(sg.piecewise_values_adjoint, case(A(4), K(np.ones(4)), K(CONDS), K([1.0, np.sin, 2.0])),
    case(A(2, 3), K(np.ones((2, 3))), K([np.array([[True, False, True], [False, False, True]])]), K((1.0, 2.0))),
    autograd=False)
row(sg.piecewise_values_tangent, case(L(F, F, F), K(np.ones(4)), K(CONDS), K([1.0, 0.5, 2.0])),
    case(T(F, F), K(np.ones(4)), K(CONDS), K((1.0, 2.0))), autograd=False)
row(sg.unselect,   case(A(2, 3), SELECT, K((np.ones((2, 3)), np.ones(3)))), case(A(2, 3), SELECT, K(np.ones(())), K(-1)),
                   case(A(2, 3), SELECT, K(np.ones((2, 3))), K(1)), **NO_AUTOGRAD)
row(sg.kron_vjp,   case(A(6), A(2), A(3), K(0)), case(A(6), A(2), A(3), K(1)), case(A(4, 6), A(2, 3), A(2, 2), K(0)),
                   case(A(4, 6), A(2, 3), A(2, 2), K(1)), **NO_AUTOGRAD)
row(sg.einsum_vjp, case(A(2, 4), K("ij,jk->ik"), T(A(2, 3), A(3, 4)), K(0)), case(A(2, 4), K("ij,jk->ik"), T(A(2, 3), A(3, 4)), K(1)),
                   case(A(3), K("ii->i"), T(A(3, 3)), K(0)), case(F, K("i,i,i->"), T(A(3), A(3), A(3)), K(2)), **NO_AUTOGRAD)
# fmt: on

# fmt: off
# the transposes of list(x) and tuple(x) (runtime/zeros.py), each the other's rules
row(sg.unsequence,       case(T(A(3), F), K((np.ones(3), 1.0))), case(T(F, F, F), K(np.ones(3))), case(T(A(3), A(3)), K(np.ones((2, 3)))),
                         **NO_AUTOGRAD)
row(sg.sequence_tangent, case(T(A(3), F), K((np.ones(3), 1.0)), K([np.ones(3), 1.0])), case(A(3), K(np.ones(3)), K((1.0, 1.0, 1.0))),
                         case(A(2, 3), K(np.ones((2, 3))), K([np.ones(3), np.ones(3)])), **NO_AUTOGRAD)
# fmt: on

# fmt: off
# attributes of values not surely arrays and repetitions of sequences (runtime/attributes.py, sequences.py)
row(sg.array_attribute,         case(A(2, 3), K("T")), case(A(3), K("T")), case(A(2, 2, 3), K("T")), case(A(2, 3), K("flat")), **NO_AUTOGRAD)
row(sg.unarray_attribute,       case(A(3, 2), K(np.ones((2, 3))), K("T")), case(A(3), K(np.ones(3)), K("T")),
    case(A(6), K(np.ones((2, 3))), K("flat")), **NO_AUTOGRAD)
row(sg.array_attribute_tangent, case(A(2, 3), K(np.ones((2, 3))), K("T")), case(A(3), K(np.ones(3)), K("T")),
    case(A(2, 3), K(np.ones((2, 3))), K("flat")), **NO_AUTOGRAD)
row(sg.repeat_sequence,         case(T(A(2), F), K(3)), case(T(F), K(2)), **NO_AUTOGRAD)
row(sg.unrepeat_sequence,       case(T(A(2), F, A(2), F), K((np.ones(2), 1.0)), K(2)), case(T(F, F, F), K((1.0,)), K(3)),
                                **NO_AUTOGRAD)
row(sg.unrepeat_sequence_count, case(A(3), K([1.0, 2.0, -1.5]), A(3)), case(A(2, 3), K([1.0, 2.0, -1.5]), A(3)), **NO_AUTOGRAD)  # a product
# fmt: on

# fmt: off
# array methods (runtime/attributes.py): x.astype(dtype), x.item(i)
row(sg.astype,        case(A(3), K(np.float64)), case(A(2, 3), K(np.complex128)), beyond_autograd(case(A(2, 3), K(np.int64))),
                      **NO_AUTOGRAD)
row(sg.item,          case(A(3), K(1)), case(A(2, 3), K((1, 2))), case(A(1)), case(A(2, 3), K(4)), **NO_AUTOGRAD)
row(sg.unitem,        case(F, A(3), K(1)), case(F, A(2, 3), K((1, 2))), case(F, A()), **NO_AUTOGRAD)
row(sg.item_tangent,  case(A(3), A(3), K(1)), case(A(2, 3), A(2, 3), K((0, 2))), case(A(), A()), **NO_AUTOGRAD)
# fmt: on

# fmt: off
# np.r_[...] and np.c_[...] (normal/desugar.py's IndexTricks); a slice among the items makes a range
R_ITEMS, C_ITEMS = K((np.ones(3), 1.0, np.ones(2))), K((np.ones((3, 2)), np.ones(3)))
row(sg.index_trick,         case(K(np.r_), T(A(3), F, A(2))), case(K(np.c_), T(A(3, 2), A(3))), case(K(np.r_), T(A(2, 3), A(1, 3))),
                            **NO_AUTOGRAD)
row(sg.unindex_trick,       case(A(6), K(np.r_), R_ITEMS), case(A(3, 3), K(np.c_), C_ITEMS),
                            case(A(8), K(np.r_), K((np.ones(3), slice(1, 6)))), **NO_AUTOGRAD)
row(sg.index_trick_tangent, case(T(A(3), F, A(2)), K(np.r_), R_ITEMS), case(T(A(3, 2), A(3)), K(np.c_), C_ITEMS), **NO_AUTOGRAD)
# fmt: on

# fmt: off
# np.dot's transposes: a number times an array, 1-D and 2-D operands as matmul, N-D dot
row(sg.dot_adjoint_a, case(A(2, 3), F, A(2, 3)), case(F, A(3), A(3)), case(A(2, 4), A(2, 3), A(3, 4)),
                      case(A(2, 3, 4, 2), A(2, 3, 5), A(4, 5, 2)), case(A(2, 3), A(2, 3, 4), A(4)), **NO_AUTOGRAD)
row(sg.dot_adjoint_b, case(A(2, 3), F, A(2, 3)), case(A(3), A(3), F), case(A(2, 4), A(2, 3), A(3, 4)),
                      case(A(2, 3, 4, 2), A(2, 3, 5), A(4, 5, 2)), case(A(2, 3), A(2, 3, 4), A(4)), **NO_AUTOGRAD)
# fmt: on

# fmt: off
# copies with a field replaced (runtime/trees.py): `p._replace(w=v)`, `dataclasses.replace(obj, w=v)`

row(sg.replace_field,         case(Record(), K("w"), A(2, 3)), case(Record(), K("b"), F), case(Record(), K("w"), A(3)), **NO_AUTOGRAD)
row(sg.unreplace_field,       case(Record(), K(Record.kind(np.ones((2, 3)), 1.0)), K("w")), case(Record(), K(Record.kind(np.ones((2, 3)), 1.0)), K("b")),
                              **NO_AUTOGRAD)
row(sg.field_cotangent,       case(Record(), K(Record.kind(np.ones((2, 3)), 1.0)), K("w")), case(Record(), K(Record.kind(np.ones((2, 3)), 1.0)), K("b")),
                              **NO_AUTOGRAD)
row(sg.with_field,            case(A(2, 3), K(Record.kind(np.ones((2, 3)), 1.0)), K("w")), case(F, K(Record.kind(np.ones((2, 3)), 1.0)), K("b")),
                              **NO_AUTOGRAD)
row(sg.replace_field_tangent, case(Record(), A(2, 3), K(Record.kind(np.ones((2, 3)), 1.0)), K("w"), K(np.ones((2, 3)))),
                              case(Record(), F, K(Record.kind(np.ones((2, 3)), 1.0)), K("b"), K(1.0)), **NO_AUTOGRAD)
# fmt: on
