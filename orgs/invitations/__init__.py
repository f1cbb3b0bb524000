"""Membership by consent: owners invite, invitees accept or decline.

Only :func:`orgs.invitations.services.invitation_accept` (and account creation from an e-mail
invitation, which accepts it) puts a person in a team. Modules: ``services`` (writes),
``selectors`` (reads), ``forms``, ``views`` and ``urls`` (the invitee's pages and sign-up; the
owners' pages are routed in :mod:`orgs.urls`), ``emails`` (the invitation message).
"""
