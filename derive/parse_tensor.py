"""The parser's tensor vocabulary: structural calls and methods, checked as they are built.

``np.sum(x, axis=1, keepdims=True)``, ``x.mean(axis=0)``, ``np.dot(x, W)``,
``np.transpose(x)``, ``x.reshape(N, 1)``, ``np.broadcast_to(b, (N, M))`` and
``np.expand_dims(v, 1)`` become the structural SymPy functions of :mod:`derive.tensor`.
Axes and flags must be literals (never built as expressions); negative axes count from
the end, as in NumPy.

>>> import sympy as sp
>>> from derive.parse import parse
>>> from derive.tensor import Arr, dims
>>> N, D = dims("N D")
>>> parse("np.sum(x**2, axis=-1, keepdims=True)", {"x": Arr("x", (N, D))})
AxisSum(x**2, 1, 1)
>>> parse("x.mean(axis=3)", {"x": Arr("x", (N, D))})
Traceback (most recent call last):
...
derive.errors.ParseError: column 1: .mean(): axis 3 is out of range for shape (N, D)
"""
from __future__ import annotations

import ast

import sympy as sp

from .parse_ops import _REFUSED_OPS
from .tensor import (AxisMax, AxisMean, AxisSum, BroadcastTo, ExpandDims, Reshape,
                     Transposed, show_shape, shape_of)

_REDUCTIONS = {"sum": AxisSum, "mean": AxisMean, "max": AxisMax}
_KEYWORDS = {"sum": ("axis", "keepdims"), "mean": ("axis", "keepdims"), "max": ("axis", "keepdims"),
             "transpose": ("axes",), "expand_dims": ("axis",), "reshape": (), "matmul": (),
             "broadcast": (), "scatter_add": (), "concatenate": ("axis",), "windows": (), "fold": (), "einsum": (),
             "first_max": ("axis",)}
_ARITY = {"sum": (1, 2), "mean": (1, 2), "max": (1, 2), "transpose": (1, 2), "matmul": (2, 2),
          "reshape": (2, None), "broadcast": (2, 2), "expand_dims": (2, 2), "scatter_add": (3, 3),
          "concatenate": (1, 2),
          "windows": (5, 5), "fold": (5, 5), "einsum": (3, 3), "first_max": (1, 2)}


