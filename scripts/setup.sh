#!/usr/bin/env bash
# Set up LiveArranger on a fresh Debian 12 machine (as root) with Python 3.11:
# system packages (JACK, FluidSynth, a GM soundfont, PortAudio, tmux) and a virtual
# environment in .venv with the package installed (not editable).
#   bash scripts/setup.sh        the instrument
#   bash scripts/setup.sh test   the instrument + what the tests and training need
#                                (and jack-midi-clock, a MIDI clock source for the tests)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
pkgs=(jackd2 libfluidsynth3 fluid-soundfont-gm libportaudio2 tmux)
# the tests: a real MIDI clock, and PipeWire with its JACK (what desktops run)
[ "${1:-}" = "test" ] && pkgs+=(jack-midi-clock pipewire pipewire-jack wireplumber dbus)
for pkg in "${pkgs[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: please install as root: apt-get install ${need[*]}" >&2
        exit 1
    fi
    echo "setup: installing ${need[*]}"
    # jackd2 asks whether to enable realtime scheduling: answer no, non-interactively
    echo "jackd2 jackd/tweak_rt_limits boolean false" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "${1:-}" = "test" ]; then
    .venv/bin/python -m pip install -q ".[test,train]"
else
    .venv/bin/python -m pip install -q .
fi
echo "setup: ready ($(.venv/bin/livearranger --version))"
