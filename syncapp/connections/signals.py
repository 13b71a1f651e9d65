"""What the connections tell the rest of the product, without importing it (alerts).

`needs_reconnect` is sent once per change of a connection to "needs reconnect", by the worker
whose update made that change (others that notice it too see it already marked), inside the
caller's transaction if any. kwargs: connection=<Connection>, marked_at=<when>.
"""

from django.dispatch import Signal

needs_reconnect = Signal()
