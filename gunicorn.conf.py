"""gunicorn settings of `make serve`, also used by `make bench` (``gunicorn -c gunicorn.conf.py``).

Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (3 workers). Options given on the
command line override these.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"

# No access log here: the portal logs one line per request itself (portal.requests, on
# stderr; JSON with LOG_FORMAT=json), with every client-controlled value escaped. gunicorn's
# would write raw header bytes, and its default format decodes the Basic-auth username into
# the log.
accesslog = None

# No control socket: its default path (~/.gunicorn/gunicorn.ctl) would be shared by two
# instances on one machine, e.g. `make serve` and `make bench`.
control_socket_disable = True