def _axes(p, value, axis, node, spelled):
    rank = len(shape_of(value))
    axes = tuple(range(rank)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    out = []
    for ax in axes:
        if not isinstance(ax, int) or isinstance(ax, bool) or not -rank <= ax < rank:
            raise p.error(f"{spelled}: axis {ax} is out of range for shape "
                          f"{show_shape(shape_of(value))}", node)
        out.append(ax % rank)
    return sorted(set(out))


def build_structural(p, name: str, args: list, node: ast.Call, spelled: str):
    """The structural value of a call (``p`` is the parser, ``args`` the argument nodes)."""
    keywords = {}
    for k in node.keywords:
        if k.arg not in _KEYWORDS[name]:
            label = f"'{k.arg}='" if k.arg else "'**'"
            raise p.error(f"keyword arguments are not supported ({spelled} got {label})", k)
        keywords[k.arg] = k.value
    low, high = _ARITY[name]
    if len(args) < low or (high is not None and len(args) > high):
        want = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
        raise p.error(f"{spelled} takes {want} arguments, got {len(args)}", node)
    if name == "concatenate":
        return _concatenate(p, args, keywords, node, spelled)
    if name in ("windows", "fold", "einsum", "first_max"):
        return _window_call(p, name, args, keywords, node, spelled)
    value = p.value(args[0])
    if name in _REDUCTIONS:
        if len(args) == 2:
            keywords.setdefault("axis", args[1])
        axis = p.literal(keywords["axis"], "axis") if "axis" in keywords else None
        keep = p.literal(keywords["keepdims"], "keepdims") if "keepdims" in keywords else False
        if not isinstance(keep, bool):
            raise p.error(f"{spelled}: keepdims must be True or False", keywords["keepdims"])
        if not shape_of(value):
            if axis is None:
                return value            # the sum of a scalar is itself
            raise p.error(f"{spelled}: axis {axis} is out of range for shape () (a scalar: "
                          "declare its shape with --shape)", node)
        axes = _axes(p, value, axis, node, spelled)
        build = _REDUCTIONS[name]
        return p.build(node, lambda v: build(v, sp.Integer(int(keep)), *axes), [value], args,
                       spelled)
    if name == "matmul":
        from .parse_ops import _matmul
        return p.build(node, _matmul, [value, p.value(args[1])], args, spelled)
    if name == "transpose":
        axes = p.literal(keywords.get("axes", args[1]) if (len(args) > 1 or "axes" in keywords)
                         else ast.Constant(None), "axes")
        if axes not in (None, (1, 0), [1, 0]):
            raise p.error(f"{spelled}: only the transpose of a 2-D array (axes (1, 0))", node)
        return p.build(node, Transposed, [value], args, spelled)
    if name == "reshape":
        shape = p.dims_literal(args[1]) if len(args) == 2 else tuple(
            v for a in args[1:] for v in p.dims_literal(a))
        return p.build(node, lambda v: Reshape(v, *shape), [value], args, spelled)
    if name == "broadcast":
        shape = p.dims_literal(args[1])
        return p.build(node, lambda v: BroadcastTo(v, *shape), [value], args, spelled)
    if name == "expand_dims":
        axis = p.literal(keywords.get("axis", args[1]), "axis")
        axes = axis if isinstance(axis, tuple) else (axis,)
        rank = len(shape_of(value)) + len(axes)
        if any(not isinstance(a, int) or not -rank <= a < rank for a in axes):
            raise p.error(f"{spelled}: axis {axis} is out of range", node)
        return p.build(node, lambda v: ExpandDims(v, *sorted(a % rank for a in axes)), [value],
                       args, spelled)
    if name == "scatter_add":
        return _scatter_add(p, value, args, node, spelled)
    raise p.error(f"{spelled} is not supported", node)


def _scatter_add(p, value, args, node, spelled):
    """``scatter_add(G, idx, W.shape)``: the rows of G added at rows idx of zeros shaped
    like W (how an embedding's gradient prints; np.add.at in code)."""
    from .errors import ShapeError
    from .gather import ScatterAdd
    rows, like = args[1], args[2]
    if not (isinstance(like, ast.Attribute) and like.attr == "shape"):
        raise p.error(f"{spelled}: the third argument is the shape of an array, NAME.shape", like)
    idx = p.value(rows)
    if not (isinstance(idx, sp.Symbol) and idx.is_integer and shape_of(idx)):
        raise p.error(f"{spelled}: the second argument must be an index array", rows)
    W = p.value(like.value)
    try:
        return ScatterAdd(value, idx, W)
    except ShapeError as exc:
        raise p.error(f"{spelled}: {exc}", node) from None


def _window_call(p, name, args, keywords, node, spelled):
    """``windows(x, FH, FW, stride, pad)``, ``fold(G, H, W, stride, pad)``,
    ``np.einsum('ncpqij,fcpq->nfij', a, b)`` and ``first_max(a, axis=(2, 3))``."""
    from .windows import FirstMax, Fold, Windows, einsum
    if name == "einsum":
        spec = args[0]
        if not (isinstance(spec, ast.Constant) and isinstance(spec.value, str)
                and "->" in spec.value and spec.value.count(",") == 1
                and spec.value.replace(",", "").replace("->", "").replace(" ", "").isalpha()):
            raise p.error(f"{spelled}: the subscripts must be a literal string 'ab,bc->ac' "
                          "with two operands and an explicit output", spec)
        text = spec.value
        return p.build(node, lambda a, b: einsum(text, a, b),
                       [p.value(args[1]), p.value(args[2])], args[1:], spelled)
    value = p.value(args[0])
    if name == "first_max":
        axis = keywords.get("axis", args[1] if len(args) > 1 else None)
        if axis is None:
            raise p.error(f"{spelled}: give the window axes, axis=(2, 3)", node)
        axes = _axes(p, value, p.literal(axis, "axis"), node, spelled)
        return p.build(node, lambda v: FirstMax(v, *axes), [value], args, spelled)
    sizes = []
    for a in args[1:]:
        v = p.value(a)
        if not (v.is_Integer and v >= 0 or v.is_Symbol and v.is_integer and v.is_nonnegative):
            raise p.error(f"{spelled}: sizes, stride and pad are integers, dimensions or "
                          "integer parameters (param(integer=True))", a)
        sizes.append(v)
    cls = Windows if name == "windows" else Fold
    return p.build(node, lambda v: cls(v, *sizes), [value], args, spelled)


def _concatenate(p, args, keywords, node, spelled):
    """``np.concatenate([a, b, ...], axis=k)``: parts of one shape but along the axis (the
    book's np.hstack of an LSTM's gate gradients)."""
    from .errors import ShapeError
    from .slices import Concat
    if not isinstance(args[0], (ast.List, ast.Tuple)) or len(args[0].elts) < 2:
        raise p.error(f"{spelled}: the first argument is a list of at least two arrays", args[0])
    at = keywords.get("axis", args[1] if len(args) > 1 else ast.Constant(0))
    axis = p.literal(at, "axis")
    parts = [p.value(e) for e in args[0].elts]
    rank = len(shape_of(parts[0]))
    if not isinstance(axis, int) or isinstance(axis, bool) or not -rank <= axis < rank:
        raise p.error(f"{spelled}: axis {axis} is out of range", at)
    axis %= rank
    for q in parts[1:]:
        a, b = shape_of(parts[0]), shape_of(q)
        if len(a) != len(b) or any(x != y for k, (x, y) in enumerate(zip(a, b)) if k != axis):
            raise p.error(f"{spelled}: shapes {show_shape(a)} and {show_shape(b)} differ off "
                          f"axis {axis}", node)
    try:
        return Concat(sp.Integer(axis), *parts)
    except ShapeError as exc:
        raise p.error(f"{spelled}: {exc}", node) from None


# ---- subscripts -------------------------------------------------------------------------

def _slices(p, node: ast.Subscript):
    """``A[:, H:2*H]``: a slice along each axis written with bounds (no step); an axis
    written ``:`` is kept whole."""
    from .errors import ShapeError
    from .slices import Slice
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    value = p.value(node.value)
    shape = shape_of(value)
    if len(items) > len(shape):
        raise p.error(f"{len(items)} indices for a value of shape "
                         f"({', '.join(map(str, shape))})", node.slice)
    for axis, item in enumerate(items):
        if not isinstance(item, ast.Slice):
            raise p.error("index each axis with a slice such as 0:H or : (an integer "
                             "index or an array of indices is not supported here)", item)
        if item.step is not None:
            raise p.error("a slice with a step is not supported", item.step)
        start = p.value(item.lower) if item.lower is not None else sp.Integer(0)
        stop = p.value(item.upper) if item.upper is not None else shape[axis]
        for bound, where in ((start, item.lower), (stop, item.upper)):
            if shape_of(bound) or not (bound.is_integer or bound.is_Integer):
                raise p.error("slice bounds are integers or dimensions (H, 2*H)",
                                 where or item)
        try:
            value = Slice(value, sp.Integer(axis), start, stop)
        except ShapeError as exc:
            raise p.error(str(exc), item) from None
    return value

def _gather(p, node: ast.Subscript):
    from .gather import Gather
    if isinstance(node.slice, (ast.Slice, ast.Tuple)):
        return _slices(p, node)
    if not isinstance(node.slice, ast.Name):
        raise p.error(_REFUSED_OPS[ast.Subscript], node)
    rows = p.value(node.slice)
    if not (isinstance(rows, sp.Symbol) and rows.is_integer and shape_of(rows)):
        raise p.error(f"{node.slice.id} is not an index array: declare it as "
                         f"{node.slice.id}: index(\"N\") to write W[{node.slice.id}]", node.slice)
    W = p.value(node.value)
    if not shape_of(W):
        raise p.error("only an array can be indexed by rows", node.value)
    return Gather(W, rows)

def subscript(p, node: ast.Subscript):
    """``x.shape[i]`` (a dimension of a declared array), or ``W[idx]`` with ``idx`` an
    index array (role ``index``): the rows of W it picks."""
    target = node.value
    if not (isinstance(target, ast.Attribute) and target.attr == "shape"):
        return _gather(p, node)
    shape = shape_of(p.value(target.value))
    axis = p.literal(node.slice, "the axis of x.shape[...]")
    if not isinstance(axis, int) or not -len(shape) <= axis < len(shape):
        raise p.error(f"x.shape[{axis}]: the value has shape "
                         f"({', '.join(map(str, shape))}); no axis {axis}", node.slice)
    return shape[axis]
