"""How many threads a process's native runtimes may use (telltales.cpu), and that the OCR obeys it."""

from __future__ import annotations

import os

import pytest

from telltales import cpu


@pytest.mark.parametrize(("value", "expected"), [("3", 3), ("1", 1)])
def test_threads_follow_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(cpu.ENV, value)
    assert cpu.threads() == expected


@pytest.mark.parametrize("value", [None, "", "0", "-2", "many"])
def test_threads_default_to_at_most_two_cores(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(cpu.ENV, raising=False)
    else:
        monkeypatch.setenv(cpu.ENV, value)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert cpu.threads() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert cpu.threads() == 1


@pytest.mark.parametrize(("cores", "jobs", "share"), [(8, 1, None), (8, 2, 4), (8, 3, 2), (2, 2, 1), (2, 4, 1)])
def test_worker_share(monkeypatch, cores, jobs, share):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert cpu.worker_share(jobs) == share


def test_share_cores_sets_the_environment_only_when_asked(monkeypatch):
    monkeypatch.delenv(cpu.ENV, raising=False)
    cpu.share_cores(None)
    assert cpu.ENV not in os.environ
    cpu.share_cores(3)
    assert os.environ[cpu.ENV] == "3"
    assert cpu.threads() == 3


def test_ocr_engines_use_this_processes_share(monkeypatch):
    """rapidocr's default is onnxruntime's: every core, in every worker process."""
    from telltales.analyses import ocr

    monkeypatch.setenv(cpu.ENV, "1")
    params = ocr._params()
    assert params["EngineConfig.onnxruntime.intra_op_num_threads"] == 1
    assert params["EngineConfig.onnxruntime.inter_op_num_threads"] == 1


def test_worker_processes_are_spawned_not_forked():
    from telltales.cpu import process_pool

    pool = process_pool(1)
    try:
        assert pool._mp_context.get_start_method() == "spawn"  # see process_pool's docstring
        assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
    finally:
        pool.shutdown()
