"""Collection for the whole tree: the optional backends' generated modules import numba or
jax, which the default install does not have (``pip install -e '.[fast]'`` / ``'.[jax]'``;
the test extra has both), so without them those modules are not collected for doctests."""
import importlib.util

collect_ignore = [path for lib, path in (("numba", "numeric/generated_numba.py"),
                                         ("jax", "numeric/generated_jax.py"))
                  if importlib.util.find_spec(lib) is None]
