"""Run the verifier on a user's class in a child process, with limits, and bring back a verdict.

The user's code may do anything: print, exit, crash, loop forever, flood warnings,
allocate without end. None of that may reach the caller, so
:func:`verify_isolated` runs it in ``python -I -B`` (no environment-driven start-up,
no ``.pyc`` files written into the user's folder), in a new session, with

* a time limit (``timeout``, seconds, wall clock; then the whole process group is
  killed);
* an address-space limit (``memory`` bytes, RLIMIT_AS: a huge allocation is a
  MemoryError inside the class's call, so a failure line);
* a size limit on what it may print (``output_limit`` bytes, RLIMIT_FSIZE) and no
  core files.

The child's stdin is /dev/null and its stdout/stderr go to a capture file that is
counted, never shown; the child reports on a separate file, one JSON record a line
(``{"phase": ...}`` before each call into the class, then ``{"report": ...}``), so
nothing the class prints can corrupt the result. The request — the case as JSON
(:meth:`LayerCase.to_dict`), the reference module's source text and class name,
``module:Class`` — goes the same way, as files in a private temporary folder.

The current directory comes first on the child's ``sys.path`` (``mymodule:MyClass``
imports as it would in the caller), followed by the caller's own path.

Outcomes (:class:`Outcome`): ``report`` (the verification finished), ``failure`` (one
line: it exited, crashed, hung, printed too much — never a pass), ``bad_input``
(the module or class cannot be found or imported: the caller's exit 2).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.util
import inspect
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Outcome", "verify_isolated", "child_main", "load_module", "MEMORY", "TIMEOUT",
           "OUTPUT_LIMIT"]

TIMEOUT = 60.0
MEMORY = 4 << 30
OUTPUT_LIMIT = 8 << 20
_BOOT = ("import json, sys; w = sys.argv[1]; "
         "sys.path[:] = json.load(open(w + '/request.json'))['sys_path']; "
         "import numeric.sandbox as s; s.child_main(w)")


@dataclass
class Outcome:
    """What came back from the child (see the module docstring)."""

    report: dict | None = None
    text: str = ""                 # the report rendered by the verifier, when there is one
    failure: str | None = None
    bad_input: str | None = None
    output_bytes: int = 0
    phase: str = ""                # the last thing the child said it was doing

    @property
    def ok(self) -> bool:
        return self.failure is None and self.report is not None and bool(self.report["ok"])


def verify_isolated(spec: str, case, reference_source: str, reference_class: str, *,
                    strict: bool = False, seed: int = 0, timeout: float = TIMEOUT,
                    memory: int = MEMORY, output_limit: int = OUTPUT_LIMIT,
                    cwd=None) -> Outcome:
    """Verify the class ``spec`` (``module:Class``) against ``reference_class`` of the source."""
    cwd = os.path.abspath(cwd or os.getcwd())
    root = str(Path(__file__).resolve().parent.parent)
    path = [cwd] + [p for p in sys.path if p and os.path.abspath(p) != cwd] + [root]
    work = Path(tempfile.mkdtemp(prefix="derive-verify-"))
    try:
        (work / "reference.py").write_text(reference_source, encoding="utf-8")
        (work / "request.json").write_text(json.dumps({
            "spec": spec, "case": case.to_dict(), "reference_class": reference_class,
            "strict": strict, "seed": seed, "memory": memory, "output_limit": output_limit,
            "sys_path": path, "cwd": cwd}), encoding="utf-8")
        env = {**os.environ}
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")   # small arrays; and BLAS threads reserve address space
        with open(work / "output.txt", "wb") as output:
            child = subprocess.Popen([sys.executable, "-I", "-B", "-c", _BOOT, str(work)],
                                     cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            timed_out = _wait(child, timeout)
        return _outcome(work, child.returncode, timed_out, timeout, output_limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _wait(child, timeout: float) -> bool:
    """Wait for the child; then kill its whole process group (whatever it started lives no
    longer than it), at once on timeout or on our own interruption."""
    try:
        child.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        return True
    finally:
        try:
            os.killpg(child.pid, signal.SIGKILL)   # its own session: only its processes
        except OSError:
            pass
        child.wait()


def _records(work: Path) -> list:
    try:
        lines = (work / "result.jsonl").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def _outcome(work: Path, code: int, timed_out: bool, timeout: float, limit: int) -> Outcome:
    records = _records(work)
    result = Outcome()
    for r in records:
        result.phase = r.get("phase", result.phase)
        for key in ("report", "text", "failure", "bad_input"):
            if key in r:
                setattr(result, key, r[key])
    try:
        result.output_bytes = (work / "output.txt").stat().st_size
    except OSError:
        pass
    during = f" during {result.phase}" if result.phase else ""
    if timed_out:
        result.failure = (f"the class did not finish within {timeout:g} s{during} (an endless "
                          "loop?); it was stopped")
    elif result.output_bytes >= limit:
        result.failure = (f"the class printed more than {limit >> 20} MiB of output{during}; "
                          "output is capped (and never shown)")
    elif result.report is None and result.failure is None and result.bad_input is None:
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            result.failure = f"the process crashed with {name}{hint}{during}; no verdict"
        else:
            result.failure = (f"the process ended with exit status {code}{during} (os._exit?) "
                              "before the verification finished; no verdict")
    return result


# --- in the child -------------------------------------------------------------------------

def _limit(request: dict) -> None:
    for which, value in ((resource.RLIMIT_AS, request["memory"]),
                         (resource.RLIMIT_FSIZE, request["output_limit"]),
                         (resource.RLIMIT_CORE, 0)):
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails instead


def child_main(workdir: str) -> None:
    """The child's side: import the class, run :func:`numeric.verify.verify_class`, report."""
    work = Path(workdir)
    request = json.loads((work / "request.json").read_text(encoding="utf-8"))
    _limit(request)
    result = os.open(work / "result.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def emit(**record) -> None:
        os.write(result, (json.dumps(record) + "\n").encode("utf-8"))

    try:
        emit(**_run(request, work, emit))
    except BaseException as exc:  # noqa: B036 - the child must always answer
        emit(failure=f"the class raised {type(exc).__name__} out of the verifier; no verdict")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036
            pass
    os._exit(0)


def _run(request: dict, work: Path, emit) -> dict:
    from numeric.layercase import LayerCase
    from numeric.verify import verify_class
    spec = request["spec"]
    modname, clsname = spec.split(":")
    emit(phase=f"importing {modname}")
    try:
        module = importlib.import_module(modname)
    except SystemExit as exc:
        return {"failure": f"importing {modname} called sys.exit({exc.code!r}); no verdict"}
    except ModuleNotFoundError as exc:
        return {"bad_input": f"--class {spec}: cannot import {exc.name!r} (looked in "
                             f"{request['cwd']} and PYTHONPATH)"}
    except Exception as exc:  # the user's module may raise anything on import
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        return {"bad_input": f"--class {spec}: importing {modname} raised "
                             f"{type(exc).__name__}: {text}"}
    cls = getattr(module, clsname, None)
    if not inspect.isclass(cls):
        return {"bad_input": f"--class {spec}: {modname} has no class {clsname}"}
    source = (work / "reference.py").read_text(encoding="utf-8")
    reference = getattr(load_module(source, "derive_reference"), request["reference_class"])
    case = LayerCase.from_dict(request["case"])
    phase = {"now": ""}

    def progress(text: str) -> None:
        phase["now"] = text
        emit(phase=text)
    try:
        report = verify_class(cls, case, reference, strict=request["strict"],
                              seed=request["seed"], progress=progress)
    except KeyboardInterrupt:
        return {"failure": f"the class raised KeyboardInterrupt during {phase['now']}; "
                           "no verdict"}
    return {"report": report.to_dict(), "text": report.render()}


# --- a module from source text --------------------------------------------------------------

class _TextLoader(importlib.abc.SourceLoader):
    """Import machinery for a module whose source is a string (derive's exported code)."""

    def __init__(self, source: str, name: str):
        self.source, self.path = source, f"<{name}>"

    def get_data(self, path):
        return self.source.encode("utf-8")

    def get_filename(self, fullname):
        return self.path


_MODULES: dict = {}


def load_module(source: str, name: str):
    """The module whose source is ``source`` (imported once per distinct text)."""
    key = (name, hashlib.sha256(source.encode("utf-8")).hexdigest())
    if key not in _MODULES:
        loader = _TextLoader(source, name)
        spec = importlib.util.spec_from_loader(name, loader, origin=loader.path)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        _MODULES[key] = module
    return _MODULES[key]

