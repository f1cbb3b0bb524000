"""``seed_demo`` (run by ``make run``): idempotent, and its last lines are the demo accounts, so
they stay on screen above the development server's output."""

from io import StringIO

from django.core.management import call_command

from orgs.models import Invitation


def seed() -> list[str]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue().splitlines()


def test_the_demo_accounts_are_the_last_lines(transactional_db, capsys, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    lines = seed()
    assert lines[0] == "Demo data ready. Accounts (password demo-pass-123):"
    assert [line.split()[0] for line in lines[1:6]] == ["olivia", "mike", "gina", "oscar", "admin"]
    assert "e-mail is not shown" in lines[-1]  # the invitation e-mail, in one line
    assert "Subject:" not in capsys.readouterr().out  # the e-mail itself is not printed
    assert Invitation.objects.pending().count() == 1
    # Again: nothing new, and no e-mail to mention.
    again = seed()
    assert again[-1].startswith("Verified publishers:")
    assert Invitation.objects.pending().count() == 1
