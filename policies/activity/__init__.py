"""Pull activity: the token service's recorded decisions, as owners (their organisation's
members) and members (their own) read them, and the impact preview that replays them through the
engine with an owner's unsaved settings. The rows are written by
:func:`tokens.services.pull_decisions_record`; the model is :class:`policies.models.PullDecision`.
"""
