"""Loaded at interpreter start in the MLflow image by mlflow-wsgi-threads.pth (mlops.mlflow.mlflow_server).

MLflow serves its REST API from a Flask app mounted in FastAPI: every request runs in anyio's
default thread pool, up to 40 at once per uvicorn worker. Some handlers hold two database
connections at once (``runs/log-batch`` keeps its session open while the params, metrics and
tags each open their own), and a worker's pool gives out at most pool_size + max_overflow
connections. With as many log-batch calls in one worker as the pool has connections, each holds
one and waits for a second that cannot come: nothing moves until SQLAlchemy's pool timeout
(30 s), and those calls fail with ``QueuePool limit of size 5 overflow 5 reached`` (HTTP 400).
The benchmark's 32 clients on 4 workers hit it.

With ``MLOPS_MLFLOW_WSGI_THREADS`` set (the role sets it from the pool settings), the Flask
requests of a worker share a limiter of that many threads instead: a request beyond it waits
for a thread, in order, before it takes any connection. Other uses of anyio's thread pool (the
native artifact routes, for example) keep the default limiter.
"""

import os

_THREADS = int(os.environ.get("MLOPS_MLFLOW_WSGI_THREADS") or 0)

if _THREADS > 0:
    import anyio
    import anyio.to_thread

    _run_sync = anyio.to_thread.run_sync
    _limiters = {}

    def _is_wsgi_call(func):
        owner = getattr(func, "__self__", None)
        return getattr(func, "__name__", "") == "wsgi" and any(
            cls.__name__ == "WSGIResponder" for cls in type(owner).__mro__
        )

    async def run_sync(func, *args, limiter=None, **kwargs):
        if limiter is None and _is_wsgi_call(func):
            # One limiter per event loop (a uvicorn worker has one), made inside it.
            import asyncio  # pylint: disable=import-outside-toplevel

            loop = asyncio.get_running_loop()
            limiter = _limiters.get(loop)
            if limiter is None:
                limiter = _limiters[loop] = anyio.CapacityLimiter(_THREADS)
        return await _run_sync(func, *args, limiter=limiter, **kwargs)

    anyio.to_thread.run_sync = run_sync
