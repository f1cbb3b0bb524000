"""Logging filters (configured in settings.LOGGING, so nothing here may need the app registry)."""

import logging


class NoRefusalTracebacks(logging.Filter):
    """Expected refusals (403, 404, 405, ...) are logged as one line, without the traceback
    Django attaches to them; server errors keep theirs. A view that logged its refusal itself
    sets ``request.refusal_logged``, and Django's line is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(getattr(record, "request", None), "refusal_logged", False):
            return False  # the view logged this refusal itself, once
        if record.exc_info and getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
