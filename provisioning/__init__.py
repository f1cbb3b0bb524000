"""SCIM 2.0 provisioning (RFC 7643/7644): an organisation's identity provider creates, updates
and deprovisions its people and teams through ``/scim/v2/``, with a bearer token the
organisation's owners made for it.

Layer: next to ``api``, just below the ``portal`` wiring (``api | provisioning``). It is an
entry point like the API, over the apps below it: it creates accounts and memberships with
``orgs``' services, records each change in the organisation's settings history with
``policies``' ``record_change``, and revokes a deprovisioned person's access tokens and
registry sessions with ``tokens``' services. Nothing imports it but the wiring.

The SCIM protocol is scim2-server's (routing, validation, PATCH, filters, paging, errors),
with scim2-models' RFC schemas; :mod:`provisioning.storage` maps the organisation's users and
teams to SCIM Users and Groups. (django-scim2 was the other candidate: its PATCH handles a
few attributes and answers 501 for the rest, and it filters a tenant's rows in Python after a
raw SQL query over every account, so scim2-tester's checks would not pass.)
"""
