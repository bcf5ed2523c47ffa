"""A tensor layer of rows for the numba module: its forward (out and the cache) and its
backward as fused kernels (:mod:`.numba_tensor`), behind the NumPy module's API.

A layer is fused when each value is a row-wise or column-wise computation over one
``(R, C)`` shape (batchnorm, layernorm, softmax, softmax_with_loss, mse, ...): its arrays
are of shape (R, C), (R, 1), (1, C), (C,) or scalars, its only structural operations are
sums, means and maxima along a row, a column or both (a matrix product is left to the
NumPy code and BLAS). The kernels compute the derivation's values: the forward's
statements (made stable by :func:`.tensor_stable`, proven) and ``d.result``. The class
is the NumPy module's (:func:`.class_source`: constructor, cached attributes, backward
calling ``<layer>_backward``) with its forward calling the fused kernel; the running
averages (``train_flg``), flattening and label indices work as there.

>>> from derive import catalogue
>>> from derive.derivation import derive_spec
>>> d = derive_spec(catalogue.get("layernorm"))
>>> fusable(d), fusable(derive_spec(catalogue.get("affine")))
(True, False)
>>> code = fused_layer_code(d)
>>> "class LayerNorm:" in code.cls and "def layernorm_backward(dout, std, xn, gamma):" in code.function
True
"""
from __future__ import annotations

from ..errors import DeriveError
from ..tensor import shape_of
from .elementwise import LayerCode
from .numba_tensor import Kernel, kernel_source, kind_of_shape
from .numba_tensor_kernels import EXP_KERNELS, ROW_KERNELS
from .stable_tensor import tensor_stable

__all__ = ["fusable", "fused_layer_code", "HELPERS"]

_FEATURES = {"flatten", "running", "momentum", "labels"}

HELPERS = '''def _rows_of(a, work):
    """``a`` as a C-contiguous 2-D array of ``work`` (``a`` itself when it is one)."""
    return np.ascontiguousarray(a, dtype=work)


def _vector_of(a, work):
    """A row or column ``a`` ((1, C), (C,), (R, 1) ...) as a contiguous 1-D array."""
    return np.ascontiguousarray(a, dtype=work).reshape(-1)''' + "\n\n\n" + ROW_KERNELS + \
    "\n\n\n" + EXP_KERNELS


def _layout(d):
    """(R, C, kinds: name -> kind, labels) of a fusable layer; raises DeriveError."""
    spec = d.layer
    if set(spec.features) - _FEATURES:
        raise DeriveError(f"{spec.name}: features {set(spec.features) - _FEATURES} not fused")
    table = spec.symbols()
    if not spec.input_names:
        raise DeriveError(f"{spec.name}: no input array")
    first = shape_of(table[spec.input_names[0]])
    if len(first) != 2:
        raise DeriveError(f"{spec.name}: its input is not of rows")
    rows, cols = first
    dims = {s.name for s in spec.dims()}
    if {rows.name if rows.is_Symbol else "", cols.name if cols.is_Symbol else ""} != dims:
        raise DeriveError(f"{spec.name}: dimensions {dims} are not rows and columns")
    labels = next((t for t in spec.features.get("labels", ()) if t in table
                   and shape_of(table[t]) == (rows, cols)), None)
    kinds = {}
    for n, v in table.items():
        if n in dims:
            continue
        k = kind_of_shape(shape_of(v), rows, cols)
        if k is None:
            raise DeriveError(f"{spec.name}: {n} is not of rows or columns")
        kinds[n] = k
    return rows, cols, kinds, labels


def _forward_values(d, names):
    """The stable values of the forward's statements ``names`` ("out" included)."""
    full = d.layer.named()
    return [(n, tensor_stable(full[n])) for n in names]


def _in_running(spec, running):
    """out in the inputs and the running statistics (test time): the program substituted
    into the output except the statements the running averages replace."""
    e = spec.output_in_names
    program = [(s, v) for s, v in spec.program if s.name not in running]
    for s, v in reversed(program):
        e = e.xreplace({s: v})
    return tensor_stable(e)


def fusable(d) -> bool:
    """True when the tensor layer ``d`` is computed by fused kernels."""
    try:
        rows, cols, kinds, _ = _layout(d)
        spec = d.layer
        cached = _cached(d)
        exprs = [e for _, e in _forward_values(d, ["out", *_statements(d, cached)])]
        exprs += [d.result[w] for w in d.wrt]
        names = {s.name for e in exprs for s in e.free_symbols}
        kernel_source("_check", [(n, kinds[n]) for n in sorted(names & set(kinds))
                                 if kinds[n] != "scalar"] or [(spec.input_names[0], "full")],
                      [n for n in sorted(names) if kinds.get(n) == "scalar"],
                      [(f"v{k}", e) for k, e in enumerate(exprs)],
                      {s.name: ("rows" if s == rows else "cols") for s in spec.dims()},
                      shape=(rows, cols))
        return True
    except (DeriveError, NotImplementedError, KeyError, StopIteration, IndexError, TypeError,
            ValueError):    # what the kernels cannot compute stays the NumPy module's code
        return False


