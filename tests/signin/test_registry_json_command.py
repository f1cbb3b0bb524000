"""The registry_json command: the exact bytes of the download, and its refusals."""

import pytest
from django.core.management import CommandError, call_command


def test_registry_json_command(acme, capsysbinary):
    call_command("registry_json", "acme", "globex")
    assert capsysbinary.readouterr().out == b'{"allowedOrgs":["acme","globex"]}'


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["nosuchorg"], "Unknown organization(s): nosuchorg."),
        (["Acme"], "Organization 1 ('Acme'): Organization name may contain only lowercase"),
        (["acme", "acme; rm -rf /"], "Organization 2 ('acme; rm -rf /')"),
        (["acme", "acme"], "more than once"),
    ],
)
def test_registry_json_command_errors(acme, names, message):
    with pytest.raises(CommandError) as excinfo:
        call_command("registry_json", *names)
    assert message in str(excinfo.value)
