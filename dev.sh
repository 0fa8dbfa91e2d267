#!/usr/bin/env bash
# The project's only bootstrap. On a fresh Debian/Ubuntu machine:
#   ./dev.sh demo   - set up, then run the embedded demo (`rackpanel demo`)
#   ./dev.sh test   - set up, then ruff and the whole test suite (what CI runs)
#   ./dev.sh test --fast - ruff and the fast tests only (no slow or live ones): the local loop
# Set-up is idempotent: a virtualenv in .venv with the project and its dev extras, and, for
# the tests, Debian's prometheus, prometheus-alertmanager and openssh-server (installed when
# running as root or with passwordless sudo).
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-python3}
STAMP=$VENV/.rackpanel-installed

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else return 1
    fi
}

apt_install() { # packages...
    command -v apt-get >/dev/null || return 1
    as_root true || return 1
    if [ -z "${RACKPANEL_APT_UPDATED:-}" ]; then
        as_root apt-get update -qq || true
        export RACKPANEL_APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

ensure_python() {
    if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "rackpanel needs Python >= 3.11 (found: $("$PY" --version 2>&1 || echo none))" >&2
        exit 2
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtualenv in $VENV"
        if ! "$PY" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            apt_install python3-venv || { echo "python3 -m venv failed: install python3-venv" >&2; exit 2; }
            "$PY" -m venv "$VENV"
        fi
    fi
    local want
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
        say "installing rackpanel and its dependencies into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[dev]'
        echo "$want" > "$STAMP"
    fi
    # Every service, CLI call and test server is a new Python process. Where
    # PYTHONDONTWRITEBYTECODE is set (CI's environment sets it) each one would compile the
    # project from source again, about 0.3 s of CPU a start; Python still reads byte code it
    # did not write, so compile once here (only what changed; __pycache__ is ignored by git).
    "$VENV/bin/python" -m compileall -q -j 0 -x '/[.](venv|git)/' . >/dev/null
}

install_missing() { # packages...
    [ $# -eq 0 ] && return 0
    say "installing Debian packages: $*"
    if ! apt_install "$@"; then
        echo "could not install $* (needs root or passwordless sudo and apt)" >&2
        return 1
    fi
    # The services these packages just brought are never relied on (rackpanel starts the
    # binaries itself on loopback): stop them. Services that ran before are left alone.
    local pkg
    for pkg in "$@"; do
        case "$pkg" in
            prometheus) stop_new_service prometheus; stop_new_service prometheus-node-exporter ;;
            prometheus-alertmanager) stop_new_service prometheus-alertmanager ;;
            openssh-server) stop_new_service ssh ;;
        esac
    done
}

stop_new_service() {
    as_root systemctl disable --now "$1" >/dev/null 2>&1 || true
}

monitoring_packages() {
    command -v prometheus >/dev/null || echo prometheus
    command -v prometheus-alertmanager >/dev/null || echo prometheus-alertmanager
}

ensure_demo_packages() {
    # Best effort: the demo runs without them, but then shows no alerts.
    # shellcheck disable=SC2046
    install_missing $(monitoring_packages) || echo "the demo will run without Prometheus" >&2
}

ensure_system_packages() {
    local missing=()
    # shellcheck disable=SC2207
    missing+=($(monitoring_packages))
    [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null || missing+=(openssh-server)
    command -v tmux >/dev/null || missing+=(tmux)
    command -v openssl >/dev/null || missing+=(openssl)  # exporter TLS test certificates
    command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)  # gc-log tests compile Java
    # the web panel tests drive Debian's Chromium through its chromedriver (no browser download)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    # deploy install tests: a disposable Debian root per lab host, keys made and checked by gpg
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    command -v gpg >/dev/null || missing+=(gpg)
    install_missing "${missing[@]}" \
        || echo "tests that need them will be skipped (or fail under CI=true)" >&2
}

case "${1:-}" in
    demo)
        shift
        ensure_python
        ensure_demo_packages
        exec "$VENV/bin/rackpanel" demo "$@"
        ;;
    test)
        shift
        ensure_python
        say "ruff (lint)"
        "$VENV/bin/ruff" check .
        if [ "${1:-}" = "--fast" ]; then
            # the local loop: no slow tests and none that start real servers
            shift
            say "running the fast tests (not slow, not live)"
            exec "$VENV/bin/python" -m pytest -m "not slow and not live" "$@"
        fi
        ensure_system_packages
        say "running the test suite"
        # Most tests wait on real servers, gossip and timers rather than compute: three
        # workers on two cores halve the wall time. One module per worker at a time
        # (loadfile), so module-scoped stacks (simulator, sshd fleet, Prometheus) stay whole.
        exec "$VENV/bin/python" -m pytest -n 3 --dist loadfile "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo [rackpanel demo options] | ./dev.sh test [--fast] [pytest options]" >&2
        exit 2
        ;;
esac
