"""What the hvac scripts share: each call's response (or the exception hvac raised) kept by name."""
import hvac

out = {}


def call(name, fn):
    try:
        r = fn()
        out[name] = r if isinstance(r, (dict, list)) or r is None else {"status": getattr(r, "status_code", None)}
    except hvac.exceptions.VaultError as e:
        out[name] = {"exception": type(e).__name__, "message": str(e)}
    return out[name]
