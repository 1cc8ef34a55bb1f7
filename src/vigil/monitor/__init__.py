"""Security monitoring: Windows, syslog, JSON and web logs into the lake; Sigma rules over them.

The room is laid out by stage, each importing only itself and the stages before it (and the
root modules `models` and `errors`): `ingest/` (log files into the lake), `detect/` (Sigma,
YARA, indicators, silent sensors: Findings), `review/` (what people read of it), then the edges
`pages/`, `cli/` and `demo/`, none importing another. `plugin.py` joins the room to Vigil.
tests/test_monitor_stages.py holds the order and checks it.
"""
