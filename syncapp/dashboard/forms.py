"""Forms of the dashboard: the payments filter (GET) and the small action forms (POST)."""

from django import forms

from syncapp.sync.models import PaymentState


class PaymentFilterForm(forms.Form):
    """The payments list's filters. Invalid values are dropped, not shown as errors: a stale
    bookmark should still open the list."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *PaymentState.choices])
    vendor = forms.CharField(required=False, max_length=255)
    project = forms.CharField(required=False, max_length=255)
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    amount_min = forms.DecimalField(required=False, min_value=0, decimal_places=2, max_digits=16, label="Min amount")
    amount_max = forms.DecimalField(required=False, min_value=0, decimal_places=2, max_digits=16, label="Max amount")
    reason = forms.CharField(required=False, max_length=40)
    sort = forms.CharField(required=False, max_length=20)

    def cleaned_or_empty(self) -> dict:
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


class ReasonForm(forms.Form):
    """Ignoring a payment needs a reason a colleague can read later."""

    reason = forms.CharField(max_length=500, min_length=3, widget=forms.Textarea(attrs={"rows": 2}))
