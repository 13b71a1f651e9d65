"""The dashboard: the pages finance staff and admins see and click (server-rendered, htmx for live parts)."""
