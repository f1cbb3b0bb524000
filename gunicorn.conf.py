"""gunicorn settings of `make serve`, also used by `make bench` (``gunicorn -c gunicorn.conf.py``).

Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (3 workers). Options given on the
command line override these (the bench sends the access log to a file that way).
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"

accesslog = "-"
# Address, request line, status, bytes, duration (ms), user agent. Not gunicorn's default: its
# %(u)s decodes the base64 of the Basic-auth header into the log, i.e. whatever bytes a client
# chooses (newlines included), on every registry token request.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# No control socket: its default path (~/.gunicorn/gunicorn.ctl) would be shared by two
# instances on one machine, e.g. `make serve` and `make bench`.
control_socket_disable = True
