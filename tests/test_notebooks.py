"""The notebooks in notebooks/ run end to end with small draws, so they never rot.

Each notebook runs in its own kernel with ``BAYESCALE_QUICK=1`` (its first cell then
samples 2 chains of 100 draws); the kernel compiles its own models. Select these with
``-m notebook`` or leave them out with ``-m "not notebook"``.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor, wait

import nbformat
import pytest
from conftest import CHINCHILLA_CSV, ROOT
from nbclient import NotebookClient

pytestmark = pytest.mark.notebook

NOTEBOOKS = ROOT / "notebooks"
TIMEOUT = 900
CHINCHILLA = "03_chinchilla_refit.ipynb"


def _run(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    return client.execute()


@pytest.fixture(scope="module")
def executed() -> dict[str, nbformat.NotebookNode | Exception]:
    """Every notebook, run concurrently (each kernel mostly waits on its own compile)."""
    names = [path.name for path in sorted(NOTEBOOKS.glob("*.ipynb"))]
    if not CHINCHILLA_CSV.is_file():
        names.remove(CHINCHILLA)
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(len(names)) as pool:
        patch.setenv("BAYESCALE_QUICK", "1")
        futures = {name: pool.submit(_run, name) for name in names}
        wait(futures.values())
    return {name: future.exception() or future.result() for name, future in futures.items()}


def _notebook(executed, name: str) -> nbformat.NotebookNode:
    if name not in executed:
        pytest.skip("../shared/anchors/chinchilla is not present")
    result = executed[name]
    if isinstance(result, Exception):
        raise result
    return result


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert "BAYESCALE_QUICK" in code[0].source  # the first cell sets the draws


def test_scalerl_story_runs_and_checks_the_held_out_tail(executed):
    notebook = _notebook(executed, "01_scalerl_three_seeds.ipynb")
    text = _text(notebook)
    share = re.search(r"(\d+)% of the 150 held-out evaluations lie in the 89% band", text)
    assert share is not None
    # even with 200 draws most of the tail falls in the new-observation band
    assert int(share.group(1)) >= 60
    assert "report.html" in text and _images(notebook) >= 1


def test_recipe_choice_story_runs_and_calls_better_higher(executed):
    notebook = _notebook(executed, "02_choosing_recipes.ipynb")
    text = _text(notebook)
    # true A of 'better' is 0.05 above the baseline's; 'baseline_repeat' has the same A
    assert "better - baseline: higher" in text
    assert "baseline_repeat - baseline: higher" not in text
    assert _images(notebook) >= 2


def test_chinchilla_story_runs_and_shows_the_frontier(executed):
    notebook = _notebook(executed, CHINCHILLA)
    text = _text(notebook)
    assert "Besiroglu 2024" in text and "ratio_median" in text
    assert _images(notebook) >= 1
