from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Single sign-on"

    def ready(self):
        # The team page lists the groups mapped to the team (orgs/team_extensions.py).
        from identity.selectors import team_section
        from orgs.team_extensions import team_section_register

        team_section_register(team_section)
