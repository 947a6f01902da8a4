"""Builds sipregd configuration files for the integration tests."""


def line(id_, user, registrar, password=None, **extra):
    """One entry of `lines:` as YAML text. `extra` keys are written as `key: value`."""
    text = f"  - id: {id_}\n    registrar: {registrar}\n    aor: sip:{user}@sipreg.test\n"
    if password is not None:
        text += f"    auth: {{ password: \"{password}\" }}\n"
    for key, value in extra.items():
        text += f"    {key}: {value}\n"
    return text


def config(lines, *, expires=60, max_rate=200, start_spread="0s", retry="{ base: 2s, max: 20s }",
           failed_retry="10m", shutdown_timeout="5s", extra_global=""):
    return (f"listen: {{ address: 127.0.0.1, port: 0 }}\n"
            f"max_rate: {max_rate}\n"
            f"start_spread: {start_spread}\n"
            f"shutdown_timeout: {shutdown_timeout}\n"
            f"{extra_global}"
            f"defaults:\n"
            f"  expires: {expires}\n"
            f"  retry: {retry}\n"
            f"  failed_retry: {failed_retry}\n"
            f"lines:\n" + "".join(lines))
