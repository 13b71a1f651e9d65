"""URLs of the dashboard pages (names are global: the navigation and other apps link to them)."""

from django.urls import path

from syncapp.dashboard.views import audit, exports, failures, home, integrations, mappings, payments, runs, settings
from syncapp.dashboard.views.help import how_it_works

urlpatterns = [
    path("", home.home, name="home"),
    path("help/", how_it_works, name="help"),
    path("get-all-payments/", home.start_sync, name="start-sync"),
    path("run-watch/", home.run_watch, name="home-run-watch"),
    path("payments/", payments.payment_list, name="payments"),
    path("payments/download.<str:fmt>", exports.payments_export, name="payments-export"),
    path("payments/bulk/", payments.payments_bulk, name="payments-bulk"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment"),
    path("payments/<int:payment_id>/recheck/", payments.payment_recheck, name="payment-recheck"),
    path("payments/<int:payment_id>/retry/", payments.payment_retry, name="payment-retry"),
    path("payments/<int:payment_id>/ignore/", payments.payment_ignore, name="payment-ignore"),
    path("payments/<int:payment_id>/unignore/", payments.payment_unignore, name="payment-unignore"),
    path("payments/<int:payment_id>/reversal-done/", payments.payment_reversal_done, name="payment-reversal-done"),
    path("payments/<int:payment_id>/reversal-retry/", payments.payment_reversal_retry, name="payment-reversal-retry"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/<int:run_id>/", runs.run_detail, name="run"),
    path("runs/<int:run_id>/progress/", runs.run_progress, name="run-progress"),
    path("runs/<int:run_id>/log/", runs.run_log, name="run-log"),
    path("failures/", failures.failure_queue, name="failures"),
    path("failures/download.<str:fmt>", exports.failures_export, name="failures-export"),
    path("failures/retry-group/", failures.retry_group, name="failures-retry-group"),
    path("mappings/", mappings.vendor_mappings, name="mappings"),
    path("mappings/vendors/link/", mappings.vendor_link, name="mapping-vendor-link"),
    path("mappings/vendors/create/", mappings.vendor_create, name="mapping-vendor-create"),
    path("mappings/vendors/<int:link_id>/confirm/", mappings.vendor_confirm, name="mapping-vendor-confirm"),
    path("mappings/vendors/<int:link_id>/unlink/", mappings.vendor_unlink, name="mapping-vendor-unlink"),
    path("mappings/bills/", mappings.bill_mappings, name="mapping-bills"),
    path("mappings/bills/link/", mappings.bill_link, name="mapping-bill-link"),
    path("settings/", settings.integration_settings, name="settings"),
    path("settings/schedule/", settings.schedule_settings, name="schedule-settings"),
    path("settings/schedule/resume/", settings.schedule_resume, name="schedule-resume"),
    path("audit/", audit.audit_log_page, name="audit"),
    path("audit/download.<str:fmt>", exports.audit_export, name="audit-export"),
    path("integrations/", integrations.integration_list, name="integrations"),
    path("integrations/add/", integrations.integration_add, name="integration-add"),
    path("integrations/<int:pk>/rename/", integrations.integration_rename, name="integration-rename"),
    path("integrations/<int:pk>/remove/", integrations.integration_remove, name="integration-remove"),
]
