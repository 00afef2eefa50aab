"""Class paths in checkpoints are judged before anything is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from persistence import CheckpointLoadError, import_class
from persistence.loadable import check_class_path, find_class_module

#: Modules whose import does something visible: a checkpoint must never make us import them.
NEVER_IMPORTED = ("antigravity", "this", "webbrowser", "turtledemo", "idlelib")


@pytest.mark.parametrize(
    "class_path",
    [
        "antigravity.Process",
        "this.Process",
        "webbrowser.Process",
        "os.path.Process",
        "idlelib.idle.Process",
        "sys.Process",
        "sitecustomize.Process",
    ],
)
def test_a_class_path_into_the_standard_library_is_refused(class_path: str) -> None:
    with pytest.raises(CheckpointLoadError, match=r"in the standard library .*not imported"):
        check_class_path(class_path)


@pytest.mark.parametrize("class_path", ["__main__.Process", "__mp_main__.P", "__hello__.P"])
def test_a_class_path_into_main_or_an_interpreter_module_is_refused(class_path: str) -> None:
    with pytest.raises(CheckpointLoadError, match=r"__main__ or an interpreter module"):
        find_class_module(class_path)


@pytest.mark.parametrize(
    "class_path", ["Process", "", "a..B", "a.<locals>.B", "1a.B", "a.B ", "a/b.C", ".a.B"]
)
def test_a_path_that_names_no_module_level_class_is_refused(class_path: str) -> None:
    with pytest.raises(CheckpointLoadError, match="Only classes defined at module level"):
        find_class_module(class_path)


def test_a_module_that_is_nowhere_on_the_search_path_is_refused() -> None:
    with pytest.raises(CheckpointLoadError, match="no module of that name on the module search"):
        find_class_module(f"no_such_package_{uuid.uuid4().hex}.Process")


@pytest.fixture
def noisy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A package on the search path whose modules leave a mark in a file when imported."""
    name = f"noisy_{uuid.uuid4().hex}"
    marks = tmp_path / "marks"
    package = tmp_path / "path" / name
    (package / "inner").mkdir(parents=True)
    mark = f"open({str(marks)!r}, 'a').write(__name__ + '\\n')\n"
    (package / "__init__.py").write_text(mark)
    (package / "inner" / "__init__.py").write_text(mark)
    (package / "inner" / "steps.py").write_text(
        mark + "class Step:\n    class Nested:\n        pass\n"
    )
    namespace = tmp_path / "path" / f"{name}_ns"  # a namespace package: no __init__.py
    namespace.mkdir()
    (namespace / "flat.py").write_text(mark + "class Flat:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path / "path"))
    yield name, marks
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_the_module_of_a_class_path_is_found_without_importing_it_or_its_parents(
    noisy_package: tuple[str, Path],
) -> None:
    name, marks = noisy_package
    assert find_class_module(f"{name}.inner.steps.Step.Nested") == (
        f"{name}.inner.steps",
        ("Step", "Nested"),
    )
    assert find_class_module(f"{name}.inner.Missing") == (f"{name}.inner", ("Missing",))
    assert find_class_module(f"{name}_ns.flat.Flat") == (f"{name}_ns.flat", ("Flat",))
    assert not marks.exists()
    assert not [module for module in sys.modules if module.startswith(name)]
    # Importing is import_class's job, and it imports the module found, parents first.
    assert import_class(f"{name}.inner.steps.Step.Nested").__qualname__ == "Step.Nested"
    assert marks.read_text().split() == [name, f"{name}.inner", f"{name}.inner.steps"]


def test_import_class_refuses_a_standard_library_path_before_importing_anything() -> None:
    with pytest.raises(CheckpointLoadError, match="not imported"):
        import_class("collections.OrderedDict")


REFUSALS = textwrap.dedent(
    """
    import json, pickle, struct, sys, hmac, hashlib
    from pathlib import Path

    from persistence import Checkpoint, CheckpointLoadError, PicklePersistence, import_class
    from persistence.codec import MAGIC
    from persistence.envelope import pack, summarise
    from tests.persistence import format1

    watched = json.loads(sys.argv[2])
    already = [name for name in watched if name in sys.modules]
    store = PicklePersistence.create_from_basedir(sys.argv[1])
    codec, key = store.codec, store.codec._key
    refused = []

    def signed_v2(pid, class_path, payload):
        envelope = pack(summarise(pid, class_path, {}, len(payload), created=1.0, updated=1.0))
        header = struct.pack(">8sHIQ", MAGIC, 2, len(envelope), len(payload))
        digest = hmac.new(key, header + envelope + payload, hashlib.sha256).digest()
        return header + digest + envelope + payload

    pid = 0
    for module in watched + ["__main__"]:
        for legacy in (False, True):
            pid += 1
            state = {"state": "running"}
            if legacy:
                data = format1.encode_checkpoint(key, pid, module + ".Process", state)
            else:
                data = codec.encode(Checkpoint(pid, module + ".Process", state))
                assert codec.describe(data).class_path == module + ".Process"
            Path(store.get_running_path(pid)).write_bytes(data)
            try:
                codec.decode(data)
            except CheckpointLoadError:
                refused.append(pid)
        try:
            import_class(module + ".Process")
        except CheckpointLoadError:
            refused.append(module)
    # A checkpoint for an ordinary class whose payload names antigravity.
    pid += 1
    payload = b"(dp0\\nVstate\\np1\\nVrunning\\np2\\nsVx\\np3\\ncantigravity\\ngeohash\\np4\\ns."
    data = signed_v2(pid, "tests.persistence.children.Plain", payload)
    Path(store.get_running_path(pid)).write_bytes(data)
    try:
        codec.decode(data)
    except CheckpointLoadError:
        refused.append(pid)
    loaded = store.load_all_processes()
    failed = sorted(int(path.stem) for path in store.failed_directory.glob("*.pickle"))
    imported = [name for name in watched if name in sys.modules]
    print(json.dumps({"already": already, "imported": imported, "refused": refused,
                      "loaded": len(loaded), "failed": failed, "count": pid}))
    """
)


def test_a_signed_checkpoint_naming_a_module_that_must_not_be_imported_is_refused_unimported(
    tmp_path: Path,
) -> None:
    root = str(Path(__file__).parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", REFUSALS, str(tmp_path / "base"), json.dumps(NEVER_IMPORTED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])  # after structlog's default output
    assert report["already"] == []
    assert report["imported"] == []
    count = report["count"]
    expected: list[int | str] = []
    for index, module in enumerate([*NEVER_IMPORTED, "__main__"]):
        expected += [2 * index + 1, 2 * index + 2, module]
    assert report["refused"] == [*expected, count]
    assert report["loaded"] == 0
    assert report["failed"] == list(range(1, count + 1))
    reasons = [path.read_text() for path in (tmp_path / "base" / "failed").glob("*.reason*")]
    assert len(reasons) == count
    assert all("not imported" in reason or "never imported" in reason for reason in reasons)
