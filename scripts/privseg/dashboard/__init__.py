"""Apache Superset on the publication (`make dashboard`): settings.py (paths, port, the
environment of every Superset process), bundle.py (bi/superset/dashboard.yaml -> a Superset
import bundle), superset.py (state, admin user, import, server), cli.py
(scripts/superset_dashboard.py). Superset's own configuration is scripts/superset_config.py,
a standalone file that Superset loads by path."""
