"""Who may claim a namespace (the first component of a repository path, ``acme`` in
``acme/app``) by creating an organisation of that name.

* A user's username is their personal namespace, as on Docker Hub: no organisation can take
  it, and no account can be created with an organisation's name (both compared ignoring case).
* A namespace that the portal already names elsewhere (an allowlist entry, an exception
  request, a recorded pull: the apps above ``orgs`` know which) is claimed only by site staff:
  members of an organisation may push to its namespace, so whoever creates it would own
  repositories that others already trust.

``orgs`` sits below the apps that hold those references and never imports them: each of them
registers a reader here from its ``AppConfig.ready()`` (:func:`reference_reader_register`),
as apps register system checks with Django.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model

ReferenceReader = Callable[[str], bool]

_reference_readers: list[ReferenceReader] = []


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
