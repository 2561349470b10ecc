import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # for `import testing`

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _own_working_folder(tmp_path, monkeypatch):
    """Each test runs in a folder of its own: training without an output works in
    ./wordembed-vectors.work, which tests run side by side (pytest-xdist) would otherwise share."""
    monkeypatch.chdir(tmp_path)
