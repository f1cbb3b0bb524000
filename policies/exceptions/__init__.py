"""Exception requests: a member asks an organisation's owners for an image it refuses them, and
an owner approves it (an allowlist entry with an expiry) or declines it (with a note).

``services`` (writes), ``selectors`` (reads), ``forms``, ``views``, ``urls`` and ``emails`` (the
mails to the other side). The model, :class:`policies.models.ExceptionRequest`, stays with the
other policy models.
"""
