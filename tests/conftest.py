"""Make the collection importable as ansible_collections.mlops.mlflow for every test.

The checkout carries collections/ansible_collections/mlops/mlflow, a relative symlink to
itself, so Python and Ansible find it under the path collections need without an install.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "collections"

sys.path.insert(0, str(COLLECTIONS))
# Helpers shared by the unit tests of several plugin types (module_runner.py).
sys.path.insert(0, str(ROOT / "tests" / "unit"))
os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
