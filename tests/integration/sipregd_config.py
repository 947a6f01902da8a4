"""Builds sipregd configuration files for the integration tests."""
import json
import re

_PLAIN = re.compile(r"^[A-Za-z0-9_./@+-][A-Za-z0-9_.:/;=@+-]*$")


def yaml_value(value, in_flow=False):
    """`value` as YAML flow text: dicts as `{ k: v }`, lists as `[a, b]`, booleans as
    true/false, strings plain when that is unambiguous and double-quoted otherwise (a
    `[::1]` registrar would otherwise read as a list). Inside a flow collection a colon
    is quoted too, so "127.0.0.1:5353" cannot be misread as a key."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {yaml_value(v, True)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v, True) for v in value) + "]"
    text = str(value)
    ambiguous = text.lower() in ("true", "false", "yes", "no", "on", "off", "null", "~")
    if _PLAIN.match(text) and not (in_flow and ":" in text) and not ambiguous:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def tls_settings(ca_file=None, *, verify=None, server_name=None, cert_file=None, key_file=None,
                 ca_path=None, ciphers=None):
    """The `tls:` map of a line (only the keys given)."""
    out = {}
    for key, value in (("ca_file", ca_file), ("ca_path", ca_path), ("verify", verify),
                       ("server_name", server_name), ("cert_file", cert_file), ("key_file", key_file),
                       ("ciphers", ciphers)):
        if value is not None:
            out[key] = value
    return out


def line(id_, user, registrar, password=None, *, transport=None, tls=None, outbound_proxy=None,
         domain="sipreg.test", **extra):
    """One entry of `lines:` as YAML text. `transport` (udp|tcp|tls), `tls` (a dict, see
    tls_settings()) and `outbound_proxy` are written when given; `extra` keys are
    written as `key: value` (dicts and lists in flow style)."""
    text = f"  - id: {id_}\n    registrar: {yaml_value(registrar)}\n    aor: sip:{user}@{domain}\n"
    if password is not None:
        text += f"    auth: {{ password: \"{password}\" }}\n"
    if transport is not None:
        text += f"    transport: {transport}\n"
    if tls is not None:
        text += f"    tls: {yaml_value(tls)}\n"
    if outbound_proxy is not None:
        text += f"    outbound_proxy: {yaml_value(outbound_proxy)}\n"
    for key, value in extra.items():
        text += f"    {key}: {value if isinstance(value, str) else yaml_value(value)}\n"
    return text


def config(lines, *, expires=60, max_rate=200, start_spread="0s", retry="{ base: 2s, max: 20s }",
           failed_retry="10m", shutdown_timeout="5s", extra_global="", listen=None, dns_servers=None,
           defaults_extra=None, on_change=None, metrics=None, control=None):
    """A whole file. `listen`: a list of (address, port) pairs (default 127.0.0.1, any
    port); `dns_servers`: strings such as "127.0.0.1:5353" for the global `dns:`;
    `defaults_extra`: more `defaults:` keys (values as in line()); `on_change`: the
    command's argv as a list, or a dict with `command` and `timeout`; `metrics`: the
    address the Prometheus endpoint listens on, such as "127.0.0.1:9560"; `control`: the
    control socket's path, or a dict with `socket` and `mode` (such as "0660")."""
    if listen is None:
        listen_text = "listen: { address: 127.0.0.1, port: 0 }\n"
    else:
        listen_text = "listen:\n" + "".join(
            f"  - {{ address: {yaml_value(addr)}, port: {port} }}\n" for addr, port in listen)
    dns_text = f"dns: {{ servers: {yaml_value(list(dns_servers))} }}\n" if dns_servers is not None else ""
    if on_change is None:
        on_change_text = ""
    else:
        settings = on_change if isinstance(on_change, dict) else {"command": list(on_change)}
        on_change_text = f"on_change: {yaml_value(settings)}\n"
    metrics_text = f"metrics: {{ listen: {json.dumps(metrics)} }}\n" if metrics is not None else ""
    if control is None:
        control_text = ""
    else:
        control_settings = control if isinstance(control, dict) else {"socket": control}
        control_text = "control: { " + ", ".join(f"{k}: {json.dumps(str(v))}" for k, v in control_settings.items()) + " }\n"
    defaults_text = "".join(f"  {key}: {value if isinstance(value, str) else yaml_value(value)}\n"
                            for key, value in (defaults_extra or {}).items())
    return (listen_text +
            f"max_rate: {max_rate}\n"
            f"start_spread: {start_spread}\n"
            f"shutdown_timeout: {shutdown_timeout}\n"
            f"{dns_text}"
            f"{extra_global}"
            f"{on_change_text}"
            f"{metrics_text}"
            f"{control_text}"
            f"defaults:\n"
            f"  expires: {expires}\n"
            f"  retry: {retry}\n"
            f"  failed_retry: {failed_retry}\n"
            f"{defaults_text}"
            f"lines:\n" + "".join(lines))
