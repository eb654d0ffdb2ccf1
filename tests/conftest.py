"""Make the collection importable as ansible_collections.mlops.mlflow for every test.

The checkout may live anywhere; Ansible needs it under .../ansible_collections/mlops/mlflow.
A symlink in .cache/collections gives it that path without moving the repository.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "mlops" / "mlflow"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(ROOT)
sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", f"{COLLECTIONS}:{ROOT / '.venv'}")
