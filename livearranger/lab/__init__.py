"""The lab: what trains, evaluates and measures the instrument (corpus data, simulated
performances, the shared replay and its metrics, benchmarks and their peers, a private
JACK server).  The instrument never imports it; only the ``evaluate`` and ``bench``
commands reach in, on demand."""
