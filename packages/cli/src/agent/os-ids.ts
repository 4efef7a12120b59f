/**
 * User and group names to numeric ids, from /etc/passwd and /etc/group (Node has no getpwnam). A
 * numeric id is taken as is, which also covers users known only to NSS (LDAP, systemd DynamicUser).
 */
import { readFile } from "node:fs/promises";

async function lookup(file: string, name: string, what: string): Promise<number> {
  if (/^[0-9]+$/.test(name)) return Number(name);
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [n, , id] = line.split(":");
    if (n === name && id !== undefined) return Number(id);
  }
  throw new Error(`unknown ${what} "${name}" (not in ${file}; give a numeric id)`);
}

export const userId = (name: string) => lookup("/etc/passwd", name, "user");
export const groupId = (name: string) => lookup("/etc/group", name, "group");
