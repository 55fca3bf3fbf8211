"""docs/tutorial.ipynb runs top to bottom on a real Jupyter kernel (nbclient + ipykernel), so it never
goes stale, and shows what it says it shows."""

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


def test_the_tutorial_runs_top_to_bottom(tmp_path, monkeypatch):
    notebook = nbformat.read(TUTORIAL, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # kept clean
    # The kernel is a new process: it finds this checkout's digitnet through PYTHONPATH, as the tests do.
    source = str(Path(__file__).resolve().parent.parent / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "\n".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", text).group(1))
    assert accuracy > 85  # 3 epochs on 10,000 images
    assert "the network sees a 7" in text
    assert "same answers: True" in text
    assert "PyTorch's guess for the 7: 7" in text
    rich = [output for output in outputs if output.output_type == "execute_result"]
    assert sum("text/html" in output.data and "image/png" in output.data for output in rich) >= 5
    for name in ("tutorial.onnx", "tutorial.json", "tutorial.safetensors", "my_seven.png"):
        assert (tmp_path / name).is_file()