def _needs(d):
    spec = d.layer
    needs = list(dict.fromkeys(n for w in d.wrt for n in d.needs(w)))
    params = list(dict.fromkeys(p for w in d.wrt for p in d.params(w)))
    return needs, params, spec


def _cached(d):
    needs, params, spec = _needs(d)
    return [n for n in needs + params if n not in spec.weight_names and n not in spec.param_names]


def _statements(d, cached):
    spec = d.layer
    named = d.layer.named()
    running = list(spec.features.get("running", ()))
    return [n for n in cached + running if n in named and n != "out"]


def _shape_text(shape, rows, cols) -> str:
    parts = [{rows: "n_rows", cols: "n_cols"}.get(s, str(s)) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _wrapper(fname, kernel, args, values, kinds, scalars, rows, cols, labels, doc):
    """A Python function ``fname(args)`` that prepares the arrays, allocates the values and
    calls ``kernel`` (and ``kernel_labels`` for label indices); returns the values."""
    arrays = [a for a in args if kinds.get(a.split("=")[0]) not in ("scalar", None)]
    floating = [a for a in arrays if a != labels]
    lines = [f"def {fname}({', '.join(args)}):", *doc,
             f"    dtype = _floating({', '.join(floating)})", "    work = _work(dtype)"]
    for a in arrays:
        if a == labels:
            continue
        how = "_rows_of" if kinds[a] == "full" else "_vector_of"
        lines.append(f"    {a}_ = {how}({a}, work)")
    first = next(a for a in arrays if kinds[a] == "full" and a != labels)
    lines.append(f"    n_rows, n_cols = {first}_.shape")
    for n, e in values:
        k = kinds_of_value(e, rows, cols)
        size = {"full": "(n_rows, n_cols)", "row": "n_rows", "col": "n_cols", "scalar": "1"}[k]
        lines.append(f"    {n}_ = np.empty({size}, work)")
    call = [f"{a}_" for a in arrays if a != labels]
    sargs = [f"float({s})" for s in scalars]
    outs = [f"{n}_" for n, _ in values]
    if labels:
        pos = [a for a in arrays].index(labels)
        with_t = call[:pos] + [f"{labels}_"] + call[pos:]
        lines += [f"    if np.asarray({labels}).ndim == 1:      # label indices, not one-hot rows",
                  f"        {labels}_ = np.ascontiguousarray({labels}, dtype=np.int64)",
                  f"        {_call(kernel + '_labels', with_t + sargs + outs)}",
                  "    else:",
                  f"        {labels}_ = _rows_of({labels}, work)",
                  f"        {_call(kernel, with_t + sargs + outs)}"]
    else:
        lines.append(f"    {_call(kernel, call + sargs + outs)}")
    rets = []
    for n, e in values:
        k = kinds_of_value(e, rows, cols)
        rets.append(f"{n}_[0]" if k == "scalar" else f"{n}_" if k == "full" else
                    f"{n}_.reshape{_shape_text(shape_of(e), rows, cols)}")
    lines.append(f"    return {', '.join(rets)}")
    return "\n".join(lines)


def kinds_of_value(e, rows, cols) -> str:
    k = kind_of_shape(shape_of(e), rows, cols)
    if k is None:
        raise DeriveError(f"a value of shape {shape_of(e)} is not of rows or columns")
    return k


def _kernels(name, inputs, scalars, values, dims, labels, shape) -> list:
    """The kernel ``name`` and its ``prange`` variant ``name_p`` (and both for label
    indices, ``name_labels``)."""
    srcs = []
    for suffix, t in (("", None), ("_labels", labels)) if labels else (("", None),):
        kernel = Kernel(inputs, scalars, values, dims, t, shape)
        srcs += [kernel.source(name + suffix, False), kernel.source(name + suffix + "_p", True)]
    return srcs


def _call(kernel, args) -> str:
    return f"({kernel}_p if PARALLEL else {kernel})({', '.join(args)})"


def fused_layer_code(d, api: str = "book1") -> LayerCode:
    """The fused ``<layer>_backward`` function (with its kernels) and class of ``d``."""
    from ..render.printers import text
    from .printer import NumpyCodePrinter
    from .tensor import _default, _grads, upstream_names
    from .tensor_class import (_running, _same_shape_out, class_source, flatten_lines,
                               reshaped_back, running_update, weight_lines)
    rows, cols, kinds, labels = _layout(d)
    needs, params, spec = _needs(d)
    dims = {s.name: ("rows" if s == rows else "cols") for s in spec.dims()}
    name = spec.name

    # backward: the derivation's result
    upstream = upstream_names(spec)
    grads = _grads(d)
    for u in upstream:
        kinds[u] = kind_of_shape(spec.out_shape, rows, cols)
    values = [(g, d.result[w]) for g, w in zip(grads, d.wrt)]
    used = {s.name for _, e in values for s in e.free_symbols}
    b_inputs = [(n, kinds[n]) for n in [*upstream, *needs] if kinds[n] != "scalar"]
    b_scalars = [n for n in [*upstream, *needs, *params] if kinds[n] == "scalar" and n in used]
    parts = _kernels(f"_{name}_backward_kernel", b_inputs, b_scalars, values, dims,
                     labels if labels in needs else None, (rows, cols))
    doc = [f'    """{spec.title} backward: ({", ".join(grads)}), fused loops.', ""]
    doc += [f"    dL/d{w} = {text(d.result[w])}" for w in d.wrt]
    doc.append('    """')
    sig = [*upstream, *needs] + [f"{p}={_default(spec, p)}" for p in params]
    parts.append(_wrapper(f"{name}_backward", f"_{name}_backward_kernel", sig, values, kinds,
                          b_scalars, rows, cols, labels if labels in needs else None, doc))

    # forward: out, the cached statements and the batch statistics
    cached = _cached(d)
    running = _running(spec)
    stats = _statements(d, cached)
    fvalues = _forward_values(d, ["out", *stats])
    inputs = [*spec.input_names, *(c for c in spec.const_names), *spec.weight_names]
    f_inputs = [(n, kinds[n]) for n in inputs if kinds[n] != "scalar"]
    f_scalars = [n for n in (*spec.const_names, *spec.param_names) if kinds[n] == "scalar"]
    parts += _kernels(f"_{name}_forward_kernel", f_inputs, f_scalars, fvalues, dims, labels,
                      (rows, cols))
    fdoc = [f'    """{spec.title} forward: ({", ".join(n for n, _ in fvalues)}), fused loops."""']
    parts.append(_wrapper(f"_{name}_forward", f"_{name}_forward_kernel",
                          [n for n, _ in f_inputs] + f_scalars, fvalues, kinds, f_scalars,
                          rows, cols, labels, fdoc))
    if running:
        test = [("out", _in_running(spec, [n for n, _ in running]))]
        t_inputs = [(n, kinds[n]) for n in inputs if kinds[n] != "scalar"] + \
                   [(n, kinds[n]) for n, _ in running]
        parts += _kernels(f"_{name}_test_kernel", t_inputs, f_scalars, test, dims, None,
                          (rows, cols))
        parts.append(_wrapper(f"_{name}_test", f"_{name}_test_kernel",
                              [n for n, _ in t_inputs] + f_scalars, test, kinds, f_scalars,
                              rows, cols, None, ['    """Test-time forward: out from the '
                                                 'running averages, fused loops."""']))
    function = "\n\n\n".join(parts)

    # the class: the NumPy module's, its forward calling the fused kernels
    printer = NumpyCodePrinter({"allow_unknown_functions": False})
    cls, held = class_source(d, printer, f"{name}_backward", needs + params, params, api)
    head, rest = cls.split("\n    def forward(", 1)
    signature, rest = rest.split("\n", 1)
    back = rest[rest.index("    def backward("):]
    book2 = api == "book2"
    flatten = [] if book2 else [x for x in spec.features.get("flatten", ())
                                if x in spec.input_names]
    body = flatten_lines(flatten) + weight_lines(spec, book2)
    reshape = flatten and _same_shape_out(spec, flatten)
    ret = reshaped_back("out", flatten[0]) if reshape else "out"
    args = ", ".join([n for n, _ in f_inputs] + f_scalars)
    if running:
        targs = ", ".join([n for n, _ in f_inputs] + [f"self.{a}" for _, a in running]
                          + f_scalars)
        body += ["if not train_flg:", f"    out = _{name}_test({targs})", f"    return {ret}"]
    body.append(f"{', '.join(n for n, _ in fvalues)} = _{name}_forward({args})")
    if running:
        body += running_update(running)
    body += [f"self.{n} = {n}" for n in cached]
    body.append(f"return {ret}")
    cls = "\n".join([head, f"    def forward({signature}", *(f"        {b}" for b in body),
                     "", back])
    helpers = {"_rows"} if "_rows(" in cls else set()
    return LayerCode(function, cls, helpers, held)
