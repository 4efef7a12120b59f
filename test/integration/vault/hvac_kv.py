"""Drives Tessera's KV v2 with Debian's python3-hvac, unchanged; prints each call's result by name."""
import json
import sys

import hvac
from hvac_calls import call, out

url, token = sys.argv[1], sys.argv[2]
client = hvac.Client(url=url, token=token)
kv = client.secrets.kv.v2

call("put", lambda: kv.create_or_update_secret("app/db", {"username": "orders", "password": "first"}))
call("put_cas", lambda: kv.create_or_update_secret("app/db", {"username": "orders", "password": "second"}, cas=1))
call("put_stale_cas", lambda: kv.create_or_update_secret("app/db", {"password": "third"}, cas=1))
call("read", lambda: kv.read_secret_version("app/db"))
call("read_v1", lambda: kv.read_secret_version("app/db", version=1))
call("list", lambda: kv.list_secrets("app"))
call("metadata", lambda: kv.read_secret_metadata("app/db"))
call("update_metadata", lambda: kv.update_metadata("app/db", max_versions=5, cas_required=False))
call("delete_latest", lambda: kv.delete_latest_version_of_secret("app/db"))
call("read_deleted", lambda: kv.read_secret_version("app/db"))
call("undelete", lambda: kv.undelete_secret_versions("app/db", [2]))
call("read_undeleted", lambda: kv.read_secret_version("app/db"))
call("destroy", lambda: kv.destroy_secret_versions("app/db", [1]))
call("read_destroyed", lambda: kv.read_secret_version("app/db", version=1))
call("patch", lambda: kv.patch("app/db", {"port": "5432"}))
call("read_patched", lambda: kv.read_secret_version("app/db"))
call("configure", lambda: kv.configure(max_versions=20))
call("read_configuration", lambda: kv.read_configuration())
call("delete_all", lambda: kv.delete_metadata_and_all_versions("app/db"))
call("read_gone", lambda: kv.read_secret_version("app/db"))
call("native_written", lambda: kv.read_secret_version("from-native"))
print(json.dumps(out))
