"""What a session is set up with, and the outputs it asks for."""

from __future__ import annotations

from livearranger.osc import DEFAULT_OSC_HOST
from livearranger.session_config import SessionConfig


def test_the_output_plan_carries_what_the_outputs_are_built_from():
    config = SessionConfig(outputs=["virtual", "synth"], daw_mode="print",
                           synth_mode="live", soundfont="gm.sf2", period_size=64,
                           client="la-2")
    plan = config.output_plan()
    assert plan.kinds == ("virtual", "synth")
    assert (plan.daw_mode, plan.synth_mode) == ("print", "live")
    assert (plan.soundfont, plan.period_size, plan.client) == ("gm.sf2", 64, "la-2")


def test_defaults_play_the_synth_and_listen_for_osc_on_this_machine_only():
    config = SessionConfig()
    assert config.outputs == ["synth"] and config.osc_host == DEFAULT_OSC_HOST
    assert config.osc_port == 0 and config.horizon_ms is None
    assert SessionConfig().outputs is not config.outputs   # no list shared between configs
