from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Pull activity"

    def ready(self):
        # orgs sits below and never imports activity: it asks the apps above it whether they
        # name a namespace that someone wants as an organisation's (orgs/namespaces.py).
        from activity.selectors import namespace_pulled
        from orgs.namespaces import reference_reader_register

        reference_reader_register(namespace_pulled)
