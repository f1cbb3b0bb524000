"""gunicorn settings of `make serve`, also used by `make bench` and the deployment's systemd units
(``gunicorn -c gunicorn.conf.py portal.wsgi:application``).

A node runs two pools of the same application, each its own gunicorn process group on its own
socket, chosen by PORTAL_POOL:

- ``web`` (the default): the pages, the API and everything else, on HOST:PORT (127.0.0.1:8000)
  with WEB_CONCURRENCY workers (3);
- ``token``: the registry's token service, on HOST:TOKEN_PORT (127.0.0.1:8001) with
  TOKEN_WORKERS workers (2). The reverse proxy sends only ``/auth/token`` there (deploy/nginx),
  so that a CSV export or a slow page, which holds a sync worker for as long as it runs, never
  holds one that a registry is waiting for.

Options given on the command line override these.
"""

import os

pool = os.environ.get("PORTAL_POOL", "web")
if pool not in ("web", "token"):
    raise RuntimeError(f"PORTAL_POOL must be web or token, not {pool!r}")

host = os.environ.get("HOST", "127.0.0.1")
if pool == "token":
    bind = f"{host}:{os.environ.get('TOKEN_PORT', '8001')}"
    workers = int(os.environ.get("TOKEN_WORKERS", "2"))
else:
    bind = f"{host}:{os.environ.get('PORT', '8000')}"
    workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
# The process title (with setproctitle installed) and the name in gunicorn's own log lines.
proc_name = f"iam-portal-{pool}"

# No access log here: the portal logs one line per request itself (portal.requests, on
# stderr; JSON with LOG_FORMAT=json), with every client-controlled value escaped. gunicorn's
# would write raw header bytes, and its default format decodes the Basic-auth username into
# the log.
accesslog = None

# No control socket: its default path (~/.gunicorn/gunicorn.ctl) would be shared by two
# instances on one machine, e.g. `make serve`'s two pools and `make bench`.
control_socket_disable = True

# The web pool's workers run at a lower CPU priority than the token pool's (WEB_POOL_NICE, a
# nice increment from 0 to 19, default 10; 0 turns it off): when a node's CPUs are busy, a CSV
# export or a heavy page yields them to the registry's token requests instead of sharing them
# evenly. (PostgreSQL's backends keep their own priority.)
web_pool_nice = int(os.environ.get("WEB_POOL_NICE", "10"))
if not 0 <= web_pool_nice <= 19:
    raise RuntimeError(f"WEB_POOL_NICE must be between 0 and 19, not {web_pool_nice}")


def lower_priority(increment: int) -> None:
    """Lower this process's CPU priority by ``increment``, in a way the scheduler honours.

    With the kernel's autogroup scheduling (sched(7), "The autogroup feature"; on in most
    distributions' kernels), CPU time is shared first between sessions, and a process's nice
    value counts only against the other processes of its session: a worker's ``nice`` alone
    would yield to its siblings, not to the token pool or PostgreSQL. So the worker also starts
    a session of its own (it stays the master's child, and the master signals it by pid) and
    gives that session's autogroup the same nice value. Under systemd the units' cgroups take
    the autogroup's place, and their ``CPUWeight=`` does this between services
    (deploy/systemd)."""
    os.nice(increment)
    try:
        os.setsid()
        with open("/proc/self/autogroup", "w") as autogroup:
            autogroup.write(str(increment))
    except OSError:  # not Linux, or a kernel without autogroups: the nice value alone
        pass


def post_fork(server, worker):
    if pool == "web" and web_pool_nice:
        lower_priority(web_pool_nice)
