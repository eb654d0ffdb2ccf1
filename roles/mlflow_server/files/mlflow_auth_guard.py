"""Loaded at interpreter start in the MLflow image by mlflow-auth-guard.pth (mlops.mlflow.mlflow_server).

MLflow's request handlers import ``mlflow.server.auth`` inside the request (``runs/search`` on
every call, GraphQL too) to find out whether its basic-auth app is on. Without Flask-WTF that
import fails, and since a failed import is not cached it is attempted again on every request:
a few milliseconds each time, and under concurrent requests another thread can find the
half-imported module and fail with ``AttributeError: ... has no attribute 'auth_config'`` (an
HTTP 500). When Flask-WTF is absent the import can never succeed, so it is made to fail at
once, every time, the way Python marks a module as unavailable. With Flask-WTF installed
(``mlflow_server_extra_pip_packages``) nothing is changed.
"""

import importlib.util
import sys

if importlib.util.find_spec("flask_wtf") is None:
    sys.modules.setdefault("mlflow.server.auth", None)
