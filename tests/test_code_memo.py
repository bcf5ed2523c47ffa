"""The exported-code memo (derive.codegen.module.code_for): copies, and bounded memory."""
from __future__ import annotations

from derive.codegen import module
from derive.derivation import derive


def test_each_caller_gets_its_own_copy():
    d = derive(expr="x*np.tanh(x)", name="xtanh")
    first = module.code_for(d)
    first.helpers.add("tampered")
    first.caches.append(("tampered", "nothing"))
    again = module.code_for(d)
    assert "tampered" not in again.helpers
    assert ("tampered", "nothing") not in again.caches


def test_a_long_session_keeps_at_most_the_limit_dropping_the_oldest(monkeypatch):
    monkeypatch.setattr(module, "CODES_LIMIT", 3)
    monkeypatch.setattr(module, "_CODES", {})
    ds = [derive(expr=f"{k + 2}*np.exp(x)", name=f"scaled{k}") for k in range(5)]
    for d in ds:
        module.code_for(d)
    assert len(module._CODES) == 3
    kept = {hit[0].name for hit in module._CODES.values()}
    assert kept == {"scaled2", "scaled3", "scaled4"}
