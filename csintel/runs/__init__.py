"""Everything about a run of the pipeline, in three layers:

- `lock`: one run per warehouse at a time (`exclusive_run`), and who holds it (`current_holder`);
- `record`: the run's row in `runs` (`start_run`, `finish_run`), `claim_run` for the rows a kill
  left 'running', and `delivery_failures`, which makes a run 'partial';
- `tracked`: `tracked_run`, the context manager each flow runs in, which uses both.

Import from the submodules: `csintel.snapshot` needs the lock, and `tracked` needs the snapshot,
so this package imports none of them itself.
"""
