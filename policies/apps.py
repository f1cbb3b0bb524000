from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Image Access Management"

    def ready(self):
        # orgs sits below and never imports policies: it asks the apps above it whether they
        # name a namespace that someone wants as an organisation's (orgs/namespaces.py).
        from orgs.namespaces import (
            name_refusal_register,
            organization_setup_register,
            reference_reader_register,
        )
        from orgs.team_extensions import team_deletion_register, team_section_register
        from policies.selectors import (
            namespace_is_referenced,
            publisher_namespace_refusal,
            team_section,
        )
        from policies.services import policy_create, team_deletion_record

        reference_reader_register(namespace_is_referenced)
        name_refusal_register(publisher_namespace_refusal)
        organization_setup_register(policy_create)
        # The team page shows the team's grant and entries; deleting a team records them.
        team_section_register(team_section)
        team_deletion_register(team_deletion_record)
