"""Load the demo accounts and organisations; safe to run any number of times.

``make run`` serves right after this command: what it prints last (the accounts) stays on
screen above the server's output, so the demo invitation's e-mail, printed by the console
backend when the data is committed, is summed up in one line instead.
"""

import io
import os
from contextlib import redirect_stdout

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from orgs import services
from orgs.invitations.services import invitation_create
from orgs.models import MEMBERS_TEAM, Invitation, Organization, Team, TeamMembership
from policies.models import Publisher

DEMO_PASSWORD = "demo-pass-123"
ORGS = {
    # org: (owner, member, member team)
    "acme": ("olivia", "mike", "developers"),
    "globex": ("gina", "oscar", "developers"),
}
PUBLISHERS = {"bitnami": "Bitnami by VMware", "grafana": "Grafana Labs"}
# A pending invitation, to show the notice and the accept/decline page: (org, owner, invitee).
INVITATION = ("acme", "olivia", "oscar")


class Command(BaseCommand):
    help = "Create the demo organisations, accounts and verified publishers (idempotent)."

    def handle(self, *args, **options):
        mail_output = io.StringIO()
        with redirect_stdout(mail_output), transaction.atomic():
            admin, invited = self.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Accounts (password demo-pass-123):"))
        rows = [
            ("olivia", "owner of acme (team owners)"),
            ("mike", "member of acme (team developers)"),
            ("gina", "owner of globex (team owners)"),
            ("oscar", "member of globex (team developers); invited to acme (pending)"),
            (admin.username, "site staff (superuser), in no organization"),
        ]
        for username, role in rows:
            self.stdout.write(f"  {username:<8} {role}")
        self.stdout.write("Verified publishers: " + ", ".join(sorted(PUBLISHERS)))
        if invited and mail_output.getvalue():
            self.stdout.write(
                "(oscar's invitation e-mail is not shown: he sees it once signed in.)"
            )

    def seed(self):
        """The demo data; returns the admin account and whether oscar was invited now."""
        users = get_user_model().objects

        def account(username, **extra):
            user, created = users.get_or_create(username=username, defaults=extra)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            return user

        admin = account("admin", is_staff=True, is_superuser=True, email="admin@example.com")
        for name, (owner_name, member_name, team_name) in ORGS.items():
            owner = account(owner_name, email=f"{owner_name}@{name}.example")
            member = account(member_name, email=f"{member_name}@{name}.example")
            organization = Organization.objects.filter(name=name).first()
            if organization is None:
                organization = services.organization_create(name=name, creator=owner)
            team = Team.objects.filter(organization=organization, name=team_name).first()
            if team is None:
                team = services.team_create(
                    organization=organization,
                    name=team_name,
                    description="Developers who pull and push images.",
                )
            # The operator seeds demo members directly; in the portal, people join by
            # accepting an invitation.
            if not TeamMembership.objects.filter(team=team, user=member).exists():
                services.team_member_add(team=team, user=member)
        org_name, owner_name, invitee_name = INVITATION
        members = Team.objects.get(organization__name=org_name, name=MEMBERS_TEAM)
        invitee = users.get(username=invitee_name)
        invited = Invitation.objects.pending().filter(team=members, invitee=invitee).exists()
        joined = Organization.objects.for_user(invitee).filter(name=org_name).exists()
        must_invite = not invited and not joined
        if must_invite:
            # make run serves on HOST:PORT: the link in the e-mail opens there.
            base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
            invitation_create(
                team=members,
                invited_by=users.get(username=owner_name),
                invitee=invitee_name,
                absolute_url=lambda path: base + path,
            )
        for namespace, display_name in PUBLISHERS.items():
            Publisher.objects.get_or_create(
                namespace=namespace, defaults={"display_name": display_name, "verified": True}
            )
        return admin, must_invite
