"""Loaded at interpreter start in the MLflow image by mlflow-tcp-nodelay.pth (mlops.mlflow.mlflow_server).

``mlflow server`` runs uvicorn with ``--workers N``. uvicorn's supervisor binds the listening
socket itself with ``socket.socket(family)``, so its ``proto`` is 0, and every accepted socket
inherits that. asyncio turns on TCP_NODELAY for a transport only when ``sock.proto`` is
``IPPROTO_TCP``, so these connections keep Nagle's algorithm on (uvicorn issue #3149, open as
of uvicorn 0.54). uvicorn writes a response's headers and body in two writes: on a keep-alive
connection the body then waits for the client's delayed ACK, about 40 ms on Linux, on every
request past the first. Small answers (``log-metric``, ``set-tag``, ``get-run``, ``/health``)
took 45 ms instead of 3 ms.

asyncio's own check is widened here to every TCP stream socket, whatever its ``proto``: the
behaviour asyncio means to have, and the one a single-worker uvicorn already gets.
"""

import socket
from asyncio import base_events


def _set_nodelay(sock):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


base_events._set_nodelay = _set_nodelay  # pylint: disable=protected-access
