"""The site's date formats (FORMAT_MODULE_PATH): one way to show a date, "1 Dec 2026", and a time,
"1 Dec 2026, 14:05", whatever the locale. Templates write `|date` and `|date:"DATETIME_FORMAT"`.
Date inputs take ISO dates (2026-12-01), as the browser's date picker sends them."""
