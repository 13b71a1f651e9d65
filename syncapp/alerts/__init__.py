"""Email alerts to Admins (a run failed, payments newly blocked or failed, a connection needs
reconnecting) and the optional daily summary for Finance, each sent once (`services`)."""
