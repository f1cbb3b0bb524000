"""The activity pages: an organisation's decisions for its owners (with a summary and a CSV
export of the filtered view), and a member's own decisions."""

import csv
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import StreamingHttpResponse
from django.views.generic import TemplateView, View

from activity import selectors
from activity.forms import ActivityFilterForm
from core.pacing import CpuPacer
from orgs.mixins import OrganizationMixin


class FilteredActivity:
    """Reads the filters from the query string; ``self.filter_form`` is bound to it, and
    ``self.filters`` holds the queryset filters (None when the form is invalid)."""

    with_member = True

    def read_filters(self) -> None:
        self.filter_form = ActivityFilterForm(self.request.GET, with_member=self.with_member)
        self.filters = self.filter_form.as_filters() if self.filter_form.is_valid() else None

    def decisions(self):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.read_filters()
        context = self.get_context_data(**kwargs)
        return self.render_to_response(context, status=200 if self.filters is not None else 400)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention_days"] = settings.DECISION_LOG_RETENTION_DAYS
        context["filter_form"] = self.filter_form
        context["filtered"] = bool(self.filters)
        if self.filters is not None:
            context["page"] = selectors.activity_page(
                self.decisions(), self.request.GET.get("page")
            )
        return context


class OrganizationActivityView(OrganizationMixin, FilteredActivity, TemplateView):
    """Owners: the decisions made for the organisation's members while they were members,
    filtered and paginated, with a summary of the last 7 and 30 days."""

    template_name = "activity/activity.html"
    owner_only = True
    tab = "activity"

    def decisions(self):
        return selectors.organization_activity(organization=self.organization, filters=self.filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = selectors.activity_summary(organization=self.organization)
        if "page" in context:
            for decision in context["page"]:
                decided_by = decision.deciding_organization
                decision.shown_reason = selectors.shown_reason(
                    decision.reason, decided_by, self.organization
                )
                decision.shown_decider = selectors.shown_decider(decided_by, self.organization)
                decision.policy_version = decision.policy_version_for(self.organization.pk)
        return context


class _Echo:
    """A file-like object whose ``write`` returns what it is given (csv.writer into a
    streaming response)."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(rows, per_chunk: int = 500, pacer: CpuPacer | None = None):
    """CSV text, several rows per chunk (each chunk costs a write to the client), paced so that
    while others wait for the node's CPUs the export takes at most ``EXPORT_CPU_SHARE`` of one
    (:class:`core.pacing.CpuPacer`): registry traffic comes first.

    The rows are read in a transaction: outside one, PostgreSQL would have to copy the whole
    result of the server-side cursor before the first row (a cursor that outlives its
    transaction is materialised), which for a million rows takes seconds and memory."""
    writer = csv.writer(_Echo())
    pacer = pacer or CpuPacer(settings.EXPORT_CPU_SHARE)
    with transaction.atomic():
        chunk = []
        for row in rows:
            chunk.append(writer.writerow(row))
            if len(chunk) == per_chunk:
                yield "".join(chunk)
                chunk = []
                pacer.pace()
        if chunk:
            yield "".join(chunk)


class OrganizationActivityCsvView(OrganizationMixin, FilteredActivity, View):
    """Owners: the filtered view as CSV, streamed (cells that would start a spreadsheet
    formula are defused)."""

    owner_only = True

    def get(self, request, *args, **kwargs):
        self.read_filters()
        if self.filters is None:
            errors = "; ".join(
                f"{name}: {' '.join(messages)}"
                for name, messages in self.filter_form.errors.items()
            )
            return StreamingHttpResponse(
                [f"Invalid filter: {errors}\n"], status=400, content_type="text/plain"
            )
        rows = selectors.activity_csv_rows(
            selectors.organization_activity(organization=self.organization, filters=self.filters),
            self.organization,
        )
        response = StreamingHttpResponse(csv_chunks(rows), content_type="text/csv; charset=utf-8")
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        response["Content-Disposition"] = (
            f'attachment; filename="{self.organization.name}-activity-{day}.csv"'
        )
        return response


class MyActivityView(LoginRequiredMixin, FilteredActivity, TemplateView):
    """The decisions made about my own registry requests, with their reasons."""

    template_name = "activity/my_activity.html"
    with_member = False

    def decisions(self):
        return selectors.member_activity(user=self.request.user, filters=self.filters)
