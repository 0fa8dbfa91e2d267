"""Service actions on a host: systemd on the Pis, or a recording command in tests."""

from __future__ import annotations

import shlex

from rackpanel.deploy.files import Action

SYSTEMD = {
    "daemon-reload": "systemctl daemon-reload",
    "enable": "systemctl enable {target}",
    "restart": "systemctl restart {target}",
    "set-hostname": "hostnamectl set-hostname {target}",
}


def action_command(service_manager: str, host_name: str, action: Action) -> str:
    """The shell command performing ``action``.

    ``service_manager`` is ``systemd`` or a command (``{host}`` = the host's name) that is
    called with the verb and the target as arguments, e.g. ``record.sh restart cassandra``.
    """
    target = shlex.quote(action.target) if action.target else ""
    if service_manager == "systemd":
        return SYSTEMD[action.verb].format(target=target).strip()
    command = service_manager.format(host=host_name)
    return f"{command} {shlex.quote(action.verb)} {target}".strip()
