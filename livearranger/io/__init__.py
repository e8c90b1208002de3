"""The instrument's edges: MIDI ports (rtmidi, JACK's graph), MIDI files read and takes
written safely, the built-in FluidSynth synth, and quiet C libraries.  Nothing here
decides a part; the engine and the session use it."""
