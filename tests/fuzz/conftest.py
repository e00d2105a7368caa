"""The long-running fuzz target lives here; pytest collects nothing from this folder.

Run it with ``python -m tests.fuzz.run_fuzz --minutes 5`` (see run_fuzz.py).
"""

collect_ignore_glob = ["*"]
