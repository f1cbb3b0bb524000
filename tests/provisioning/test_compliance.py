"""scim2-tester, an RFC 7643/7644 compliance checker written elsewhere, against the SCIM
endpoint of a live server."""

import pytest
from scim2_tester import Status, check_server

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = {Status.ERROR, Status.CRITICAL}


def test_scim2_tester_finds_no_failure(scim_client):
    results = check_server(scim_client)
    failures = [
        f"{result.title} {result.resource_type or ''}: {result.reason}"
        for result in results
        if result.status in FAILED
    ]
    assert not failures, "\n".join(failures)
    passed = [result for result in results if result.status == Status.SUCCESS]
    assert len(passed) > 50, [(r.title, r.status, r.reason) for r in results]
