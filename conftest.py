"""Collection for the whole tree: the optional backends' generated modules import numba or
jax, which the default install does not have (``pip install -e '.[fast]'`` / ``'.[jax]'``;
the test extra has both), so without them those modules are not collected for doctests."""
import importlib.util

collect_ignore = [path for lib, path in (("numba", "numeric/generated_numba.py"),
                                         ("jax", "numeric/generated_jax.py"))
                  if importlib.util.find_spec(lib) is None]


_LATE = {"test_backend_jax.py", "test_backend_numba.py", "generated_jax.py",
         "generated_numba.py"}


def pytest_collection_modifyitems(session, config, items):
    """The tests that start JAX's or numba's thread pools run last (a stable sort keeps
    the rest in order): a process that forks after JAX's backend started warns that the
    child may deadlock, and many tests start subprocesses (the sandbox, the CLI)."""
    items.sort(key=lambda item: item.path.name in _LATE)
