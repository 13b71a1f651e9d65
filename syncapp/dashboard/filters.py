"""The payments list's filters and sort, as one django-filter FilterSet: the page and its CSV/XLSX
downloads read the same query-string parameters through it (q, state, vendor, project, date_from,
date_to, amount_min, amount_max, reason, sort).

An invalid value is dropped, not shown as an error: a stale bookmark still opens the list
(django-filter filters only with the fields that validated).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from syncapp.connectors.values import integer_id
from syncapp.sync.models import Payment, PaymentState

DEFAULT_SORT = "-date"  # newest first, as the list opens


class SortFilter(django_filters.OrderingFilter):
    """Django-filter's ordering, with the payment id after the chosen column in the same direction:
    payments of the same date or amount keep one order, so LIMIT/OFFSET pages neither repeat nor
    skip a row."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        ordering = [self.get_ordering_value(param) for param in value or [] if param]
        if not ordering:
            return qs
        return qs.order_by(*ordering, "-id" if ordering[-1].startswith("-") else "id")


class PaymentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    state = django_filters.ChoiceFilter(choices=PaymentState.choices, empty_label="Any state")
    vendor = django_filters.CharFilter(field_name="vendor_name", max_length=255)
    project = django_filters.CharFilter(field_name="project_name", max_length=255)
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="From")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="To")
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", min_value=0, decimal_places=2, max_digits=16, label="Min amount"
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", min_value=0, decimal_places=2, max_digits=16, label="Max amount"
    )
    reason = django_filters.CharFilter(field_name="reason_code", max_length=40)
    # {model field: the value of ?sort=}; "-" before the value sorts descending.
    sort = SortFilter(
        fields={
            "date": "date",
            "amount": "amount",
            "vendor_name": "vendor",
            "invoice_number": "invoice",
            "state": "state",
            "updated_at": "updated",
        }
    )

    class Meta:
        model = Payment
        fields: list[str] = []  # only the filters declared above

    def filter_queryset(self, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        # The default order first; a valid ?sort= replaces it (an invalid one is dropped).
        return super().filter_queryset(self.filters["sort"].filter(queryset, [DEFAULT_SORT]))

    def search(self, qs: QuerySet[Payment], name: str, value: str) -> QuerySet[Payment]:
        """Invoice number, reference, Xero PaymentID or Procore payment id. Ids match exactly
        (indexed); the texts by prefix, so the database can use an index rather than scan every row."""
        text = value.strip()
        query = Q(xero_payment_id=text) | Q(invoice_number__istartswith=text) | Q(reference__istartswith=text)
        if (procore_id := integer_id(text)) is not None:
            query |= Q(procore_payment_id=procore_id)
        return qs.filter(query)

    @property
    def chosen(self) -> dict[str, str]:
        """What was validly chosen, as text (the audit entry of a download keeps it; the page says
        "match the filters" when anything but the sort is chosen)."""
        self.is_valid()
        chosen = {}
        for name, value in self.form.cleaned_data.items():
            if value in (None, "", []):
                continue
            chosen[name] = ",".join(value) if name == "sort" else str(value)
        return chosen

    @property
    def sort_value(self) -> str:
        """The sort in force, as ?sort= spells it."""
        return self.chosen.get("sort", DEFAULT_SORT)
