#!/usr/bin/env bash
# The project's only bootstrap. On a fresh Debian/Ubuntu machine:
#   ./dev.sh demo   - set up, then run the embedded demo (`rackpanel demo`)
#   ./dev.sh test   - set up, then run the whole test suite
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
}

ensure_system_packages() {
    local missing=()
    command -v prometheus >/dev/null || missing+=(prometheus)
    command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
    [ -x /usr/sbin/sshd ] || command -v sshd >/dev/null || missing+=(openssh-server)
    command -v tmux >/dev/null || missing+=(tmux)
    command -v openssl >/dev/null || missing+=(openssl)  # exporter TLS test certificates
    command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)  # gc-log tests compile Java
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    if ! apt_install "${missing[@]}"; then
        echo "could not install ${missing[*]} (needs root or passwordless sudo and apt);" \
             "tests that need them will be skipped (or fail under CI=true)" >&2
    fi
    # The packages' own services are never relied on: the tests start the binaries themselves.
    for svc in prometheus prometheus-alertmanager prometheus-node-exporter ssh; do
        as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
    done
}

case "${1:-}" in
    demo)
        shift
        ensure_python
        exec "$VENV/bin/rackpanel" demo "$@"
        ;;
    test)
        shift
        ensure_python
        ensure_system_packages
        say "running the test suite"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo [rackpanel demo options] | ./dev.sh test [pytest options]" >&2
        exit 2
        ;;
esac
