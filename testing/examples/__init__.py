"""Each library's own SSE example, as its docs show it, for tests/integrations/test_library_examples.py.

Written the way a user copies them from the docs (only the sleep is shorter, and the port comes
from argv): they are the servers the suite was NOT designed for, where false verdicts hide. Run:
``python testing/examples/<name>.py PORT`` or ``node testing/examples/<name>.mjs PORT`` (127.0.0.1).
"""
