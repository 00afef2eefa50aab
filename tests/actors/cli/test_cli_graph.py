"""``workactors node graph PK``: the provenance graph as dot text or an image."""

from __future__ import annotations

import shutil
from pathlib import Path

from actors import Runtime, workfunction
from provenance import Int, Str
from tests.actors.cli.conftest import Cli, PopulatedHome, add_then_double


def test_node_graph_prints_dot_with_the_called_processes(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("node", "graph", str(populated_home.chain), "--depth", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"digraph provenance_{populated_home.chain} {{")
    for child in populated_home.chain_children:
        assert f"N{populated_home.chain} -> N{child}" in result.stdout


def test_node_graph_writes_dot_to_a_file(
    cli: Cli, populated_home: PopulatedHome, tmp_path: Path
) -> None:
    target = tmp_path / "graph.dot"
    result = cli("node", "graph", str(populated_home.add), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "digraph" in target.read_text()


def test_node_graph_of_an_unknown_pk_fails_with_one_line(cli: Cli) -> None:
    result = cli("node", "graph", "999999")
    assert result.exit_code == 1
    assert "no node with pk 999999" in result.stderr
    assert "Traceback" not in result.output


def test_node_graph_as_an_image_needs_graphviz_or_says_so(
    cli: Cli, populated_home: PopulatedHome, tmp_path: Path
) -> None:
    target = tmp_path / "graph.svg"
    result = cli("node", "graph", str(populated_home.add), "-f", "svg", "-o", str(target))
    if shutil.which("dot") is None:
        assert result.exit_code == 1
        assert "needs Graphviz's `dot` on PATH" in result.stderr
    else:
        assert result.exit_code == 0, result.output
        assert target.read_text().lstrip().startswith("<?xml")


@workfunction
def echo(text: Str) -> Str:
    """Return the text unchanged, as a new node."""
    return Str(text.value)


def test_node_graph_draws_any_unicode_and_labels_call_edges_once(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "unicode") as runtime:
        text = Str('Å 25 °C, \u03c3 "quoted" back\\slash <b>')  # sigma
        _result, chain = runtime.run_get_node(add_then_double, Int(1), Int(2))
        echoed, echo_node = runtime.run_get_node(echo, text)
        home = runtime.home
    dot = cli("node", "graph", str(chain.pk), "--depth", "1", home=home)
    assert dot.exit_code == 0, dot.output
    assert dot.stdout.count("label=CALL") == 2
    assert "CALL\\nCALL" not in dot.stdout

    target = tmp_path / "echo.svg"
    image = cli("node", "graph", str(echo_node.pk), "-f", "svg", "-o", str(target), home=home)
    assert image.exit_code == 0, image.output
    svg = target.read_text(encoding="utf-8")
    # Values are drawn as their JSON: in quotes, with JSON's escapes, and nothing else lost.
    assert "&quot;Å 25 °C, \u03c3 \\&quot;quoted\\&quot; back\\\\slash &lt;b&gt;&quot;" in svg
    assert "u00c5" not in svg
    assert echoed.value == text.value
