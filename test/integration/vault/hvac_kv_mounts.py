"""Drives two KV v2 mounts, subkeys and the mount table with Debian's python3-hvac, unchanged."""
import json
import sys

import hvac
from hvac_calls import call, out

url, token = sys.argv[1], sys.argv[2]
client = hvac.Client(url=url, token=token)
kv = client.secrets.kv.v2

call("put_secret", lambda: kv.create_or_update_secret("app/db", {"password": "one"}))
call("put_team", lambda: kv.create_or_update_secret("app/db", {"password": "two", "db": {"host": "h"}}, mount_point="team"))
call("read_secret", lambda: kv.read_secret_version("app/db"))
call("read_team", lambda: kv.read_secret_version("app/db", mount_point="team"))
call("list_team", lambda: kv.list_secrets("app", mount_point="team"))
call("read_other", lambda: kv.read_secret_version("app/db", mount_point="other"))
call("subkeys", lambda: client.read("team/subkeys/app/db"))
call("subkeys_depth", lambda: client.adapter.get("/v1/team/subkeys/app/db", params={"depth": 1}))
call("mounts", lambda: client.sys.list_mounted_secrets_engines())
call("ui_mount", lambda: client.adapter.get("/v1/sys/internal/ui/mounts/team/app/db"))
print(json.dumps(out))
