r"""The ``def`` file's declarations: argument annotations (roles, shapes, flags), default
numbers, and the docstring's title and ``key: value`` lines (read from the AST only).

>>> _metadata("Scaled tanh.\n\nnote: bounded\nclass: ScaledTanh")
{'title': 'Scaled tanh.', 'note': ['bounded'], 'assume': [], 'class': 'ScaledTanh'}
>>> _features({"dropout": "mask (ratio=0.3, inverted)"})
{'dropout': 'mask', 'ratio': 0.3, 'inverted': True}
"""
from __future__ import annotations

import ast
from fractions import Fraction

from .errors import DeriveError

ROLES = ("input", "weight", "const", "param", "index")
_META = ("class", "note", "assume", "flatten", "running", "dropout", "labels", "loop")
_ROLES = ROLES


# the type hints a NumPy forward already carries: a float or int argument is a scalar
# parameter (an int one integer-valued), an array one an input
_PYTHON_HINTS = {"float": ("param", None, False, False), "int": ("param", None, False, True),
                 "ndarray": ("input", None, False, False)}


def _literal_number(node, parser):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal_number(node.operand, parser)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        source = ast.get_source_segment(parser.original, node) or repr(node.value)
        return float(Fraction(source.replace("_", ""))) if type(node.value) is float else float(node.value)
    raise parser.error("a default must be a number", node)


def _annotation(node, parser) -> tuple:
    """(role, shape text or None, positive, integer) from an argument's annotation."""
    if node is None:
        return "input", None, False, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "input", node.value, False, False
    if isinstance(node, ast.Name) and node.id in _PYTHON_HINTS:
        return _PYTHON_HINTS[node.id]
    if isinstance(node, ast.Attribute) and node.attr == "ndarray" \
            and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy"):
        return _PYTHON_HINTS["ndarray"]
    if isinstance(node, ast.Name) and node.id in (*_ROLES, "positive"):
        return ("input" if node.id == "positive" else node.id), None, node.id == "positive", False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ROLES:
        dims = []
        for a in node.args:
            if not (isinstance(a, ast.Constant) and type(a.value) in (str, int)):
                raise parser.error("dimensions are strings such as \"N\" or integers", a)
            dims.append(str(a.value))
        flags = {"positive": False, "integer": False}
        for k in node.keywords:
            allowed = ("positive", "integer") if node.func.id == "param" and not dims else \
                ("positive",)
            if k.arg not in allowed or not isinstance(k.value, ast.Constant):
                raise parser.error(f"{node.func.id}() takes dimensions and positive=True"
                                   + (" (a param: integer=True)" if node.func.id == "param"
                                      else ""), k)
            flags[k.arg] = bool(k.value.value)
        return node.func.id, ",".join(dims), flags["positive"], flags["integer"]
    raise parser.error("an annotation is a shape string (\"N, D\") or input(...), weight(...), "
                       "const(...), index(...), param, positive (or float, int, np.ndarray)", node)


def _docstring(body) -> tuple:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].value.value, body[1:]
    return "", body


def _metadata(doc: str) -> dict:
    """Title and ``key: value`` lines of a layer's docstring."""
    lines = [line.strip() for line in doc.strip().splitlines()]
    title_lines = []
    for line in lines:
        if not line:
            break
        title_lines.append(line)
    meta = {"title": " ".join(title_lines), "note": [], "assume": []}
    for line in lines[len(title_lines):]:
        key, sep, value = line.partition(":")
        if sep and key.strip() in _META:
            if key.strip() in ("note", "assume"):
                meta[key.strip()].append(value.strip())
            else:
                meta[key.strip()] = value.strip()
    return meta


def _assumption(text: str, names: set) -> tuple:
    """``np.sum(t, axis=1) == 1`` -> ("t", 1, 1, text), checked by its AST."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        node = None
    ok = (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
          and isinstance(node.left, ast.Call) and isinstance(node.left.func, ast.Attribute)
          and node.left.func.attr == "sum" and len(node.left.args) == 1
          and isinstance(node.left.args[0], ast.Name)
          and [k.arg for k in node.left.keywords] == ["axis"]
          and isinstance(node.left.keywords[0].value, ast.Constant)
          and isinstance(node.comparators[0], ast.Constant))
    if not ok or node.left.args[0].id not in names:
        raise DeriveError(f"assume: {text!r}: write it as np.sum(NAME, axis=K) == VALUE")
    return (node.left.args[0].id, int(node.left.keywords[0].value.value),
            node.comparators[0].value, text)


def _features(meta) -> dict:
    out = {}
    for key in ("flatten", "running", "labels"):
        if key in meta:
            out[key] = tuple(v.strip() for v in meta[key].split("(")[0].split(",") if v.strip())
    if "running" in meta and "momentum" in meta["running"]:
        out["momentum"] = float(meta["running"].split("momentum")[1].strip(" )="))
    if "loop" in meta:                  # a time layer: the named cell run over T steps
        out["loop"] = meta["loop"].split("(")[0].strip()
    if "dropout" in meta:
        mask, _, rest = meta["dropout"].partition("(")
        out["dropout"] = mask.strip()
        words = rest.replace(",", " ").replace("=", " ").replace(")", " ").split()
        numbers = [w for w in words if w.replace(".", "", 1).isdigit()]
        out["ratio"] = float(numbers[0]) if numbers else 0.5
        if "inverted" in words:        # the mask is scaled by 1/(1 − ratio) in training
            out["inverted"] = True
    return out
