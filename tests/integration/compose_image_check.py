#!/usr/bin/env python3
"""Checks docker-compose.yml against the server image (deploy/image): every service on the
Reliant image names one of the tags deploy/image/build.sh makes, runs a subcommand the image's
binary has, with flags that subcommand takes, publishes only ports that role listens on (its
--help defaults, or the port its flags or environment set) and publishes all of them but its
health port, and runs no healthcheck needing a program the image lacks (it holds nothing but
reliant).
  compose_image_check.py COMPOSE_FILE RELIANT_BINARY TAG...
RELIANT_BINARY is the binary the image is built from (rootfs.sh copies it, minus debug info)."""
import re
import subprocess
import sys

import yaml

IMAGE_BINARY = "/usr/local/bin/reliant"


def role_help(binary, path):
    """The --help text of `reliant PATH...`, or None when that subcommand does not exist."""
    run = subprocess.run([binary, *path, "--help"], capture_output=True, text=True)
    usage = f" {' '.join(path)} [OPTIONS]"
    if run.returncode != 0 or usage not in run.stdout:
        return None
    return run.stdout


def options(help_text):
    """Each option of a CLI11 help text: (its header line, its description)."""
    entries = []
    for line in help_text.splitlines():
        if re.match(r"^  -", line):
            entries.append([line.strip(), ""])
        elif entries and line.startswith("    "):
            entries[-1][1] += " " + line.strip()
    return entries


def listen_ports(help_text, args, env):
    """Ports the role listens on beyond loopback, as {port: flag}: each --*-port's default,
    unless the command's flags or the service's environment set another."""
    ports = {}
    for header, description in options(help_text):
        m = re.match(r"--([a-z-]+-port) INT=(\d+)(?: \(Env:(\w+)\))?", header)
        # A port it serves on ("listen port", the health "endpoint port"); not one it dials
        # (--temporal-port) nor its loopback-only debug server.
        serves = re.search(r"listen port|endpoint port", description)
        if not m or not serves or "127.0.0.1 only" in description:
            continue
        flag, port, var = "--" + m.group(1), m.group(2), m.group(3)
        if var and var in env:
            port = str(env[var])
        for i, arg in enumerate(args):
            if arg == flag and i + 1 < len(args):
                port = args[i + 1]
            elif arg.startswith(flag + "="):
                port = arg.split("=", 1)[1]
        ports[port] = flag
    return ports


def container_port(entry):
    """The container side of a compose `ports` entry: "8080", "8082:8080", "0.0.0.0:1:2/tcp"."""
    text = str(entry["target"]) if isinstance(entry, dict) else str(entry)
    return text.split("/")[0].split(":")[-1]


def check(compose_file, binary, tags):
    services = yaml.safe_load(open(compose_file))["services"]
    errors, checked = [], 0
    for name, service in services.items():
        image = service.get("image", "")
        if not re.match(r"^(localhost/)?reliant(:|$)", image):
            continue
        checked += 1
        if image not in tags:
            errors.append(f"{name}: image {image} is none of the build script's: {' '.join(tags)}")
        command = [str(a) for a in service.get("command", [])]
        first_flag = next((i for i, a in enumerate(command) if a.startswith("-")), len(command))
        path, rest = command[:first_flag], command[first_flag:]
        help_text = role_help(binary, path)
        if help_text is None:
            errors.append(f"{name}: `reliant {' '.join(path)}` is no subcommand of the image's binary")
            continue
        known = {f for header, _ in options(help_text) for f in header.split(" ")[0].split(",")}
        for flag in (a.split("=", 1)[0] for a in rest if a.startswith("-")):
            if flag not in known:
                errors.append(f"{name}: `reliant {' '.join(path)}` takes no {flag}")
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        listening = listen_ports(help_text, command, env)
        published = {container_port(entry) for entry in service.get("ports", [])}
        for entry in service.get("ports", []):
            if container_port(entry) not in listening:
                errors.append(
                    f"{name}: publishes {entry}, but `reliant {' '.join(path)}` listens on "
                    f"{', '.join(sorted(listening)) or 'no port'}"
                )
        # Clients reach every port but the health port (that one is for probes on the network).
        for port, flag in listening.items():
            if flag != "--health-port" and port not in published:
                errors.append(f"{name}: does not publish {port} ({flag})")
        test = (service.get("healthcheck") or {}).get("test")
        if test and not service["healthcheck"].get("disable"):
            argv = test[1:] if isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") else test
            shell = isinstance(test, str) or test[0] == "CMD-SHELL"
            if shell or argv[0] != IMAGE_BINARY:
                errors.append(f"{name}: healthcheck {test} needs a program the image lacks")
    if checked == 0:
        errors.append(f"no service uses the image ({' '.join(tags)})")
    return errors, checked


def main():
    compose_file, binary, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
    errors, checked = check(compose_file, binary, tags)
    for error in errors:
        print(f"FAIL: {error}")
    if errors:
        sys.exit(1)
    print(
        f"compose: {checked} services on {' '.join(tags)} run subcommands of the image's binary"
        " and publish its roles' ports"
    )


if __name__ == "__main__":
    main()
