"""Who may claim a namespace (the first component of a repository path, ``acme`` in
``acme/app``) by creating an organisation of that name.

* A user's username is their personal namespace, as on Docker Hub: no organisation can take
  it, and no account can be created with an organisation's name (both compared ignoring case).
* A namespace that the portal already names elsewhere (an allowlist entry, an exception
  request, a recorded pull: the apps above ``orgs`` know which) is claimed only by site staff:
  members of an organisation may push to its namespace, so whoever creates it would own
  repositories that others already trust.

``orgs`` sits below the apps that hold those references and never imports them: each of them
registers a reader here from its ``AppConfig.ready()`` (:func:`reference_reader_register`,
:func:`name_refusal_register`), as apps register system checks with Django. The same way, an
app above registers what every new organisation needs from it
(:func:`organization_setup_register`: policies makes its access policy), run in the creating
transaction.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

ReferenceReader = Callable[[str], bool]
NameRefusal = Callable[[str], str | None]
OrganizationSetup = Callable[[object], None]

_reference_readers: list[ReferenceReader] = []
_name_refusals: list[NameRefusal] = []
_organization_setups: list[OrganizationSetup] = []


def reference_reader_register(reader: ReferenceReader) -> ReferenceReader:
    """Register ``reader(namespace) -> bool``: whether the registering app names repositories
    of that namespace. Idempotent; returns ``reader``."""
    if reader not in _reference_readers:
        _reference_readers.append(reader)
    return reader


def namespace_is_referenced(name: str) -> bool:
    """Whether any registered app already names repositories of the namespace ``name``."""
    return any(reader(name) for reader in _reference_readers)


def is_personal_namespace(name: str) -> bool:
    """Whether ``name`` is a user's username, ignoring case (one query)."""
    return get_user_model().objects.filter(username__iexact=name).exists()


def name_refusal_register(refusal: NameRefusal) -> NameRefusal:
    """Register ``refusal(name) -> reason or None``: why the registering app keeps ``name``
    from becoming any organisation's namespace, even for staff (policies: a verified
    publisher's namespace). Idempotent; returns ``refusal``."""
    if refusal not in _name_refusals:
        _name_refusals.append(refusal)
    return refusal


def registered_name_refusal(name: str) -> str | None:
    """The first reason a registered app gives against ``name``, or None."""
    return next((reason for refusal in _name_refusals if (reason := refusal(name))), None)


def organization_setup_register(setup: OrganizationSetup) -> OrganizationSetup:
    """Register ``setup(organization)``: what the registering app makes for every new
    organisation (policies: its access policy), run by :func:`orgs.services.organization_create`
    inside the same transaction, so an organisation never exists without it. Idempotent."""
    if setup not in _organization_setups:
        _organization_setups.append(setup)
    return setup


def organization_setups_run(organization) -> None:
    """Run every registered setup for a new ``organization`` (in the caller's transaction)."""
    for setup in _organization_setups:
        setup(organization)
