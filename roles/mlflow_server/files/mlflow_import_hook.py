"""Shared by the MLflow image's startup modules (mlops.mlflow.mlflow_server), in site-packages.

``after_import(name, patch)`` runs ``patch(module)`` once the module ``name`` has been imported:
at once when it already is, else right after MLflow first imports it. No process pays for an
import it does not make (the entrypoint, pip, one-off commands), and MLflow's own import order
stays as it is.
"""

import importlib.abc
import importlib.util
import sys


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, name, patch):
        self._name = name
        self._patch = patch

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self._name:
            return None
        sys.meta_path.remove(self)  # once; and find_spec below must not come back here
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                self._patch(module)

            spec.loader.exec_module = exec_and_patch
        return spec


def after_import(name, patch):
    """Run ``patch(module)`` on the module ``name`` now if it is imported, else once it is."""
    if name in sys.modules:
        patch(sys.modules[name])
    else:
        sys.meta_path.insert(0, _PatchOnImport(name, patch))
