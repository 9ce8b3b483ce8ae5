"""The README names every benchmark results file and the command that produces it."""

import re

from tests.conftest import ROOT


def test_readme_names_every_bench_result_and_its_command():
    readme = (ROOT / "README.md").read_text()
    missing = []
    for path in sorted((ROOT / "bench" / "results").glob("*.*")):
        script = path.stem
        named = f"results/{path.name}" in readme or path.name in readme
        produced = re.search(rf"bench[./]{re.escape(script)}(\.py)?\b", readme) is not None
        if not (named or produced):
            missing.append(path.name)
    assert not missing, f"README does not name these results or their commands: {missing}"


def test_readme_shows_the_scaling_bench():
    readme = (ROOT / "README.md").read_text()
    assert "bench/results/scale.json" in readme and "python -m bench.scale" in readme
    assert "--workers" in readme and "pip install -e '.[ray]'" in readme
