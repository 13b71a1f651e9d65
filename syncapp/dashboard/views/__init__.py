"""The dashboard's pages, one module per page family. Views stay thin: read with selectors, write
through the sync engine's services."""
