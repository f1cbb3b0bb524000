"""Pull activity: the token service's record of its pull decisions (:mod:`activity.decisions`,
the model :class:`activity.models.PullDecision`), the pages and the CSV export that owners
(their organisation's members) and members (their own) read it through, the impact preview that
replays it through the engine with an owner's unsaved settings, and ``manage.py
prune_activity``.

It sits above ``orgs`` and ``policies`` (it reads organisations, and decides through the
policies' engine and snapshot reader) and below ``tokens`` (whose registry endpoint hands its
decisions to the writer) and ``api``; nothing below it imports it.
"""
